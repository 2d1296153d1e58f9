// Foundation end-to-end tests (issue 2): the CLI's tenant/staff/key shapes,
// server-key authentication, rotation and revocation, tenant isolation, SDK
// readiness, rate limits, the generic HTTP conventions, the unauthenticated
// operational endpoints, logs and graceful shutdown.
//
// Every HTTP response goes through Api.call, which validates it against
// api/openapi.yaml. Each describe block runs its own deployment (store +
// server), so the per-address failed-auth throttle (20 failures per 60 s, see
// auth-throttle.test.mjs) is never reached by accident: no block below sends
// more than 15 failing credentials.
//
// Scope denial (403 SERVER_API_SCOPE_DENIED, message naming the scope) cannot
// be exercised here: health, tenant profile and SDK readiness need only a
// valid key. The capability suites (contacts, tokens, reports, webhooks) test
// it against their scoped endpoints; here we check that a key holding one
// unrelated scope is accepted by the three foundation endpoints.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Api, assertError, openapi, rateHeaders } from './lib/api.mjs';
import { request } from './lib/http.mjs';
import { Deployment, ALL_SCOPES, IS_PG, sleep, uniq } from './lib/server.mjs';

const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GENERATED_REQ_ID = /^req_[0-9A-Za-z]+$/;
const KEY_KEYS = ['createdAt', 'createdBy', 'expiresAt', 'id', 'last4', 'lastUsedAt', 'name',
  'prefix', 'rateLimit', 'revokedAt', 'rotatedAt', 'scopes', 'status'];
const TENANT_KEYS = ['clientId', 'country', 'createdAt', 'id', 'name', 'slug', 'status', 'timezone'];
const STAFF_KEYS = ['createdAt', 'displayName', 'id', 'role', 'status', 'username'];
const CHECK_NAMES = ['widget_key', 'allowed_domains', 'active_agent'];

function assertRecentTimestamp(value, what, slackMs = 5 * 60 * 1000) {
  assert.match(value, TS_RE, `${what} must be RFC 3339 UTC with milliseconds`);
  const delta = Math.abs(Date.parse(value) - Date.now());
  assert.ok(delta < slackMs, `${what} ${value} is ${delta} ms away from now`);
}

function sorted(a) {
  return [...a].sort();
}

/** A syntactically valid key that the server never issued. */
function unknownKey(prefix = 'rn_sk_live_') {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = prefix;
  for (let i = 0; i < 40; i++) s += alphabet[Math.floor(Math.random() * 62)];
  return s;
}

/** Deployment + one node + Api, torn down (exit 0 required) after the block. */
function useDeployment(label, { nodes = 1 } = {}) {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create(label);
    ctx.nodes = [];
    for (let i = 0; i < nodes; i++) ctx.nodes.push(await ctx.dep.startNode({ ownDataDir: i > 0 }));
    ctx.node = ctx.nodes[0];
    ctx.api = new Api(ctx.node);
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });
  return ctx;
}

