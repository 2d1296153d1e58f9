// Contacts end-to-end tests (issue 3, SPEC §6): create / upsert by
// externalId, PATCH, DELETE, validation, search, cursor pagination, scopes,
// Idempotency-Key, tenant isolation, and the audit entry + outbox event of
// every write. Each describe block has its own deployment; every response is
// validated against api/openapi.yaml by Api.call.
//
// The store is read directly (sqlite3 / psql) only to check what the API
// cannot show: audit rows and outbox events.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Api, assertError } from './lib/api.mjs';
import { Deployment, IS_PG, uniq } from './lib/server.mjs';

const BASE = '/api/server/contacts';
const CONTACT_KEYS = ['company', 'createdAt', 'email', 'externalId', 'id', 'name', 'notes',
  'phone', 'tags', 'updatedAt'];
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Keys in these tests make hundreds of requests; the default bucket (burst
// 200) would turn some of them into 429s.
const FAST = { rateLimit: 100000, burst: 100000 };

/** Deployment + one node + Api + a fresh tenant with a fast all-scope key. */
function useDeployment(label) {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create(label);
    ctx.node = await ctx.dep.startNode();
    ctx.api = new Api(ctx.node);
    ctx.tenant = await ctx.dep.createTenant({ country: 'ID' });
    ctx.key = (await ctx.dep.createKey(ctx.tenant.slug, FAST)).secret;
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });
  ctx.post = (json, opts = {}) => ctx.api.call('POST', BASE, { key: ctx.key, json, ...opts });
  ctx.patch = (id, json, opts = {}) =>
    ctx.api.call('PATCH', `${BASE}/${id}`, { key: ctx.key, json, ...opts });
  ctx.get = (id, opts = {}) => ctx.api.get(`${BASE}/${id}`, { key: ctx.key, ...opts });
  ctx.del = (id, opts = {}) => ctx.api.call('DELETE', `${BASE}/${id}`, { key: ctx.key, ...opts });
  ctx.list = (query = '', opts = {}) => ctx.api.get(`${BASE}${query}`, { key: ctx.key, ...opts });
  return ctx;
}

/** Runs one SQL query against the deployment's store; rows as arrays of text. */
function sql(dep, query) {
  const [cmd, args] = IS_PG
    ? ['psql', [dep.databaseUrl, '-X', '-qAt', '-F', '\t', '-c', query]]
    : ['sqlite3', ['-separator', '\t', dep.databaseUrl, query]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${stderr || err.message}`));
      else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
    });
  });
}

/** Every contact of the list (following cursors), newest first. */
async function walk(ctx, { search, limit = 100, key = ctx.key } = {}) {
  const seen = [];
  let cursor = null;
  for (let pages = 0; pages < 10000; pages++) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (search !== undefined) q.set('search', search);
    if (cursor) q.set('cursor', cursor);
    const res = await ctx.api.get(`${BASE}?${q}`, { key, expect: 200 });
    seen.push(...res.json.data);
    cursor = res.json.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('the walk did not end');
}

const ids = (contacts) => contacts.map((c) => c.id);
const sorted = (a) => [...a].sort();

function assertDetails(res, expected) {
  assertError(res, 400, 'SERVER_CONTACT_VALIDATION_FAILED');
  assert.deepEqual(res.json.error.details, expected.map(([field, issue]) => ({ field, issue })));
}

describe('Contacts: create, read and upsert by externalId', () => {
  const ctx = useDeployment('ct-create');

  it('POST creates (201) with normalised fields; GET returns the same contact', async () => {
    const res = await ctx.post({
      externalId: 'crm-1', name: '  Budi Santoso ', phone: '+62 812-3456-789',
      email: 'Budi.Santoso@Example.CO.ID', company: 'PT Sentosa', tags: [' vip ', 'VIP', 'gold'],
      notes: 'Line one\nLine two\tand a tab',
    }, { expect: 201 });
    const c = res.json;
    assert.deepEqual(sorted(Object.keys(c)), CONTACT_KEYS);
    assert.match(c.id, /^ct_[0-9a-z]{26}$/);
    assert.deepEqual({ ...c, id: null, createdAt: null, updatedAt: null }, {
      id: null, externalId: 'crm-1', name: 'Budi Santoso', phone: '+628123456789',
      email: 'Budi.Santoso@example.co.id', company: 'PT Sentosa', tags: ['vip', 'gold'],
      notes: 'Line one\nLine two\tand a tab', createdAt: null, updatedAt: null,
    });
    assert.match(c.createdAt, TS_RE);
    assert.equal(c.updatedAt, c.createdAt);
    const got = await ctx.get(c.id, { expect: 200 });
    assert.deepEqual(got.json, c);
  });

  it('a local number uses the tenant country: 0812-3456-789 is +628123456789 in ID', async () => {
    for (const phone of ['0812-3456-789', '(0812) 3456 789', '+62 812 3456 789', '+628123456789']) {
      const res = await ctx.post({ phone }, { expect: 201 });
      assert.equal(res.json.phone, '+628123456789', phone);
    }
    const us = await ctx.dep.createTenant({ country: 'US' });
    const usKey = (await ctx.dep.createKey(us.slug, FAST)).secret;
    const local = await ctx.api.call('POST', BASE,
      { key: usKey, json: { phone: '(201) 555-0123' } });
    assert.equal(local.status, 201, local.text);
    assert.equal(local.json.phone, '+12015550123');
    const indo = await ctx.api.call('POST', BASE, { key: usKey, json: { phone: '0812-3456-789' } });
    assertDetails(indo, [['phone', 'invalid_format']]);
  });

  it('POST with a known externalId updates that contact (200): sent fields only', async () => {
    const first = (await ctx.post({ externalId: 'crm-2', name: 'Siti', email: 'siti@example.com',
      tags: ['a'], notes: 'keep me' }, { expect: 201 })).json;
    const res = await ctx.post({ externalId: 'crm-2', name: 'Siti Rahma', email: null,
      company: 'PT Abadi' }, { expect: 200 });
    assert.deepEqual({ ...res.json, updatedAt: null }, {
      ...first, name: 'Siti Rahma', email: null, company: 'PT Abadi', updatedAt: null,
    });
    assert.ok(res.json.updatedAt >= first.updatedAt);
    assert.deepEqual((await ctx.get(first.id, { expect: 200 })).json, res.json);
  });

  it('an upsert that changes nothing answers 200 and keeps updatedAt', async () => {
    const body = { externalId: `same-${uniq()}`, name: 'Same Same', tags: ['x'] };
    const first = (await ctx.post(body, { expect: 201 })).json;
    await new Promise((r) => setTimeout(r, 5));
    const again = (await ctx.post(body, { expect: 200 })).json;
    assert.deepEqual(again, first);
  });

  it('POST without externalId always creates', async () => {
    const a = (await ctx.post({ name: 'Twin' }, { expect: 201 })).json;
    const b = (await ctx.post({ name: 'Twin' }, { expect: 201 })).json;
    assert.notEqual(a.id, b.id);
  });

  it('50 concurrent POSTs of one new externalId leave exactly one contact', async () => {
    const ext = `race-${uniq()}`;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      ctx.post({ externalId: ext, name: 'Racer', notes: `attempt ${i % 2}` })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses ${statuses}`);
    assert.equal(statuses.filter((s) => s === 200).length, 49, `statuses ${statuses}`);
    assert.equal(new Set(results.map((r) => r.json.id)).size, 1, 'one id for all fifty');
    const found = await walk(ctx, { search: ext });
    assert.equal(found.length, 1);
    const rows = await sql(ctx.dep, `SELECT COUNT(*) FROM contacts WHERE external_id = '${ext}'`);
    assert.equal(rows[0][0], '1');
  });

  it('two tenants use the same externalId independently', async () => {
    const other = await ctx.dep.createTenant({ country: 'ID' });
    const otherKey = (await ctx.dep.createKey(other.slug, FAST)).secret;
    const ext = `shared-${uniq()}`;
    const a = await ctx.post({ externalId: ext, name: 'In A' }, { expect: 201 });
    const b = await ctx.api.call('POST', BASE,
      { key: otherKey, json: { externalId: ext, name: 'In B' }, expect: 201 });
    assert.notEqual(a.json.id, b.json.id);
    const a2 = await ctx.post({ externalId: ext, name: 'In A again' }, { expect: 200 });
    assert.equal(a2.json.id, a.json.id);
    const bNow = await ctx.api.get(`${BASE}/${b.json.id}`, { key: otherKey, expect: 200 });
    assert.equal(bNow.json.name, 'In B');
  });
});