describe('CLI: tenants, staff and keys', () => {
  const ctx = useDeployment('cli');

  it('migrate is idempotent', async () => {
    const first = await ctx.dep.cli(['migrate'], { json: false, allowFail: true });
    assert.equal(first.code, 0, first.stderr);
    const second = await ctx.dep.cli(['migrate'], { json: false, allowFail: true });
    assert.equal(second.code, 0, second.stderr);
  });

  it('tenant create --json returns the tenant with its defaults', async () => {
    const slug = `acme-${uniq()}`;
    const t = await ctx.dep.createTenant({ slug, name: 'Acme Bank' });
    assert.deepEqual(sorted(Object.keys(t)), TENANT_KEYS);
    assert.match(t.id, /^ten_[0-9A-Za-z]+$/);
    assert.equal(typeof t.clientId, 'string');
    assert.ok(t.clientId.length > 0);
    assert.equal(t.slug, slug);
    assert.equal(t.name, 'Acme Bank');
    assert.equal(t.timezone, 'Asia/Jakarta');
    assert.equal(t.country, 'ID', 'the country defaults with the time zone: Indonesia');
    assert.equal(t.status, 'active');
    assertRecentTimestamp(t.createdAt, 'createdAt');
  });

  it('tenant create keeps --timezone and --country; tenant list shows every tenant', async () => {
    const a = await ctx.dep.createTenant({ timezone: 'Europe/Berlin', country: 'DE' });
    assert.equal(a.timezone, 'Europe/Berlin');
    assert.equal(a.country, 'DE');
    const b = await ctx.dep.createTenant();
    assert.notEqual(a.clientId, b.clientId);
    assert.notEqual(a.id, b.id);
    const list = (await ctx.dep.cli(['tenant', 'list'])).json;
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.find((t) => t.id === a.id), a);
    assert.deepEqual(list.find((t) => t.id === b.id), b);
  });

  it('tenant create refuses a duplicate slug and an unknown time zone', async () => {
    const t = await ctx.dep.createTenant();
    const dup = await ctx.dep.cli(['tenant', 'create', '--slug', t.slug, '--name', 'Again'],
      { allowFail: true });
    assert.notEqual(dup.code, 0, 'duplicate slug must fail');
    assert.ok(dup.stderr.trim().length > 0, 'the error goes to stderr');
    const tz = await ctx.dep.cli(['tenant', 'create', '--slug', `tz-${uniq()}`, '--name', 'X',
      '--timezone', 'Mars/Olympus_Mons'], { allowFail: true });
    assert.notEqual(tz.code, 0, 'an unknown IANA time zone must fail');
  });

  it('staff add / list / disable', async () => {
    const t = await ctx.dep.createTenant();
    const s = await ctx.dep.addStaff(t.slug, 'agent.one', 'agent', 'Agent One');
    assert.deepEqual(sorted(Object.keys(s)), STAFF_KEYS);
    assert.match(s.id, /^stf_[0-9A-Za-z]+$/);
    assert.equal(s.username, 'agent.one');
    assert.equal(s.role, 'agent');
    assert.equal(s.displayName, 'Agent One');
    assert.equal(s.status, 'active');
    assertRecentTimestamp(s.createdAt, 'createdAt');
    const admin = await ctx.dep.addStaff(t.slug, 'admin.one', 'admin');
    assert.equal(admin.role, 'admin');

    let list = (await ctx.dep.cli(['staff', 'list', '--tenant', t.slug])).json;
    assert.deepEqual(sorted(list.map((x) => x.username)), ['admin.one', 'agent.one']);
    assert.deepEqual(list.find((x) => x.id === s.id), s);

    await ctx.dep.cli(['staff', 'disable', '--tenant', t.slug, '--username', 'agent.one']);
    list = (await ctx.dep.cli(['staff', 'list', '--tenant', t.slug])).json;
    assert.equal(list.find((x) => x.id === s.id).status, 'disabled');
    assert.equal(list.find((x) => x.id === admin.id).status, 'active');
  });

  it('staff add refuses an unknown role, a duplicate username and an unknown tenant', async () => {
    const t = await ctx.dep.createTenant();
    await ctx.dep.addStaff(t.slug, 'someone', 'agent');
    const cases = [
      ['staff', 'add', '--tenant', t.slug, '--username', 'boss', '--role', 'boss'],
      ['staff', 'add', '--tenant', t.slug, '--username', 'someone', '--role', 'agent'],
      ['staff', 'add', '--tenant', `nope-${uniq()}`, '--username', 'x', '--role', 'agent'],
    ];
    for (const args of cases) {
      const res = await ctx.dep.cli(args, { allowFail: true });
      assert.notEqual(res.code, 0, `${args.join(' ')} must fail`);
      assert.ok(res.stderr.trim().length > 0, `${args.join(' ')}: error on stderr`);
    }
  });

  it('key create --scopes all returns every field and the secret once', async () => {
    const t = await ctx.dep.createTenant();
    const k = await ctx.dep.createKey(t.slug, { name: 'CRM backend' });
    assert.deepEqual(sorted(Object.keys(k)), sorted([...KEY_KEYS, 'secret']));
    assert.match(k.id, /^key_[0-9A-Za-z]+$/);
    assert.equal(k.name, 'CRM backend');
    assert.match(k.secret, /^rn_sk_live_[0-9A-Za-z]{32,}$/);
    assert.ok(k.prefix.startsWith('rn_sk_live_'), `prefix ${k.prefix}`);
    assert.ok(k.secret.startsWith(k.prefix), 'prefix is the start of the secret');
    assert.ok(k.prefix.length <= 'rn_sk_live_'.length + 8, 'prefix reveals at most 8 characters');
    assert.equal(k.last4, k.secret.slice(-4));
    assert.deepEqual(sorted(k.scopes), sorted(ALL_SCOPES));
    assert.equal(k.status, 'active');
    assert.equal(k.createdBy, 'cli');
    assert.equal(k.rotatedAt, null);
    assert.equal(k.revokedAt, null);
    assert.equal(k.lastUsedAt, null);
    assert.equal(k.expiresAt, null);
    assert.equal(k.rateLimit, null, 'no per-key override: the server default applies');
    assertRecentTimestamp(k.createdAt, 'createdAt');
  });

  it('key create keeps --rate-limit/--burst and --expires-in-days', async () => {
    const t = await ctx.dep.createTenant();
    const k = await ctx.dep.createKey(t.slug, { rateLimit: 2, burst: 3 });
    assert.deepEqual(k.rateLimit, { requestsPerSecond: 2, burst: 3 });
    const e = (await ctx.dep.cli(['key', 'create', '--tenant', t.slug, '--name', 'expiring',
      '--scopes', 'all', '--expires-in-days', '30'])).json;
    ctx.dep.secrets.add(e.secret);
    const drift = Date.parse(e.expiresAt) - Date.parse(e.createdAt) - 30 * 86400000;
    assert.ok(Math.abs(drift) <= 1000,
      `expiresAt ${e.expiresAt} is 30 days after createdAt ${e.createdAt} (off by ${drift} ms)`);
    await ctx.api.get('/api/server/health', { key: e.secret, expect: 200 });
  });

  it('key create keeps an explicit scope list and refuses an unknown scope', async () => {
    const t = await ctx.dep.createTenant();
    const k = await ctx.dep.createKey(t.slug, {
      scopes: ['server:contacts:read', 'server:reports:read'],
    });
    assert.deepEqual(sorted(k.scopes), ['server:contacts:read', 'server:reports:read']);
    const bad = await ctx.dep.cli(['key', 'create', '--tenant', t.slug, '--name', 'x',
      '--scopes', 'server:contacts:read,server:nope'], { allowFail: true });
    assert.notEqual(bad.code, 0, 'unknown scope must fail');
    assert.ok(bad.stderr.includes('server:nope'), `stderr names the bad scope: ${bad.stderr}`);
  });

  it('key create without --json prints the secret exactly once', async () => {
    const t = await ctx.dep.createTenant();
    const res = await ctx.dep.cli(['key', 'create', '--tenant', t.slug, '--name', 'plain',
      '--scopes', 'all'], { json: false });
    const secrets = res.stdout.match(/rn_sk_live_[0-9A-Za-z]{32,}/g) ?? [];
    assert.equal(secrets.length, 1, `stdout: ${res.stdout}`);
    ctx.dep.secrets.add(secrets[0]);
    assert.ok(!res.stderr.includes(secrets[0]), 'the secret is not repeated on stderr');
  });

  it('key list never shows a secret', async () => {
    const t = await ctx.dep.createTenant();
    const k = await ctx.dep.createKey(t.slug);
    const res = await ctx.dep.cli(['key', 'list', '--tenant', t.slug]);
    assert.ok(!res.stdout.includes(k.secret), 'secret leaked by key list');
    assert.equal(res.json.length, 1);
    const listed = res.json[0];
    assert.deepEqual(sorted(Object.keys(listed)), KEY_KEYS);
    const { secret, ...rest } = k;
    assert.deepEqual(listed, rest);
  });

  it('key rotate keeps the id and issues a new secret; key revoke keeps it listed', async () => {
    const t = await ctx.dep.createTenant();
    const k = await ctx.dep.createKey(t.slug);
    const r = await ctx.dep.rotateKey(t.slug, k.id);
    assert.equal(r.id, k.id);
    assert.match(r.secret, /^rn_sk_live_[0-9A-Za-z]{32,}$/);
    assert.notEqual(r.secret, k.secret);
    assert.equal(r.last4, r.secret.slice(-4));
    assert.ok(r.secret.startsWith(r.prefix));
    assert.equal(r.status, 'active');
    assertRecentTimestamp(r.rotatedAt, 'rotatedAt');
    assert.equal(r.createdAt, k.createdAt);

    const v = await ctx.dep.revokeKey(t.slug, k.id);
    assert.equal(v.id, k.id);
    assert.equal(v.status, 'revoked');
    assertRecentTimestamp(v.revokedAt, 'revokedAt');
    assert.equal(v.secret, undefined, 'revoke shows no secret');
    const listed = (await ctx.dep.listKeys(t.slug)).find((x) => x.id === k.id);
    assert.equal(listed.status, 'revoked');
    assert.equal(listed.revokedAt, v.revokedAt);
    assert.equal(listed.rotatedAt, r.rotatedAt);
  });

  it('key rotate/revoke with another tenant\'s or an unknown key id fails and changes nothing', async () => {
    const a = await ctx.dep.createTenant();
    const b = await ctx.dep.createTenant();
    const kb = await ctx.dep.createKey(b.slug);
    for (const verb of ['rotate', 'revoke']) {
      for (const id of [kb.id, 'key_00000000000000000000000000']) {
        const res = await ctx.dep.cli(['key', verb, '--tenant', a.slug, '--id', id],
          { allowFail: true });
        assert.notEqual(res.code, 0, `key ${verb} of ${id} under tenant ${a.slug} must fail`);
      }
    }
    const listed = (await ctx.dep.listKeys(b.slug)).find((x) => x.id === kb.id);
    assert.equal(listed.status, 'active');
    assert.equal(listed.rotatedAt, null);
    assert.equal(listed.last4, kb.last4);
  });
});