describe('Contacts: PATCH and DELETE', () => {
  const ctx = useDeployment('ct-patch');

  it('PATCH changes only the fields sent; null clears', async () => {
    const c = (await ctx.post({ externalId: 'p-1', name: 'Agus', phone: '08123456789',
      email: 'agus@example.com', company: 'PT Jaya', tags: ['t1', 't2'], notes: 'n' },
    { expect: 201 })).json;
    const res = await ctx.patch(c.id, { company: null, tags: ['t3'], name: 'Agus W' },
      { expect: 200 });
    assert.deepEqual({ ...res.json, updatedAt: null },
      { ...c, company: null, tags: ['t3'], name: 'Agus W', updatedAt: null });
    const cleared = await ctx.patch(c.id, { tags: null, notes: null }, { expect: 200 });
    assert.deepEqual(cleared.json.tags, []);
    assert.equal(cleared.json.notes, null);
    assert.equal(cleared.json.createdAt, c.createdAt);
    assert.deepEqual((await ctx.get(c.id, { expect: 200 })).json, cleared.json);
  });

  it('PATCH {} changes nothing and answers the contact', async () => {
    const c = (await ctx.post({ name: 'Nothing' }, { expect: 201 })).json;
    assert.deepEqual((await ctx.patch(c.id, {}, { expect: 200 })).json, c);
  });

  it('taking an externalId another contact holds is 409 SERVER_CONTACT_CONFLICT', async () => {
    const a = (await ctx.post({ externalId: 'holder', name: 'A' }, { expect: 201 })).json;
    const b = (await ctx.post({ externalId: 'other', name: 'B' }, { expect: 201 })).json;
    assertError(await ctx.patch(b.id, { externalId: 'holder' }), 409, 'SERVER_CONTACT_CONFLICT');
    assert.deepEqual((await ctx.get(b.id, { expect: 200 })).json, b, 'b unchanged');
    await ctx.patch(a.id, { externalId: 'holder', name: 'A2' }, { expect: 200 });
    const moved = await ctx.patch(b.id, { externalId: 'fresh' }, { expect: 200 });
    assert.equal(moved.json.externalId, 'fresh');
    const released = await ctx.patch(a.id, { externalId: null }, { expect: 200 });
    assert.equal(released.json.externalId, null);
    await ctx.patch(b.id, { externalId: 'holder' }, { expect: 200 });
  });

  it('a PATCH leaving no identifying field is 400 with {contact, required}', async () => {
    const c = (await ctx.post({ name: 'Only name', company: 'X' }, { expect: 201 })).json;
    assertDetails(await ctx.patch(c.id, { name: null }), [['contact', 'required']]);
    assertDetails(await ctx.patch(c.id, { name: '   ' }), [['contact', 'required']]);
    assert.deepEqual((await ctx.get(c.id, { expect: 200 })).json, c);
  });

  it('DELETE answers 204, then the id is 404 everywhere', async () => {
    const c = (await ctx.post({ name: 'Gone soon', externalId: 'gone' }, { expect: 201 })).json;
    await ctx.del(c.id, { expect: 204 });
    assertError(await ctx.get(c.id), 404, 'SERVER_CONTACT_NOT_FOUND');
    assertError(await ctx.patch(c.id, { name: 'x' }), 404, 'SERVER_CONTACT_NOT_FOUND');
    assertError(await ctx.del(c.id), 404, 'SERVER_CONTACT_NOT_FOUND');
    const again = await ctx.post({ externalId: 'gone', name: 'Back' }, { expect: 201 });
    assert.notEqual(again.json.id, c.id, 'the externalId is free again');
  });

  it('unknown and malformed ids are 404 SERVER_CONTACT_NOT_FOUND', async () => {
    const unknown = 'ct_01jd3b7y0q8m2v5k7w9x1z3a4b';
    for (const id of [unknown, 'nope', 'ct_', 'ten_01jd3b7y0q8m2v5k7w9x1z3a4b', `${unknown}x`,
      'ct_01JD3B7Y0Q8M2V5K7W9X1Z3A4B', '%27%20OR%201%3D1']) {
      assertError(await ctx.get(id), 404, 'SERVER_CONTACT_NOT_FOUND');
      assertError(await ctx.patch(id, { name: 'x' }), 404, 'SERVER_CONTACT_NOT_FOUND');
      assertError(await ctx.del(id), 404, 'SERVER_CONTACT_NOT_FOUND');
    }
  });
});