describe('Server key authentication', () => {
  const ctx = useDeployment('auth');
  let tenant;
  let key;
  let narrow;

  before(async () => {
    ({ tenant, key } = await ctx.dep.tenantWithKey());
    narrow = await ctx.dep.createKey(tenant.slug, { scopes: ['server:reports:read'] });
  });

  it('accepts Authorization: Bearer and answers health for the key', async () => {
    const res = await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.tenantId, tenant.id);
    assert.equal(res.json.keyId, key.id);
    assertRecentTimestamp(res.json.serverTime, 'serverTime', 60 * 1000);
    assert.match(res.json.version, /^\d+\.\d+\.\d+/);
  });

  it('accepts X-Ringnity-Server-Key', async () => {
    const res = await ctx.api.get('/api/server/health', { headerKey: key.secret, expect: 200 });
    assert.equal(res.json.keyId, key.id);
  });

  it('accepts both headers when they are equal', async () => {
    const res = await ctx.api.get('/api/server/health',
      { key: key.secret, headerKey: key.secret, expect: 200 });
    assert.equal(res.json.keyId, key.id);
  });

  it('treats the Bearer scheme name case-insensitively', async () => {
    const res = await ctx.api.get('/api/server/health',
      { headers: { Authorization: `bearer ${key.secret}` }, expect: 200 });
    assert.equal(res.json.keyId, key.id);
  });

  it('a key with one unrelated scope reads health, tenant and readiness', async () => {
    for (const path of ['/api/server/health', '/api/server/tenant',
      '/api/server/tenant/sdk-readiness']) {
      await ctx.api.get(path, { key: narrow.secret, expect: 200 });
      await ctx.api.get(path, { headerKey: narrow.secret, expect: 200 });
    }
  });

  it('401 SERVER_API_KEY_MISSING: no header, empty header, empty Bearer token', async () => {
    const cases = [
      {},
      { headers: { Authorization: '' } },
      { headers: { 'X-Ringnity-Server-Key': '' } },
      { headers: { Authorization: 'Bearer ' } },
    ];
    for (const opts of cases) {
      for (const path of ['/api/server/health']) {
        const res = await ctx.api.get(path, opts);
        assertError(res, 401, 'SERVER_API_KEY_MISSING');
      }
    }
  });

  it('401 SERVER_API_KEY_INVALID: malformed, unknown, widget key, wrong scheme', async () => {
    const cases = [
      ['wrong scheme', { headers: { Authorization: `Basic ${Buffer.from(`${key.secret}:`).toString('base64')}` } }],
      ['no scheme', { headers: { Authorization: key.secret } }],
      ['not a key', { key: 'not-a-key' }],
      ['too short', { key: 'rn_sk_live_abc123' }],
      ['one char more', { key: `${key.secret}x` }],
      ['unknown (Bearer)', { key: unknownKey() }],
      ['unknown (header)', { headerKey: unknownKey() }],
      ['widget key', { key: unknownKey('rn_pk_live_') }],
      ['8 KiB of key', { key: `rn_sk_live_${'A'.repeat(8192)}` }],
    ];
    for (const [what, opts] of cases) {
      const res = await ctx.api.get('/api/server/tenant', opts);
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assertError(res, 401, 'SERVER_API_KEY_INVALID');
      assert.ok(!res.text.includes(key.secret), `${what}: the error echoes the secret`);
    }
  });

  it('401 SERVER_API_KEY_INVALID when the two headers differ', async () => {
    const both = await ctx.api.get('/api/server/tenant/sdk-readiness',
      { key: key.secret, headerKey: narrow.secret });
    assertError(both, 401, 'SERVER_API_KEY_INVALID');
    const junk = await ctx.api.get('/api/server/health',
      { key: key.secret, headerKey: 'junk' });
    assertError(junk, 401, 'SERVER_API_KEY_INVALID');
    assert.ok(!both.text.includes(key.secret) && !both.text.includes(narrow.secret));
  });

  it('401 SERVER_API_KEY_INVALID when one auth header is repeated with another value', async () => {
    // Two values for one credential are as ambiguous as two differing headers.
    const auth = await ctx.api.get('/api/server/health',
      { headers: { Authorization: [`Bearer ${key.secret}`, `Bearer ${unknownKey()}`] } });
    assertError(auth, 401, 'SERVER_API_KEY_INVALID');
    const x = await ctx.api.get('/api/server/health',
      { headers: { 'X-Ringnity-Server-Key': [key.secret, 'junk'] } });
    assertError(x, 401, 'SERVER_API_KEY_INVALID');
  });

  it('50 concurrent requests with one key all succeed, each with its own request id', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      ctx.api.get('/api/server/health', { key: key.secret })));
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    assert.equal(new Set(results.map((r) => r.headers['x-request-id'])).size, 50);
    for (const r of results) assert.equal(r.json.keyId, key.id);
  });

  it('the tenant profile is the key\'s tenant, field for field', async () => {
    const res = await ctx.api.get('/api/server/tenant', { key: key.secret, expect: 200 });
    assert.deepEqual(res.json, tenant);
  });
});

describe('Key rotation and revocation', () => {
  const ctx = useDeployment('keys');

  it('rotate: the old secret fails on the very next request, the new one works', async () => {
    const { tenant, key } = await ctx.dep.tenantWithKey();
    // Warm whatever the server may cache for the old secret.
    await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    const rotated = await ctx.dep.rotateKey(tenant.slug, key.id);
    assertError(await ctx.api.get('/api/server/health', { key: key.secret }), 401,
      'SERVER_API_KEY_INVALID');
    const ok = await ctx.api.get('/api/server/health', { key: rotated.secret, expect: 200 });
    assert.equal(ok.json.keyId, key.id);

    const again = await ctx.dep.rotateKey(tenant.slug, key.id);
    assertError(await ctx.api.get('/api/server/tenant', { headerKey: rotated.secret }), 401,
      'SERVER_API_KEY_INVALID');
    assertError(await ctx.api.get('/api/server/tenant', { key: key.secret }), 401,
      'SERVER_API_KEY_INVALID');
    await ctx.api.get('/api/server/tenant', { headerKey: again.secret, expect: 200 });
  });

  it('lastUsedAt is set by the first use and not rewritten on every request', async () => {
    const { tenant, key } = await ctx.dep.tenantWithKey();
    await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    let first;
    for (let i = 0; i < 40 && !first; i++) {
      first = (await ctx.dep.listKeys(tenant.slug)).find((k) => k.id === key.id).lastUsedAt;
      if (!first) await sleep(100);
    }
    assert.ok(first, 'lastUsedAt stays null after the key was used');
    assertRecentTimestamp(first, 'lastUsedAt', 60 * 1000);
    await ctx.api.get('/api/server/tenant', { key: key.secret, expect: 200 });
    const second = (await ctx.dep.listKeys(tenant.slug)).find((k) => k.id === key.id).lastUsedAt;
    assert.equal(second, first, 'an immediate second use does not write lastUsedAt again');
  });

  it('lastUsedAt is recorded when a valid key is refused for its scope', async () => {
    // GET /contacts reads in one snapshot on SQLite (the use is recorded
    // after it), POST /contacts does not: both must record the use.
    const { tenant } = await ctx.dep.tenantWithKey();
    const writeOnly = await ctx.dep.createKey(tenant.slug, { scopes: 'server:contacts:write' });
    const readOnly = await ctx.dep.createKey(tenant.slug, { scopes: 'server:contacts:read' });
    assertError(await ctx.api.get('/api/server/contacts', { key: writeOnly.secret }), 403,
      'SERVER_API_SCOPE_DENIED');
    assertError(await ctx.api.call('POST', '/api/server/contacts',
      { key: readOnly.secret, json: { name: 'Nobody' } }), 403, 'SERVER_API_SCOPE_DENIED');
    let keys;
    for (let i = 0; i < 40; i++) {
      keys = await ctx.dep.listKeys(tenant.slug);
      if (keys.every((k) => k.id !== writeOnly.id && k.id !== readOnly.id || k.lastUsedAt)) break;
      await sleep(100);
    }
    for (const id of [writeOnly.id, readOnly.id]) {
      const k = keys.find((x) => x.id === id);
      assert.ok(k.lastUsedAt, `lastUsedAt of ${k.name} stays null after a refused use`);
      assertRecentTimestamp(k.lastUsedAt, 'lastUsedAt', 60 * 1000);
    }
  });

  it('revoke: the key fails at once and stays listed as revoked', async () => {
    const { tenant, key } = await ctx.dep.tenantWithKey();
    const other = await ctx.dep.createKey(tenant.slug);
    // Concurrent requests, so that every store connection of the server has
    // seen (and may remember) the key before the CLI, another process,
    // revokes it.
    const burst = (expect) => Promise.all(Array.from({ length: 12 }, (_, i) =>
      ctx.api.get(i % 2 ? '/api/server/tenant' : '/api/server/health',
        { key: key.secret, expect })));
    await burst(200);
    await burst(200);
    const revoked = await ctx.dep.revokeKey(tenant.slug, key.id);
    for (const res of await burst(401)) assertError(res, 401, 'SERVER_API_KEY_INVALID');
    const listed = (await ctx.dep.listKeys(tenant.slug)).find((k) => k.id === key.id);
    assert.equal(listed.status, 'revoked');
    assert.equal(listed.revokedAt, revoked.revokedAt);
    assertRecentTimestamp(listed.revokedAt, 'revokedAt');
    // Other keys of the tenant are untouched.
    await ctx.api.get('/api/server/tenant', { key: other.secret, expect: 200 });
  });
});