describe('Contacts: audit entries and outbox events', () => {
  const ctx = useDeployment('ct-events');

  it('each write adds one audit entry and one event carrying the contact', async () => {
    // Ids sort by millisecond, then randomly: space the writes apart.
    const pause = () => new Promise((r) => setTimeout(r, 3));
    const created = (await ctx.post({ externalId: 'ev-1', name: 'Evented', email: 'e@example.com' },
      { expect: 201 })).json;
    await pause();
    const updated = (await ctx.patch(created.id, { name: 'Evented 2' }, { expect: 200 })).json;
    await pause();
    await ctx.post({ externalId: 'ev-1', name: 'Evented 2' }, { expect: 200 }); // no change
    const upserted = (await ctx.post({ externalId: 'ev-1', company: 'PT E' },
      { expect: 200 })).json;
    await pause();
    await ctx.del(created.id, { expect: 204 });
    await ctx.patch(created.id, { name: 'x' }); // 404: no entry
    assertDetails(await ctx.post({ name: 'x', email: 'bad' }), [['email', 'invalid_format']]);

    const tid = ctx.tenant.id;
    const audit = await sql(ctx.dep, `SELECT action, target, details, actor FROM audit_log
      WHERE tenant_id = '${tid}' AND action LIKE 'contact.%' ORDER BY id`);
    assert.deepEqual(audit.map((r) => r.slice(0, 3)), [
      ['contact.created', created.id, '{"fields":["externalId","name","email"]}'],
      ['contact.updated', created.id, '{"fields":["name"]}'],
      ['contact.updated', created.id, '{"fields":["externalId","company"]}'],
      ['contact.deleted', created.id, ''],
    ]);
    assert.ok(audit.every((r) => r[3].startsWith('key_')), 'the actor is the key id');
    const events = await sql(ctx.dep, `SELECT type, payload FROM events
      WHERE tenant_id = '${tid}' ORDER BY id`);
    assert.deepEqual(events.map((e) => e[0]),
      ['contact.created', 'contact.updated', 'contact.updated', 'contact.deleted']);
    const payloads = events.map((e) => JSON.parse(e[1]));
    payloads.forEach((p, i) => {
      assert.match(p.id, /^evt_/);
      assert.equal(p.tenantId, tid);
      assert.equal(p.type, events[i][0]);
      assert.match(p.createdAt, TS_RE);
    });
    assert.deepEqual(payloads.map((p) => p.data), [created, updated, upserted, upserted]);
  });

  it('a refused write leaves no audit entry, no event and no contact', async () => {
    const count = async () => (await sql(ctx.dep,
      `SELECT (SELECT COUNT(*) FROM contacts) + (SELECT COUNT(*) FROM events)
        + (SELECT COUNT(*) FROM audit_log WHERE action LIKE 'contact.%')`))[0][0];
    const before = await count();
    await ctx.post({ name: 'x'.repeat(201) });
    await ctx.post({}, { headers: { 'Content-Type': 'application/json' } });
    await ctx.api.call('POST', BASE, { key: ctx.key,
      headers: { 'Content-Type': 'application/json' }, body: '{"name":"a","name":"b"}' });
    assert.equal(await count(), before);
  });
});