describe('First run: serve creates nothing, demo init seeds once', () => {
  const ctx = useDeployment('demo');

  it('ringnity serve alone leaves the store empty', async () => {
    const list = (await ctx.dep.cli(['tenant', 'list'])).json;
    assert.deepEqual(list, []);
  });

  it('demo init creates the demo tenant, staff and a full-scope key, once', async () => {
    const res = await ctx.dep.cli(['demo', 'init']);
    const out = res.json;
    assert.equal(out.created, true);
    const key = out.serverKey;
    assert.match(key.secret, /^rn_sk_live_[0-9A-Za-z]{32,}$/);
    ctx.dep.secrets.add(key.secret);
    assert.deepEqual(sorted(key.scopes), sorted(ALL_SCOPES));

    const health = await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    assert.equal(health.json.keyId, key.id);
    const tenant = await ctx.api.get('/api/server/tenant', { key: key.secret, expect: 200 });
    assert.equal(tenant.json.slug, 'demo');
    assert.equal(tenant.json.timezone, 'Asia/Jakarta');
    assert.equal(tenant.json.country, 'ID');
    assert.equal(health.json.tenantId, tenant.json.id);

    const staff = (await ctx.dep.cli(['staff', 'list', '--tenant', 'demo'])).json;
    const roles = Object.fromEntries(staff.map((x) => [x.username, [x.role, x.status]]));
    assert.deepEqual(roles['admin.one'], ['admin', 'active']);
    assert.deepEqual(roles['agent.one'], ['agent', 'active']);

    const ready = await ctx.api.get('/api/server/tenant/sdk-readiness', { key: key.secret, expect: 200 });
    const ok = Object.fromEntries(ready.json.checks.map((c) => [c.name, c.ok]));
    assert.equal(ok.widget_key, true, 'demo init creates the public widget key');
    assert.equal(ok.active_agent, true);

    const again = await ctx.dep.cli(['demo', 'init']);
    assert.equal(again.json.created, false);
    assert.doesNotMatch(again.stdout, /rn_sk_live_/, 'a second run prints no secret');
    const text = await ctx.dep.cli(['demo', 'init'], { json: false });
    assert.doesNotMatch(text.stdout + text.stderr, /rn_sk_live_/, 'a second run prints no secret');
    const tenants = (await ctx.dep.cli(['tenant', 'list'])).json;
    assert.equal(tenants.filter((t) => t.slug === 'demo').length, 1);
  });
});

describe('Tenant isolation', () => {
  const ctx = useDeployment('isolation');
  let a;
  let b;

  before(async () => {
    a = await ctx.dep.tenantWithKey();
    b = await ctx.dep.tenantWithKey({ timezone: 'Asia/Tokyo', country: 'JP' });
    await ctx.dep.addStaff(a.tenant.slug, 'agent.a', 'agent');
  });

  it('each key sees only its own tenant on health', async () => {
    const ra = await ctx.api.get('/api/server/health', { key: a.secret, expect: 200 });
    const rb = await ctx.api.get('/api/server/health', { key: b.secret, expect: 200 });
    assert.equal(ra.json.tenantId, a.tenant.id);
    assert.equal(ra.json.keyId, a.key.id);
    assert.equal(rb.json.tenantId, b.tenant.id);
    assert.equal(rb.json.keyId, b.key.id);
  });

  it('each key sees only its own tenant profile', async () => {
    const rb = await ctx.api.get('/api/server/tenant', { headerKey: b.secret, expect: 200 });
    assert.deepEqual(rb.json, b.tenant);
    for (const leak of [a.tenant.id, a.tenant.slug, a.tenant.clientId]) {
      assert.ok(!rb.text.includes(leak), `tenant B's profile mentions ${leak}`);
    }
    const ra = await ctx.api.get('/api/server/tenant', { key: a.secret, expect: 200 });
    assert.deepEqual(ra.json, a.tenant);
  });

  it('each key sees only its own tenant\'s readiness', async () => {
    const ra = await ctx.api.get('/api/server/tenant/sdk-readiness', { key: a.secret, expect: 200 });
    const rb = await ctx.api.get('/api/server/tenant/sdk-readiness', { key: b.secret, expect: 200 });
    const agentCheck = (res) => res.json.checks.find((c) => c.name === 'active_agent');
    assert.equal(agentCheck(ra).ok, true, 'tenant A has an active agent');
    assert.equal(agentCheck(rb).ok, false, 'tenant B has none: A\'s agent must not count');
  });

  it('tenant B\'s key next to tenant A\'s key is refused', async () => {
    const res = await ctx.api.get('/api/server/health', { key: b.secret, headerKey: a.secret });
    assertError(res, 401, 'SERVER_API_KEY_INVALID');
    assert.ok(!res.text.includes(a.tenant.id) && !res.text.includes(b.tenant.id));
  });
});

describe('SDK readiness', () => {
  const ctx = useDeployment('readiness');

  it('a new tenant is not ready; the active_agent check follows its agents', async () => {
    const { tenant, secret } = await ctx.dep.tenantWithKey();
    const read = async () =>
      (await ctx.api.get('/api/server/tenant/sdk-readiness', { key: secret, expect: 200 })).json;
    const check = (body, name) => body.checks.find((c) => c.name === name);

    let body = await read();
    assert.deepEqual(body.checks.map((c) => c.name), CHECK_NAMES);
    assert.equal(body.ready, false);
    assert.equal(check(body, 'active_agent').ok, false);
    for (const c of body.checks) {
      if (c.ok) assert.equal(c.hint, null, `${c.name} passes, so no hint`);
      else assert.ok(typeof c.hint === 'string' && c.hint.length > 0, `${c.name} needs a hint`);
    }
    assert.equal(body.ready, body.checks.every((c) => c.ok));

    await ctx.dep.addStaff(tenant.slug, 'agent.one', 'agent');
    body = await read();
    assert.deepEqual(check(body, 'active_agent'), { name: 'active_agent', ok: true, hint: null });
    assert.equal(body.ready, body.checks.every((c) => c.ok));

    await ctx.dep.cli(['staff', 'disable', '--tenant', tenant.slug, '--username', 'agent.one']);
    body = await read();
    assert.equal(check(body, 'active_agent').ok, false, 'a disabled agent does not count');
    assert.equal(body.ready, false);
  });
});