describe('Contacts: validation', () => {
  const ctx = useDeployment('ct-valid');

  it('one details entry per bad field, unknown and read-only fields named', async () => {
    const res = await ctx.post({
      nickname: 'x', id: 'ct_x', createdAt: 'now', externalId: ' padded', name: 42,
      phone: '0812-CALL-ME', email: 'no-at-sign', company: ['PT'], tags: 'vip', notes: false,
    });
    assertDetails(res, [
      ['nickname', 'unknown_field'], ['id', 'read_only'], ['createdAt', 'read_only'],
      ['externalId', 'invalid_format'], ['name', 'must_be_string'], ['phone', 'invalid_format'],
      ['email', 'invalid_format'], ['company', 'must_be_string'], ['tags', 'must_be_array'],
      ['notes', 'must_be_string'],
    ]);
  });

  it('at least one of name, phone, email, externalId', async () => {
    for (const body of [{}, { company: 'PT Only', tags: ['t'], notes: 'n' },
      { name: null, phone: null }, { name: '   ', company: 'X' }]) {
      assertDetails(await ctx.post(body), [['contact', 'required']]);
    }
    for (const body of [{ name: 'N' }, { phone: '08123456789' }, { email: 'a@example.com' },
      { externalId: `only-${uniq()}` }]) {
      await ctx.post(body, { expect: 201 });
    }
  });

  it('phones: letters, impossible numbers and extensions are refused', async () => {
    for (const phone of ['abc', '0812-3456-789x', '+62 1', '+1 000 000 0000', '12',
      '+628123456789 ext 12', '+62 812 3456 789 #1', '', '1-800-FLOWERS']) {
      assertDetails(await ctx.post({ name: 'P', phone }), [['phone', 'invalid_format']]);
    }
    assertDetails(await ctx.post({ name: 'P', phone: '1'.repeat(65) }), [['phone', 'too_long']]);
  });

  it('emails: syntax checked, domain lower-cased, local part kept', async () => {
    const ok = await ctx.post({ email: '  Mixed.Case+tag@MAIL.Example.COM ' }, { expect: 201 });
    assert.equal(ok.json.email, 'Mixed.Case+tag@mail.example.com');
    for (const email of ['plain', 'a@b', '@example.com', 'a@@example.com', 'a b@example.com',
      'a@example..com', 'a@-example.com', '']) {
      assertDetails(await ctx.post({ name: 'E', email }), [['email', 'invalid_format']]);
    }
    const long = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`;
    assertDetails(await ctx.post({ name: 'E', email: long }), [['email', 'too_long']]);
  });

  it('tags: trimmed, deduplicated ignoring case, at most 50 of at most 64 characters', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `tag${i}`);
    const dupes = [...fifty, 'TAG1', ' tag2 ', 'Tag3'];
    const ok = await ctx.post({ name: 'T', tags: dupes }, { expect: 201 });
    assert.deepEqual(ok.json.tags, fifty);
    assertDetails(await ctx.post({ name: 'T', tags: [...fifty, 'tag50'] }), [['tags', 'too_many']]);
    const ü = 'ü'.repeat(64);
    assert.deepEqual((await ctx.post({ name: 'T', tags: [ü] }, { expect: 201 })).json.tags, [ü]);
    assertDetails(await ctx.post({ name: 'T', tags: ['ok', `${ü}ü`, 7, '  ', 'a\tb'] }), [
      ['tags[1]', 'too_long'], ['tags[2]', 'must_be_string'], ['tags[3]', 'invalid_format'],
      ['tags[4]', 'control_characters'],
    ]);
    const uniCase = await ctx.post(
      { name: 'T', tags: ['Élan', 'éLAN', 'ΑΘΗΝΑ', 'αθηνα'] }, { expect: 201 });
    assert.deepEqual(uniCase.json.tags, ['Élan', 'ΑΘΗΝΑ']);
  });

  it('lengths count characters, not bytes (name, company 200, notes 10 000, externalId 255)',
    async () => {
    const cases = [['name', 200], ['company', 200], ['notes', 10000], ['externalId', 255]];
    for (const [field, max] of cases) {
      for (const ch of ['a', 'é', '中', '😀']) {
        const fits = ch.repeat(max);
        const res = await ctx.post({ name: 'L', [field]: fits });
        assert.equal(res.status, 201, `${field} of ${max} x ${ch}: ${res.text.slice(0, 200)}`);
        assert.equal(res.json[field], fits);
        assertDetails(await ctx.post({ name: 'L', [field]: fits + ch }), [[field, 'too_long']]);
      }
    }
  });

  it('control characters are refused; notes allow newline and tab only', async () => {
    for (const [field, value] of [['name', 'a\nb'], ['name', 'a\tb'], ['company', 'x\u0007'],
      ['name', 'del\u007f'], ['name', 'c1\u0085'], ['notes', 'cr\r\nlf'], ['notes', 'bell\u0007'],
      ['externalId', 'id\n1'], ['notes', 'esc\u001b[0m']]) {
      assertDetails(await ctx.post({ name: 'C', [field]: value }), [[field, 'control_characters']]);
    }
    const ok = await ctx.post({ name: 'C', notes: 'a\nb\tc' }, { expect: 201 });
    assert.equal(ok.json.notes, 'a\nb\tc');
  });

  it('hostile bodies: bad UTF-8, NUL, duplicate keys, depth 33 are 400 and change nothing',
    async () => {
    const before = (await walk(ctx)).length;
    const raw = (body) => ctx.api.call('POST', BASE, { key: ctx.key,
      headers: { 'Content-Type': 'application/json' }, body });
    const bodies = [
      Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
        Buffer.from('"}')]),
      '{"name":"nul\\u0000byte"}',
      Buffer.from('{"name":"raw nul \u0000 byte"}'),
      '{"name":"a","name":"b"}',
      '{"name":"a","tags":["x"],"tags":["y"]}',
      `{"name":"deep","notes":${'['.repeat(32)}${']'.repeat(32)}}`,
    ];
    for (const body of bodies) {
      assertError(await raw(body), 400, 'SERVER_REQUEST_INVALID_JSON');
    }
    // 32 levels parse (the object is level 1), so the field check answers.
    const deep31 = `{"name":"deep","notes":${'['.repeat(31)}${']'.repeat(31)}}`;
    assertDetails(await raw(deep31), [['notes', 'must_be_string']]);
    assert.equal((await walk(ctx)).length, before, 'nothing was created');
  });

  it('PATCH validates the same way', async () => {
    const c = (await ctx.post({ name: 'V' }, { expect: 201 })).json;
    assertDetails(await ctx.patch(c.id, { phone: 'x', bogus: 1, updatedAt: 'x' }),
      [['bogus', 'unknown_field'], ['updatedAt', 'read_only'], ['phone', 'invalid_format']]);
    assert.deepEqual((await ctx.get(c.id, { expect: 200 })).json, c);
  });

  it('limit must be a plain integer 1..100', async () => {
    for (const limit of ['1e2', '10abc', '0', '101', '-1', '', '99999999999999999999', ' 5',
      '5.0', '0x10', '+5']) {
      const res = await ctx.list(`?limit=${encodeURIComponent(limit)}`);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.equal(res.json.error.details[0].field, 'limit');
    }
    for (let i = 0; i < 3; i++) await ctx.post({ name: `lim ${i}` }, { expect: 201 });
    assert.equal((await ctx.list('?limit=1', { expect: 200 })).json.data.length, 1);
    assert.equal((await ctx.list('?limit=100', { expect: 200 })).json.data.length > 3, true);
  });
});

describe('Contacts: search', () => {
  const ctx = useDeployment('ct-search');
  const made = {};

  before(async () => {
    const people = {
      budi: { name: 'Budi Santoso', email: 'budi@bank.example', phone: '+62 812-3456-789' },
      siti: { name: 'Siti Rahma', email: 'siti@Telco.Example', company: 'PT Telco Nusantara' },
      ext: { externalId: 'CRM-00042-XYZ', name: 'External Only' },
      percent: { name: '100% Real' },
      plain: { name: '100 Real' },
      under: { name: 'a_b Under' },
      nounder: { name: 'axb Under' },
      slash: { name: 'back\\slash' },
      noslash: { name: 'backslash' },
      elodie: { name: 'Élodie Durand' },
      cjk: { name: '中文名字 王' },
      emoji: { name: '😀 Smiley Face' },
      greek: { name: 'ΑΘΗΝΑ Papadopoulou' },
      quote: { name: 'He said "hi"' },
    };
    for (const [k, body] of Object.entries(people)) {
      made[k] = (await ctx.post(body, { expect: 201 })).json;
    }
  });

  const found = async (search) => ids(await walk(ctx, { search }));

  it('is a case-insensitive substring over name, email, company, externalId, phone', async () => {
    assert.deepEqual(await found('budi'), [made.budi.id]);
    assert.deepEqual(await found('BUDI SAN'), [made.budi.id]);
    assert.deepEqual(await found('@bank.exa'), [made.budi.id]);
    assert.deepEqual(await found('telco nus'), [made.siti.id]);
    assert.deepEqual(await found('telco.example'), [made.siti.id]);
    assert.deepEqual(await found('crm-00042'), [made.ext.id]);
    assert.deepEqual(await found('0042-x'), [made.ext.id]);
    assert.deepEqual(await found('812345'), [made.budi.id]);
    assert.deepEqual(await found('+62812'), [made.budi.id]);
    assert.deepEqual(await found('nobody-has-this'), []);
  });

  it('%, _ and \\ are literal characters', async () => {
    assert.deepEqual(await found('%'), [made.percent.id]);
    assert.deepEqual(await found('0% r'), [made.percent.id]);
    assert.deepEqual(await found('_'), [made.under.id]);
    assert.deepEqual(await found('a_b'), [made.under.id]);
    assert.deepEqual(await found('\\'), [made.slash.id]);
    assert.deepEqual(await found('k\\s'), [made.slash.id]);
    assert.deepEqual(sorted(await found('backslash')), [made.noslash.id]);
    assert.deepEqual(await found('"hi"'), [made.quote.id]);
    assert.deepEqual(await found('d "h'), [made.quote.id]);
  });

  it('unicode names are found by a substring of themselves, case folded', async () => {
    assert.deepEqual(await found('élodie'), [made.elodie.id]);
    assert.deepEqual(await found('ÉLO'), [made.elodie.id]);
    assert.deepEqual(await found('É'), [made.elodie.id]);
    assert.deepEqual(await found('文名'), [made.cjk.id]);
    assert.deepEqual(await found('中文名字'), [made.cjk.id]);
    assert.deepEqual(await found('王'), [made.cjk.id]);
    assert.deepEqual(await found('😀'), [made.emoji.id]);
    assert.deepEqual(await found('😀 Sm'), [made.emoji.id]);
    assert.deepEqual(await found('αθην'), [made.greek.id]);
    assert.deepEqual(await found('Αθ'), [made.greek.id]);
    assert.deepEqual(await found('elodie'), [], 'accents are not removed');
  });

  it('results are newest first; an empty search is no filter', async () => {
    const all = await walk(ctx, { search: '' });
    assert.equal(all.length, Object.keys(made).length);
    assert.deepEqual(ids(all), ids(Object.values(made)).reverse());
    const rs = ids(await walk(ctx, { search: 'real', limit: 1 }));
    assert.deepEqual(rs, [made.plain.id, made.percent.id]);
  });

  it('bad search parameters are 400 SERVER_REQUEST_VALIDATION_FAILED', async () => {
    for (const [q, issue] of [['x'.repeat(201), 'too_long'], ['a%0Ab', 'control_characters'],
      ['a%00b', 'control_characters'], ['%C3%28', 'invalid_format'], ['%FF', 'invalid_format']]) {
      const res = await ctx.list(`?search=${q}`);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, [{ field: 'search', issue }]);
    }
    await ctx.list(`?search=${'x'.repeat(200)}`, { expect: 200 });
  });

  it('a later change is searchable at once; a deleted contact is not', async () => {
    const c = (await ctx.post({ name: 'Temporary Person' }, { expect: 201 })).json;
    assert.deepEqual(await found('temporary'), [c.id]);
    await ctx.patch(c.id, { name: 'Renamed Person' }, { expect: 200 });
    assert.deepEqual(await found('temporary'), []);
    assert.deepEqual(await found('renamed'), [c.id]);
    await ctx.del(c.id, { expect: 204 });
    assert.deepEqual(await found('renamed'), []);
  });
});

describe('Contacts: cursor pagination', () => {
  const ctx = useDeployment('ct-cursor');

  it('a walk returns every contact once, newest first', async () => {
    const made = [];
    for (let i = 0; i < 23; i++) {
      made.push((await ctx.post({ name: `Walker ${i}` }, { expect: 201 })).json);
    }
    for (const limit of [1, 5, 23, 100]) {
      assert.deepEqual(ids(await walk(ctx, { limit })), ids(made).reverse(), `limit ${limit}`);
      assert.deepEqual(ids(await walk(ctx, { limit, search: 'walker' })), ids(made).reverse());
    }
    const first = await ctx.list('?limit=23', { expect: 200 });
    assert.equal(first.json.nextCursor, null, 'an exact last page has no cursor');
  });

  it('tampered, foreign or misused cursors are 400 SERVER_CURSOR_INVALID', async () => {
    const page = await ctx.list('?limit=2', { expect: 200 });
    const cursor = page.json.nextCursor;
    assert.equal(typeof cursor, 'string');
    assert.ok(!/seq|contacts|ten_/.test(cursor));
    const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [flip(cursor, 0), flip(cursor, 10), flip(cursor, cursor.length - 1),
      cursor.slice(0, -1), `${cursor}A`, 'garbage', '!!!!', `${cursor}=`,
      Buffer.from('{"seq":1}').toString('base64url')];
    for (const c of bad) {
      assertError(await ctx.list(`?limit=2&cursor=${encodeURIComponent(c)}`), 400,
        'SERVER_CURSOR_INVALID');
    }
    assertError(await ctx.list(`?limit=2&search=walker&cursor=${cursor}`), 400,
      'SERVER_CURSOR_INVALID');
    const searchCursor =
      (await ctx.list('?limit=2&search=walker', { expect: 200 })).json.nextCursor;
    assertError(await ctx.list(`?limit=2&cursor=${searchCursor}`), 400, 'SERVER_CURSOR_INVALID');
    assertError(await ctx.list(`?limit=2&search=WALKER2&cursor=${searchCursor}`), 400,
      'SERVER_CURSOR_INVALID');
    // The search is case-folded before it is bound: WALKER is the same search.
    await ctx.list(`?limit=2&search=WALKER&cursor=${searchCursor}`, { expect: 200 });
    const other = await ctx.dep.createTenant();
    const otherKey = (await ctx.dep.createKey(other.slug, FAST)).secret;
    assertError(await ctx.api.get(`${BASE}?limit=2&cursor=${cursor}`, { key: otherKey }), 400,
      'SERVER_CURSOR_INVALID');
    // Valid cursors work with another limit.
    await ctx.list(`?limit=7&cursor=${cursor}`, { expect: 200 });
  });

  it('never skips or repeats a row while others insert and delete', async () => {
    const tenant = await ctx.dep.createTenant();
    const key = (await ctx.dep.createKey(tenant.slug, FAST)).secret;
    const post = (name) => ctx.api.call('POST', BASE, { key, json: { name }, expect: 201 });
    const initial = [];
    for (let i = 0; i < 60; i++) initial.push((await post(`Stable ${i} zz`)).json);
    const newestFirst = ids(initial).reverse();
    // Delete every fifth not-yet-seen contact while walking; insert new ones.
    for (const search of [undefined, 'zz']) {
      const seen = [];
      const deleted = new Set();
      let cursor = null;
      let round = 0;
      do {
        const q = new URLSearchParams({ limit: '7' });
        if (search) q.set('search', search);
        if (cursor) q.set('cursor', cursor);
        const res = await ctx.api.get(`${BASE}?${q}`, { key, expect: 200 });
        seen.push(...ids(res.json.data));
        cursor = res.json.nextCursor;
        round += 1;
        const inserts = [post(`Intruder ${search} ${round} zz`),
          post(`Intruder ${search} ${round}b zz`)];
        const unseen = newestFirst.filter((id) => !seen.includes(id) && !deleted.has(id));
        const victim = unseen[Math.min(3, unseen.length - 1)];
        if (victim && round % 2 === 0) {
          deleted.add(victim);
          inserts.push(ctx.api.call('DELETE', `${BASE}/${victim}`, { key, expect: 204 }));
        }
        await Promise.all(inserts);
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no row repeated');
      const survivors = newestFirst.filter((id) => !deleted.has(id));
      const seenInitial = seen.filter((id) => newestFirst.includes(id));
      assert.deepEqual(seenInitial, survivors, 'every surviving row exactly once, in order');
      assert.ok(deleted.size >= 3, `deleted ${deleted.size}`);
      for (const id of deleted) newestFirst.splice(newestFirst.indexOf(id), 1);
    }
  });

  it('1-2 character searches scan at most 10 000 rows a page, yet find every match',
    async () => {
    const tenant = await ctx.dep.createTenant();
    const key = (await ctx.dep.createKey(tenant.slug, FAST)).secret;
    const post = (name) => ctx.api.call('POST', BASE, { key, json: { name }, expect: 201 });
    // Seeded contacts never contain ø, so only these two match "øy".
    const oldest = (await post('Øy oldest')).json;
    await ctx.dep.cli(['contacts', 'seed', '--tenant', tenant.slug, '--count', '12000',
      '--batch', '5000'], { json: false });
    const newest = (await post('Newest øY')).json;
    const pages = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ limit: '5', search: 'øy' });
      if (cursor) q.set('cursor', cursor);
      const res = await ctx.api.get(`${BASE}?${q}`, { key, expect: 200 });
      pages.push(ids(res.json.data));
      cursor = res.json.nextCursor;
    } while (cursor && pages.length < 10);
    assert.equal(cursor, null);
    assert.deepEqual(pages.flat(), [newest.id, oldest.id]);
    assert.ok(pages.length >= 2, 'the scan of 12 002 rows took more than one page');
    assert.ok(pages.some((p) => p.length === 0) || pages[0].length === 1,
      `a page can come back short: ${JSON.stringify(pages)}`);
    // Three characters use the trigram index: one page.
    const tri = await ctx.api.get(`${BASE}?limit=5&search=${encodeURIComponent('øy ')}`,
      { key, expect: 200 });
    assert.deepEqual(ids(tri.json.data), [oldest.id]);
    assert.equal(tri.json.nextCursor, null);
  });
});

describe('Contacts: scopes, tenant isolation and Idempotency-Key', () => {
  const ctx = useDeployment('ct-auth');

  it('scope denial names the missing scope', async () => {
    const reader = (await ctx.dep.createKey(ctx.tenant.slug,
      { ...FAST, scopes: ['server:contacts:read'] })).secret;
    const writer = (await ctx.dep.createKey(ctx.tenant.slug,
      { ...FAST, scopes: ['server:contacts:write'] })).secret;
    const c = (await ctx.post({ name: 'Scoped' }, { expect: 201 })).json;
    for (const [method, path, json] of [['POST', BASE, { name: 'x' }],
      ['PATCH', `${BASE}/${c.id}`, { name: 'x' }], ['DELETE', `${BASE}/${c.id}`]]) {
      const res = await ctx.api.call(method, path, { key: reader, json });
      assertError(res, 403, 'SERVER_API_SCOPE_DENIED');
      assert.ok(res.json.error.message.includes('server:contacts:write'), res.json.error.message);
    }
    for (const path of [BASE, `${BASE}/${c.id}`, `${BASE}?search=sco`]) {
      const res = await ctx.api.get(path, { key: writer });
      assertError(res, 403, 'SERVER_API_SCOPE_DENIED');
      assert.ok(res.json.error.message.includes('server:contacts:read'), res.json.error.message);
    }
    await ctx.api.get(`${BASE}/${c.id}`, { key: reader, expect: 200 });
    await ctx.api.call('POST', BASE, { key: writer, json: { name: 'W' }, expect: 201 });
    assertError(await ctx.api.get(BASE), 401, 'SERVER_API_KEY_MISSING');
    assert.deepEqual((await ctx.get(c.id, { expect: 200 })).json, c,
      'denied writes changed nothing');
  });

  it("tenant B never reads, changes or learns of tenant A's contacts", async () => {
    const b = await ctx.dep.createTenant({ country: 'ID' });
    const bKey = (await ctx.dep.createKey(b.slug, FAST)).secret;
    const a = (await ctx.post(
      { name: 'Private Person', externalId: 'priv-1', phone: '08129999888' },
      { expect: 201 })).json;
    const never = 'ct_01jd3b7y0q8m2v5k7w9x1z3a4b';
    const strip = (res) => ({ status: res.status, code: res.json.error.code,
      message: res.json.error.message, details: res.json.error.details });
    for (const [method, json] of [['GET'], ['PATCH', { name: 'Hijack' }], ['DELETE']]) {
      const foreign = await ctx.api.call(method, `${BASE}/${a.id}`, { key: bKey, json });
      const unknown = await ctx.api.call(method, `${BASE}/${never}`, { key: bKey, json });
      assertError(foreign, 404, 'SERVER_CONTACT_NOT_FOUND');
      assert.deepEqual(strip(foreign), strip(unknown));
      assert.deepEqual(Object.keys(foreign.headers).sort(), Object.keys(unknown.headers).sort());
    }
    assert.deepEqual((await ctx.get(a.id, { expect: 200 })).json, a, "A's contact is untouched");
    const bList = await walk(ctx, { key: bKey });
    assert.deepEqual(bList, []);
    for (const search of ['private', 'priv-1', '9999888', 'pr', 'p']) {
      assert.deepEqual(await walk(ctx, { key: bKey, search }), [], search);
    }
    // B's upsert of A's externalId creates B's own contact.
    const own = await ctx.api.call('POST', BASE,
      { key: bKey, json: { externalId: 'priv-1', name: 'B person' }, expect: 201 });
    assert.notEqual(own.json.id, a.id);
    assert.deepEqual((await ctx.get(a.id, { expect: 200 })).json, a);
  });

  it('Idempotency-Key: a retry replays the first answer; another body is 409', async () => {
    const key = `idem-${uniq(12)}`;
    const body = { name: 'Idem Potent', externalId: `idem-${uniq()}` };
    const first = await ctx.post(body, { headers: { 'Idempotency-Key': key }, expect: 201 });
    const replay = await ctx.post(body, { headers: { 'Idempotency-Key': key }, expect: 201 });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.deepEqual(replay.json, first.json);
    assert.equal((await walk(ctx, { search: body.externalId })).length, 1);
    const reused = await ctx.post({ ...body, name: 'Other' },
      { headers: { 'Idempotency-Key': key } });
    assertError(reused, 409, 'SERVER_IDEMPOTENCY_KEY_REUSED');
    assert.equal((await ctx.get(first.json.id, { expect: 200 })).json.name, 'Idem Potent');
    // Without a key the same body is an upsert of the same contact (200).
    const upsert = await ctx.post(body, { expect: 200 });
    assert.equal(upsert.json.id, first.json.id);
    // An update answer is replayed too.
    const k2 = `idem-${uniq(12)}`;
    const changed = await ctx.post({ ...body, company: 'PT Idem' },
      { headers: { 'Idempotency-Key': k2 }, expect: 200 });
    const changedAgain = await ctx.post({ ...body, company: 'PT Idem' },
      { headers: { 'Idempotency-Key': k2 }, expect: 200 });
    assert.deepEqual(changedAgain.json, changed.json);
    assert.equal(changedAgain.headers['idempotent-replayed'], 'true');
    // Validation failures are replayed as well (4xx answers are stored).
    const k3 = `idem-${uniq(12)}`;
    const badFirst = await ctx.post({ email: 'bad' }, { headers: { 'Idempotency-Key': k3 } });
    assertDetails(badFirst, [['email', 'invalid_format']]);
    const badAgain = await ctx.post({ email: 'bad' }, { headers: { 'Idempotency-Key': k3 } });
    assert.deepEqual(badAgain.json, badFirst.json);
    const malformed = await ctx.post(body, { headers: { 'Idempotency-Key': 'has space' } });
    assertError(malformed, 400, 'SERVER_IDEMPOTENCY_KEY_INVALID');
  });

  it('the same Idempotency-Key in two tenants is two requests', async () => {
    const other = await ctx.dep.createTenant();
    const otherKey = (await ctx.dep.createKey(other.slug, FAST)).secret;
    const key = `idem-${uniq(12)}`;
    const a = await ctx.post({ name: 'Tenant A idem' },
      { headers: { 'Idempotency-Key': key }, expect: 201 });
    const b = await ctx.api.call('POST', BASE, { key: otherKey, json: { name: 'Tenant A idem' },
      headers: { 'Idempotency-Key': key }, expect: 201 });
    assert.notEqual(a.json.id, b.json.id);
    assert.equal(b.headers['idempotent-replayed'], undefined);
  });

  // On SQLite these writes share group commits; after its write each request
  // stores its answer under its key. Every one must be answered promptly
  // (found: from 16 at once, some answers waited until the client hung up,
  // and a few hundred at once exhausted the store pool for minutes).
  it('many POSTs at once, each with its own Idempotency-Key, are all answered', async () => {
    const tag = uniq();
    const outcomes = await Promise.allSettled(Array.from({ length: 64 }, (_, i) =>
      ctx.post({ name: `Idem burst ${tag} ${i}`, externalId: `idb-${tag}-${i}` },
        { headers: { 'Idempotency-Key': `idb-${tag}-${i}` } })));
    const lost = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(lost.length, 0, `${lost.length} of 64 got no answer: ${lost[0]?.reason}`);
    for (const o of outcomes) assert.equal(o.value.status, 201, o.value.text);
    assert.equal((await walk(ctx, { search: `idb-${tag}-` })).length, 64);
  });
});

// ---- writes cut short: SIGTERM and kill -9 ------------------------------------
// On SQLite a POST's write waits for a group commit (src/http/writer.c): an
// answer must never go out before its change is durable, and stopping must
// write what is queued rather than drop it.

/** Fires n POSTs with new externalIds at once. `answered` resolves once
 * `enough` of them have had an answer, `all` with every outcome. */
function burst(api, key, n, label, enough) {
  let count = 0;
  let reached;
  const answered = new Promise((r) => { reached = r; });
  const all = Promise.all(Array.from({ length: n }, (_, i) => {
    const ext = `${label}-${uniq()}-${i}`;
    return api.call('POST', BASE, { key, json: { externalId: ext, name: `Burst ${i}` } })
      .then((res) => ({ ext, res }), (err) => ({ ext, err }))
      .then((o) => {
        if (++count === enough) reached();
        return o;
      });
  }));
  all.then(reached);
  return { answered, all };
}

/** Every 201 of outcomes names a contact that node still has, as answered. */
async function assertAnsweredKept(api, key, outcomes) {
  const created = outcomes.filter((o) => o.res?.status === 201);
  for (const o of created) {
    const now = await api.get(`${BASE}/${o.res.json.id}`, { key, expect: 200 });
    assert.equal(now.json.externalId, o.ext);
    assert.equal(now.json.name, o.res.json.name);
  }
  return created.length;
}

describe('Contacts: writes in flight at SIGTERM and kill -9', () => {
  let dep;
  let key;
  before(async () => {
    dep = await Deployment.create('contacts-cut');
    ({ secret: key } = await dep.tenantWithKey({ country: 'ID', key: FAST }));
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it('SIGTERM: exit 0, every answered write is kept, the rest are 503 or unsent', async () => {
    const node = await dep.startNode();
    const api = new Api(node);
    const fired = burst(api, key, 400, 'term', 20);
    await fired.answered;
    const exit = await node.stop();
    assert.equal(exit.code, 0);
    const outcomes = await fired.all;
    for (const o of outcomes) {
      if (o.err || o.res.status === 201) continue;
      assertError(o.res, 503, 'SERVER_UNAVAILABLE');
    }
    const after = await dep.startNode();
    const kept = await assertAnsweredKept(new Api(after), key, outcomes);
    assert.ok(kept >= 20, `only ${kept} writes answered 201`);
    await after.stop();
  });

  it('kill -9: every write answered 201 before the kill is there after a restart', async () => {
    const node = await dep.startNode();
    const api = new Api(node);
    const fired = burst(api, key, 400, 'kill', 50);
    await fired.answered;
    node.stopped = true; // Deployment.destroy must not expect a clean exit
    process.kill(node.proc.pid, 'SIGKILL');
    await node.exited;
    const outcomes = await fired.all;
    const after = await dep.startNode();
    const kept = await assertAnsweredKept(new Api(after), key, outcomes);
    assert.ok(kept >= 50, `only ${kept} writes answered 201`);
    await after.stop();
  });
});