describe('Rate limits', () => {
  const ctx = useDeployment('ratelimit');
  let tenant;

  before(async () => {
    ({ tenant } = await ctx.dep.tenantWithKey());
  });

  it('burst 2: two requests pass, the third is 429 with Retry-After, then it recovers', async () => {
    const k = await ctx.dep.createKey(tenant.slug, { rateLimit: 2, burst: 2 });
    const r1 = await ctx.api.get('/api/server/health', { key: k.secret, expect: 200 });
    const r2 = await ctx.api.get('/api/server/tenant', { key: k.secret, expect: 200 });
    const r3 = await ctx.api.get('/api/server/health', { key: k.secret });
    assertError(r3, 429, 'SERVER_API_RATE_LIMITED');
    const h1 = rateHeaders(r1);
    const h2 = rateHeaders(r2);
    const h3 = rateHeaders(r3);
    assert.deepEqual([h1.limit, h1.remaining, h1.reset], [2, 1, 1]);
    assert.deepEqual([h2.limit, h2.remaining, h2.reset], [2, 0, 1]);
    assert.deepEqual([h3.limit, h3.remaining], [2, 0]);
    assert.equal(h3.retryAfter, 1, 'at 2 tokens/s the next token is under a second away');
    await sleep(h3.retryAfter * 1000 + 100);
    await ctx.api.get('/api/server/health', { key: k.secret, expect: 200 });
  });

  it('buckets are per key', async () => {
    const k = await ctx.dep.createKey(tenant.slug, { rateLimit: 1, burst: 1 });
    const other = await ctx.dep.createKey(tenant.slug, { rateLimit: 1, burst: 1 });
    await ctx.api.get('/api/server/health', { key: k.secret, expect: 200 });
    assertError(await ctx.api.get('/api/server/health', { key: k.secret }), 429,
      'SERVER_API_RATE_LIMITED');
    const res = await ctx.api.get('/api/server/health', { key: other.secret, expect: 200 });
    assert.deepEqual([rateHeaders(res).limit, rateHeaders(res).remaining], [1, 0]);
  });

  it('RateLimit-Limit is the burst: default 200, per-key override', async () => {
    const def = await ctx.dep.createKey(tenant.slug);
    const d = rateHeaders(await ctx.api.get('/api/server/health', { key: def.secret, expect: 200 }));
    assert.deepEqual([d.limit, d.remaining, d.reset], [200, 199, 1]);
    const custom = await ctx.dep.createKey(tenant.slug, { rateLimit: 5, burst: 10 });
    const c = rateHeaders(await ctx.api.get('/api/server/tenant/sdk-readiness',
      { key: custom.secret, expect: 200 }));
    assert.deepEqual([c.limit, c.remaining, c.reset], [10, 9, 1]);
  });
});

describe('HTTP conventions', () => {
  const ctx = useDeployment('http');
  let tenant;
  let key;
  let contactsLive = false;

  before(async () => {
    ({ tenant, key } = await ctx.dep.tenantWithKey());
    const probe = await ctx.api.call('POST', '/api/server/contacts', { key: key.secret, json: {} });
    contactsLive = probe.status !== 404;
  });

  const needsContacts = (t) => {
    if (contactsLive) return false;
    t.skip('POST /api/server/contacts answers 404 (contacts not built yet); body checks wait for it');
    return true;
  };

  it('404 SERVER_ROUTE_NOT_FOUND for unknown paths', async () => {
    for (const path of ['/api/server/nope', '/api/server/tenant/extra', '/api/server/healthz']) {
      assertError(await ctx.api.get(path, { key: key.secret }), 404, 'SERVER_ROUTE_NOT_FOUND');
    }
    assertError(await ctx.api.get('/nope'), 404, 'SERVER_ROUTE_NOT_FOUND');
  });

  it('a path with an encoded NUL is no route (never truncated to a shorter one)', async () => {
    for (const path of ['/api/server/tenant%00/sdk-readiness', '/api/server/health%00',
      '/healthz%00']) {
      assertError(await ctx.api.get(path, { key: key.secret }), 404, 'SERVER_ROUTE_NOT_FOUND');
    }
  });

  it('405 SERVER_METHOD_NOT_ALLOWED with Allow for known paths', async () => {
    const cases = [
      ['POST', '/api/server/health', true],
      ['PUT', '/api/server/tenant', true],
      ['DELETE', '/api/server/tenant/sdk-readiness', true],
      ['POST', '/healthz', false],
      ['POST', '/metrics', false],
      ['DELETE', '/api/server/openapi.json', false],
    ];
    for (const [method, path, auth] of cases) {
      const res = await ctx.api.call(method, path, auth ? { key: key.secret } : {});
      assertError(res, 405, 'SERVER_METHOD_NOT_ALLOWED');
      const allow = res.headers.allow.split(',').map((m) => m.trim());
      assert.ok(allow.includes('GET'), `${method} ${path}: Allow ${res.headers.allow}`);
      assert.ok(!allow.includes(method), `${method} ${path}: Allow ${res.headers.allow}`);
    }
  });

  it('unknown query parameters are ignored', async () => {
    await ctx.api.get('/api/server/health?foo=bar&limit=zzz', { key: key.secret, expect: 200 });
  });

  it('415 SERVER_UNSUPPORTED_MEDIA_TYPE for a body that is not application/json', async (t) => {
    if (needsContacts(t)) return;
    const body = '{"name":"Budi"}';
    const plain = await ctx.api.call('POST', '/api/server/contacts',
      { key: key.secret, headers: { 'Content-Type': 'text/plain' }, body });
    assertError(plain, 415, 'SERVER_UNSUPPORTED_MEDIA_TYPE');
    const form = await ctx.api.call('POST', '/api/server/contacts',
      { key: key.secret, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=Budi' });
    assertError(form, 415, 'SERVER_UNSUPPORTED_MEDIA_TYPE');
    const none = await ctx.api.call('POST', '/api/server/contacts', { key: key.secret, body });
    assertError(none, 415, 'SERVER_UNSUPPORTED_MEDIA_TYPE');
  });

  it('application/json with a charset parameter is accepted', async (t) => {
    if (needsContacts(t)) return;
    const res = await ctx.api.call('POST', '/api/server/contacts', {
      key: key.secret, headers: { 'Content-Type': 'application/json; charset=utf-8' }, json: {},
    });
    assert.notEqual(res.status, 415);
    assert.ok(res.status < 500, res.text);
  });

  it('400 SERVER_REQUEST_INVALID_JSON for broken JSON, bad UTF-8, non-objects', async (t) => {
    if (needsContacts(t)) return;
    const bodies = [
      '{"name":',
      Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      '[]',
      '"just a string"',
      '',
    ];
    for (const body of bodies) {
      const res = await ctx.api.call('POST', '/api/server/contacts', {
        key: key.secret, headers: { 'Content-Type': 'application/json' }, body,
      });
      assertError(res, 400, 'SERVER_REQUEST_INVALID_JSON');
    }
  });

  it('413 SERVER_REQUEST_TOO_LARGE for 1 MiB + 1 byte, with or without Content-Length', async (t) => {
    if (needsContacts(t)) return;
    const oversized = jsonOfSize(1024 * 1024 + 1);
    for (const chunked of [false, true]) {
      const res = await ctx.api.call('POST', '/api/server/contacts', {
        key: key.secret, headers: { 'Content-Type': 'application/json' }, body: oversized, chunked,
      });
      assertError(res, 413, 'SERVER_REQUEST_TOO_LARGE');
    }
    const exact = await ctx.api.call('POST', '/api/server/contacts', {
      key: key.secret, headers: { 'Content-Type': 'application/json' }, body: jsonOfSize(1024 * 1024),
    });
    assert.notEqual(exact.status, 413, 'exactly 1 MiB is within the limit');
    assert.ok(exact.status < 500, exact.text);
  });

  it('X-Request-Id: a well-formed id is echoed, in headers and in error bodies', async () => {
    const id = `e2e.${uniq()}_Req-1`;
    const ok = await ctx.api.get('/api/server/health', { key: key.secret, headers: { 'X-Request-Id': id } });
    assert.equal(ok.headers['x-request-id'], id);
    const max = 'A'.repeat(120) + uniq(8);
    const long = await ctx.api.get('/healthz', { headers: { 'X-Request-Id': max } });
    assert.equal(long.headers['x-request-id'], max);
    const err = await ctx.api.get('/api/server/nope', { key: key.secret, headers: { 'X-Request-Id': id } });
    assertError(err, 404, 'SERVER_ROUTE_NOT_FOUND');
    assert.equal(err.json.error.requestId, id);
    const unauth = await ctx.api.get('/api/server/health', { headers: { 'X-Request-Id': id } });
    assertError(unauth, 401, 'SERVER_API_KEY_MISSING');
    assert.equal(unauth.json.error.requestId, id);
  });

  it('X-Request-Id: absent or malformed ids are replaced by a generated req_ id', async () => {
    const seen = new Set();
    const cases = [undefined, '', 'A'.repeat(129), 'has space', 'semi;colon', 'slash/x', 'ümlaut'];
    for (const sent of cases) {
      const headers = sent === undefined ? {} : { 'X-Request-Id': sent };
      const res = await ctx.api.get('/api/server/health', { key: key.secret, headers, expect: 200 });
      const got = res.headers['x-request-id'];
      assert.match(got, GENERATED_REQ_ID, `sent ${JSON.stringify(sent)}, got ${got}`);
      assert.ok(!seen.has(got), 'generated ids are unique');
      seen.add(got);
    }
    const err = await ctx.api.get('/api/server/nope', { headers: { 'X-Request-Id': 'bad id' } });
    assertError(err, 404, 'SERVER_ROUTE_NOT_FOUND');
    assert.match(err.json.error.requestId, GENERATED_REQ_ID);
  });

  it('GET /healthz and /readyz answer {"status":"ok"} without a key', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await ctx.api.get(path, { expect: 200 });
      assert.deepEqual(res.json, { status: 'ok' });
    }
    // A bad key on an unauthenticated route is not an authentication attempt.
    await ctx.api.get('/healthz', { key: 'junk', expect: 200 });
  });

  it('GET /api/server/openapi.json is api/openapi.yaml as JSON', async () => {
    const res = await ctx.api.get('/api/server/openapi.json', { expect: 200 });
    assert.deepEqual(res.json, openapi().doc);
  });

  it('GET /metrics counts requests by route and status, latency and auth failures', async () => {
    const healthCount = (text) => sumSamples(text, 'ringnity_http_requests_total',
      { route: '/api/server/health', status: '200', method: 'GET' });
    await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    assertError(await ctx.api.get('/api/server/tenant'), 401, 'SERVER_API_KEY_MISSING');
    const before1 = await ctx.api.get('/metrics', { expect: 200 });
    assert.equal(before1.contentType, 'text/plain');
    const text = before1.text;
    assert.match(text, /^# TYPE ringnity_http_requests_total counter$/m);
    assert.match(text, /^# TYPE ringnity_http_request_duration_seconds histogram$/m);
    assert.match(text, /^ringnity_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);
    assert.match(text, /^ringnity_http_request_duration_seconds_count(\{[^}]*\})? \d+/m);
    assert.ok(sumSamples(text, 'ringnity_auth_failures_total', { code: 'SERVER_API_KEY_MISSING' }) >= 1,
      'auth failures are counted by code');
    const n0 = healthCount(text);
    assert.ok(n0 >= 1, 'health requests are counted');
    for (let i = 0; i < 3; i++) await ctx.api.get('/api/server/health', { key: key.secret, expect: 200 });
    const after = await ctx.api.get('/metrics', { expect: 200 });
    assert.equal(healthCount(after.text), n0 + 3);
  });

  it('logs one JSON line per request with the request id, and never a secret', async () => {
    const id = `log-probe-${uniq()}`;
    await ctx.api.get('/api/server/health', { key: key.secret, headers: { 'X-Request-Id': id }, expect: 200 });
    let line;
    for (let i = 0; i < 40 && !line; i++) {
      line = ctx.node.logLines().find((l) => l.requestId === id);
      if (!line) await sleep(50);
    }
    assert.ok(line, `no log line with requestId ${id}`);
    for (const field of ['time', 'level', 'requestId', 'tenant', 'method', 'route', 'status', 'durationMs']) {
      assert.ok(field in line, `log line lacks ${field}: ${JSON.stringify(line)}`);
    }
    assert.equal(line.status, 200);
    assert.equal(line.method, 'GET');
    assert.ok([tenant.id, tenant.slug].includes(line.tenant), `tenant field ${line.tenant}`);
    for (const secret of ctx.dep.secrets) {
      assert.ok(!ctx.node.stderr.includes(secret), 'a secret appears in the server log');
    }
  });
});

describe('Graceful shutdown', () => {
  it('SIGTERM: exit 0, then the port is closed', async () => {
    const dep = await Deployment.create('shutdown');
    try {
      const node = await dep.startNode();
      const api = new Api(node);
      const { secret } = await dep.tenantWithKey();
      await api.get('/api/server/health', { key: secret, expect: 200 });
      const exit = await node.stop();
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
      await assert.rejects(request(node.baseUrl, { path: '/healthz', timeoutMs: 2000 }));
    } finally {
      await dep.destroy();
    }
  });

  it('a restarted node keeps the data and the keys', async () => {
    const dep = await Deployment.create('restart');
    try {
      const first = await dep.startNode();
      const { tenant, secret } = await dep.tenantWithKey();
      await first.stop();
      const second = await dep.startNode();
      const res = await new Api(second).get('/api/server/tenant', { key: secret, expect: 200 });
      assert.deepEqual(res.json, tenant);
    } finally {
      await dep.destroy();
    }
  });
});

describe('Two nodes sharing one PostgreSQL database', { skip: IS_PG ? false : 'E2E_DATABASE_URL is not postgres://' }, () => {
  const ctx = useDeployment('twonodes', { nodes: 2 });

  it('a rotation or revocation through the CLI is seen by both nodes at once', async () => {
    const [n1, n2] = ctx.nodes.map((n) => new Api(n));
    const { tenant, key } = await ctx.dep.tenantWithKey();
    for (const api of [n1, n2, n1, n2]) {
      await api.get('/api/server/health', { key: key.secret, expect: 200 });
    }
    const rotated = await ctx.dep.rotateKey(tenant.slug, key.id);
    assertError(await n2.get('/api/server/health', { key: key.secret }), 401, 'SERVER_API_KEY_INVALID');
    assertError(await n1.get('/api/server/health', { key: key.secret }), 401, 'SERVER_API_KEY_INVALID');
    await n2.get('/api/server/health', { key: rotated.secret, expect: 200 });
    await n1.get('/api/server/health', { key: rotated.secret, expect: 200 });

    await ctx.dep.revokeKey(tenant.slug, key.id);
    assertError(await n1.get('/api/server/tenant', { key: rotated.secret }), 401, 'SERVER_API_KEY_INVALID');
    assertError(await n2.get('/api/server/tenant', { key: rotated.secret }), 401, 'SERVER_API_KEY_INVALID');
  });

  it('both nodes serve the same tenants', async () => {
    const [n1, n2] = ctx.nodes.map((n) => new Api(n));
    const { tenant, secret } = await ctx.dep.tenantWithKey();
    const a = await n1.get('/api/server/tenant', { key: secret, expect: 200 });
    const b = await n2.get('/api/server/tenant', { key: secret, expect: 200 });
    assert.deepEqual(a.json, tenant);
    assert.deepEqual(b.json, tenant);
  });
});

describe('PostgreSQL store lost while serving', { skip: IS_PG ? false : 'E2E_DATABASE_URL is not postgres://' }, () => {
  const ctx = useDeployment('storelost');

  it('/readyz and authenticated calls answer 503 SERVER_UNAVAILABLE, /healthz stays 200', async () => {
    const { secret } = await ctx.dep.tenantWithKey();
    await ctx.api.get('/readyz', { expect: 200 });
    await ctx.dep.dropDatabase();
    assertError(await ctx.api.get('/readyz'), 503, 'SERVER_UNAVAILABLE');
    const res = await ctx.api.get('/api/server/health', { key: secret });
    assertError(res, 503, 'SERVER_UNAVAILABLE');
    assert.doesNotMatch(res.text, /postgres|database|PG|FATAL/i, 'a 5xx leaks no internals');
    const live = await ctx.api.get('/healthz', { expect: 200 });
    assert.deepEqual(live.json, { status: 'ok' });
  });
});

/** A JSON object of exactly `size` bytes: {"name":"Budi"} padded with spaces. */
function jsonOfSize(size) {
  const head = '{"name":"Budi"';
  return `${head}${' '.repeat(size - head.length - 1)}}`;
}

/** Sums the samples of a Prometheus metric whose labels include `labels`. */
function sumSamples(text, metric, labels) {
  let total = 0;
  const re = new RegExp(`^${metric}(?:\\{([^}]*)\\})? ([0-9.eE+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const got = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(m[2]);
  }
  return total;
}
