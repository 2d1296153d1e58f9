// Reports end-to-end tests (issue 5, SPEC §7): exact figures of a
// hand-built history across the New York spring-forward change (replayed at
// chosen instants with `ringnity demo replay`), every period form and its
// errors, JSON and CSV exports (RFC 4180, formula neutralisation,
// Content-Disposition), zero days, scope denial, tenant isolation, and, for
// seeded tenants in UTC+7 and in a DST zone, every figure recomputed from the
// raw rows (tests/e2e/lib/reports.mjs) and required to equal the report.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Api, assertError } from './lib/api.mjs';
import { Deployment } from './lib/server.mjs';
import { datesBetween, hoursInDay, localDayOf, recompute } from './lib/reports.mjs';

const R = '/api/server/reports';
const FAST = { rateLimit: 100000, burst: 100000 };
const NY = 'America/New_York';

/** Writes ops to a file in the deployment dir and replays them into slug. */
async function replay(dep, slug, ops) {
  const file = path.join(dep.dir, `replay-${slug}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(ops));
  return (await dep.cli(['demo', 'replay', '--tenant', slug, '--file', file])).json;
}

const z = (iso) => iso; // instants are written with their offsets for readability

/* The scenario: New York, Saturday 2026-03-07 to Monday 2026-03-09; clocks
 * jump from 02:00 EST to 03:00 EDT on Sunday 2026-03-08. */
const SCENARIO = [
  { op: 'presence', agent: 'ana', status: 'online', at: z('2026-03-07T22:00:00-05:00') },
  { op: 'visitor_message', visitor: 'v1', name: 'Vee', text: 'card blocked',
    at: z('2026-03-07T23:30:00-05:00'), ref: 'c1' },
  { op: 'call_start', agent: 'ana', conversation: 'c1', direction: 'inbound',
    at: z('2026-03-07T23:50:00-05:00'), ref: 'k1' },
  { op: 'agent_message', conversation: 'c1', agent: 'ana', text: 'on it',
    at: z('2026-03-08T00:10:00-05:00') },
  { op: 'call_end', call: 'k1', answered: true, at: z('2026-03-08T00:20:00-05:00') },
  { op: 'visitor_message', visitor: 'v1', text: 'thanks', at: z('2026-03-08T03:30:00-04:00') },
  { op: 'close', conversation: 'c1', agent: 'ana', at: z('2026-03-08T03:40:00-04:00') },
  { op: 'presence', agent: 'ana', status: 'away', at: z('2026-03-08T04:00:00-04:00') },
  { op: 'presence', agent: 'ana', status: 'offline', at: z('2026-03-08T04:15:00-04:00') },
  { op: 'visitor_message', visitor: 'v2', text: 'hello?', at: z('2026-03-08T09:00:00-04:00'),
    ref: 'c2' },
  { op: 'assign', conversation: 'c2', agent: 'ben', at: z('2026-03-08T09:01:00-04:00') },
  { op: 'agent_message', conversation: 'c2', agent: 'ben', text: 'hi',
    at: z('2026-03-08T09:02:30-04:00') },
  { op: 'call_start', agent: 'ben', direction: 'outbound', at: z('2026-03-08T10:00:00-04:00'),
    ref: 'k2' },
  { op: 'call_end', call: 'k2', answered: false, at: z('2026-03-08T10:00:20-04:00') },
  { op: 'ticket_open', agent: 'ana', subject: 'Replace card', priority: 'high',
    conversation: 'c1', at: z('2026-03-08T12:00:00-04:00'), ref: 't1' },
  { op: 'ticket_update', ticket: 't1', status: 'resolved', at: z('2026-03-09T11:00:00-04:00') },
  { op: 'ticket_update', ticket: 't1', status: 'open', at: z('2026-03-09T12:00:00-04:00') },
  { op: 'ticket_update', ticket: 't1', status: 'resolved', at: z('2026-03-09T13:00:00-04:00') },
  { op: 'contact_created', at: z('2026-03-09T10:00:00Z') },
  { op: 'visitor_message', visitor: 'v3', text: 'late', at: z('2026-03-09T23:59:59-04:00') },
  { op: 'visitor_message', visitor: 'v4', text: 'next day', at: z('2026-03-10T00:00:00-04:00') },
];

const ZERO = {
  conversations: 0, conversationsResolved: 0, messagesInbound: 0, messagesOutbound: 0,
  avgFirstResponseSeconds: null, avgResolutionSeconds: null, calls: 0, callsAnswered: 0,
  callsMissed: 0, avgTalkSeconds: null, contactsCreated: 0, ticketsCreated: 0,
  ticketsResolved: 0,
};

const EXPECTED_DAYS = [
  { date: '2026-03-07', ...ZERO, conversations: 1, messagesInbound: 1, calls: 1,
    callsAnswered: 1, avgTalkSeconds: 1800 },
  { date: '2026-03-08', ...ZERO, conversations: 1, conversationsResolved: 1,
    messagesInbound: 2, messagesOutbound: 2, avgFirstResponseSeconds: 1275,
    avgResolutionSeconds: 11400, calls: 1, callsMissed: 1, ticketsCreated: 1 },
  { date: '2026-03-09', ...ZERO, conversations: 1, messagesInbound: 1, contactsCreated: 1,
    ticketsResolved: 1 },
];

const EXPECTED_SUMMARY = {
  conversations: 3, conversationsResolved: 1, messagesInbound: 4, messagesOutbound: 2,
  avgFirstResponseSeconds: 1275, avgResolutionSeconds: 11400, calls: 2, callsAnswered: 1,
  callsMissed: 1, avgTalkSeconds: 1800, contactsCreated: 1, ticketsCreated: 1,
  ticketsResolved: 1,
};

const CUSTOM = 'period=custom&from=2026-03-07&to=2026-03-09';

describe('reports: a hand-built New York history across the DST change', () => {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create('reports');
    ctx.node = await ctx.dep.startNode();
    ctx.api = new Api(ctx.node);
    ctx.tenant = await ctx.dep.createTenant({ timezone: NY, country: 'US' });
    ctx.ana = await ctx.dep.addStaff(ctx.tenant.slug, 'ana', 'agent', '=cmd|\' /C calc\'!A0');
    ctx.ben = await ctx.dep.addStaff(ctx.tenant.slug, 'ben', 'admin', 'Ben "The Closer", Jr.');
    ctx.key = (await ctx.dep.createKey(ctx.tenant.slug, { scopes: ['server:reports:read'],
      ...FAST })).secret;
    ctx.replayed = await replay(ctx.dep, ctx.tenant.slug, SCENARIO);
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });
  const get = (p, opts = {}) => ctx.api.get(`${R}/${p}`, { key: ctx.key, ...opts });

  it('the replay reports every operation and the ids it created', () => {
    assert.equal(ctx.replayed.operations, SCENARIO.length);
    assert.match(ctx.replayed.refs.c1, /^cnv_[0-9a-z]{26}$/);
    assert.match(ctx.replayed.refs.k1, /^call_[0-9a-z]{26}$/);
    assert.match(ctx.replayed.refs.t1, /^tkt_[0-9a-z]{26}$/);
  });

  it('summary: exact totals, averages over the whole period', async () => {
    const res = await get(`summary?${CUSTOM}`, { expect: 200 });
    assert.deepEqual(res.json.period,
      { name: 'custom', from: '2026-03-07', to: '2026-03-09', timezone: NY });
    assert.equal(res.json.tenantId, ctx.tenant.id);
    assert.deepEqual(res.json.summary, EXPECTED_SUMMARY);
  });

  it('timeseries: one row per local day, each figure on the day of its instant', async () => {
    const res = await get(`timeseries?${CUSTOM}`, { expect: 200 });
    assert.deepEqual(res.json.data, EXPECTED_DAYS);
  });

  it('productivity: per agent, online time split at local midnight (23-hour Sunday)', async () => {
    const res = await get(`productivity?${CUSTOM}`, { expect: 200 });
    assert.deepEqual(res.json.data, [
      { agentId: ctx.ana.id, username: 'ana', displayName: '=cmd|\' /C calc\'!A0',
        conversationsHandled: 1, conversationsResolved: 1, messagesSent: 1,
        avgFirstResponseSeconds: 2400, callsHandled: 1, talkSeconds: 1800,
        onlineSeconds: 2 * 3600 + 3 * 3600 },
      { agentId: ctx.ben.id, username: 'ben', displayName: 'Ben "The Closer", Jr.',
        conversationsHandled: 1, conversationsResolved: 0, messagesSent: 1,
        avgFirstResponseSeconds: 150, callsHandled: 0, talkSeconds: 0, onlineSeconds: 0 },
    ]);
    const sunday = await get('productivity?period=custom&from=2026-03-08&to=2026-03-08',
      { expect: 200 });
    assert.equal(sunday.json.data[0].onlineSeconds, 3 * 3600);
  });

  it('export JSON: the whole envelope, consistent with the three reports', async () => {
    const res = await get(`export?${CUSTOM}&format=json`, { expect: 200 });
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(Object.keys(res.json),
      ['tenantId', 'period', 'generatedAt', 'summary', 'timeseries', 'productivity']);
    assert.deepEqual(res.json.summary, EXPECTED_SUMMARY);
    assert.deepEqual(res.json.timeseries, EXPECTED_DAYS);
    assert.equal(res.json.productivity.length, 2);
    const plain = await get(`export?${CUSTOM}`, { expect: 200 });
    assert.deepEqual(plain.json.summary, EXPECTED_SUMMARY, 'JSON is the default format');
  });

  it('export CSV: RFC 4180 text, CRLF, the three datasets', async () => {
    const today = localDayOf(NY)(Date.now());
    const res = await get(`export?${CUSTOM}&format=csv`, { expect: 200 });
    assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8; header=present');
    assert.equal(res.headers['content-disposition'],
      `attachment; filename="ringnity-report-custom-${today}.csv"`);
    assert.equal(res.text,
      'date,conversations,conversationsResolved,messagesInbound,messagesOutbound,' +
      'avgFirstResponseSeconds,avgResolutionSeconds,calls,callsAnswered,callsMissed,' +
      'avgTalkSeconds,contactsCreated,ticketsCreated,ticketsResolved\r\n' +
      '2026-03-07,1,0,1,0,,,1,1,0,1800,0,0,0\r\n' +
      '2026-03-08,1,1,2,2,1275,11400,1,0,1,,0,1,0\r\n' +
      '2026-03-09,1,0,1,0,,,0,0,0,,1,0,1\r\n');
    const summary = await get(`export?${CUSTOM}&format=csv&dataset=summary`, { expect: 200 });
    assert.equal(summary.text.split('\r\n')[1],
      `custom,2026-03-07,2026-03-09,${NY},3,1,4,2,1275,11400,2,1,1,1800,1,1,1`);
  });

  it('export CSV: text cells that look like formulas are neutralised, others quoted', async () => {
    const res = await get(`export?${CUSTOM}&format=csv&dataset=productivity`, { expect: 200 });
    const lines = res.text.split('\r\n');
    assert.equal(lines[0], 'agentId,username,displayName,conversationsHandled,' +
      'conversationsResolved,messagesSent,avgFirstResponseSeconds,callsHandled,talkSeconds,' +
      'onlineSeconds');
    assert.equal(lines[1], `${ctx.ana.id},ana,'=cmd|' /C calc'!A0,1,1,1,2400,1,1800,18000`);
    assert.equal(lines[2], `${ctx.ben.id},ben,"Ben ""The Closer"", Jr.",1,0,1,150,0,0,0`);
    assert.equal(lines[3], '');
    assert.equal(lines.length, 4);
  });

  it('a day outside the period is not counted, and a zero day is a row of zeros', async () => {
    const res = await get('timeseries?period=custom&from=2026-03-10&to=2026-03-11',
      { expect: 200 });
    assert.deepEqual(res.json.data, [
      { date: '2026-03-10', ...ZERO, conversations: 1, messagesInbound: 1 },
      { date: '2026-03-11', ...ZERO },
    ]);
  });

  it('named periods end on the tenant\'s local today', async () => {
    const today = localDayOf(NY)(Date.now());
    for (const [period, days] of [['today', 1], ['7days', 7], ['30days', 30], ['90days', 90]]) {
      const res = await get(`timeseries?period=${period}`, { expect: 200 });
      assert.equal(res.json.period.name, period);
      assert.equal(res.json.period.to, today);
      assert.equal(res.json.data.length, days);
      assert.deepEqual(res.json.data.map((r) => r.date), datesBetween(res.json.period.from, today));
    }
    const dflt = await get('summary', { expect: 200 });
    assert.equal(dflt.json.period.name, '30days');
  });

  it('bad periods answer 400 SERVER_REPORT_PERIOD_INVALID naming the parameter', async () => {
    const cases = [
      ['period=yesterday', [['period', 'must_be_today_7days_30days_90days_or_custom']]],
      ['period=', [['period', 'must_be_today_7days_30days_90days_or_custom']]],
      ['period=custom&from=2026-03-01', [['to', 'required']]],
      ['period=custom&from=2026-02-30&to=2026-03-01', [['from', 'must_be_a_date_yyyy_mm_dd']]],
      ['period=custom&from=2026-03-02&to=2026-03-01', [['to', 'must_not_be_before_from']]],
      ['period=custom&from=2025-02-28&to=2026-03-01', [['to', 'at_most_366_days_after_from']]],
      ['period=7days&from=2026-03-01', [['from', 'only_with_custom_period']]],
    ];
    for (const [query, details] of cases) {
      for (const p of ['summary', 'timeseries', 'productivity', 'export']) {
        const res = await get(`${p}?${query}`);
        assertError(res, 400, 'SERVER_REPORT_PERIOD_INVALID');
        assert.deepEqual(res.json.error.details,
          details.map(([field, issue]) => ({ field, issue })), `${p}?${query}`);
      }
    }
    const longest = await get('summary?period=custom&from=2025-03-02&to=2026-03-02');
    assert.equal(longest.status, 200, '366 days is allowed');
  });

  it('bad format or dataset answer 400 SERVER_REPORT_FORMAT_INVALID', async () => {
    for (const query of ['format=xml', 'format=CSV', 'format=csv&dataset=agents', 'dataset=']) {
      const res = await get(`export?${query}`);
      assertError(res, 400, 'SERVER_REPORT_FORMAT_INVALID');
    }
    const both = await get('export?format=xml&period=nope');
    assertError(both, 400, 'SERVER_REPORT_FORMAT_INVALID');
  });

  it('every report needs server:reports:read', async () => {
    const other = (await ctx.dep.createKey(ctx.tenant.slug,
      { scopes: ['server:contacts:read'] })).secret;
    for (const p of ['summary', 'timeseries', 'productivity', 'export', 'export?format=csv']) {
      const res = await ctx.api.get(`${R}/${p}`, { key: other });
      assertError(res, 403, 'SERVER_API_SCOPE_DENIED');
      assert.match(res.json.error.message, /server:reports:read/);
    }
  });

  it('another tenant sees only its own figures', async () => {
    const b = await ctx.dep.createTenant({ timezone: NY, country: 'US' });
    await ctx.dep.addStaff(b.slug, 'cy', 'agent');
    const keyB = (await ctx.dep.createKey(b.slug, { scopes: ['server:reports:read'] })).secret;
    await replay(ctx.dep, b.slug, [
      { op: 'visitor_message', visitor: 'v1', text: 'x', at: '2026-03-08T12:00:00Z', ref: 'c' },
      { op: 'agent_message', conversation: 'c', agent: 'cy', text: 'y',
        at: '2026-03-08T12:00:07Z' },
    ]);
    const mine = await ctx.api.get(`${R}/summary?${CUSTOM}`, { key: keyB, expect: 200 });
    assert.equal(mine.json.tenantId, b.id);
    assert.deepEqual(mine.json.summary, { ...ZERO, conversations: 1, messagesInbound: 1,
      messagesOutbound: 1, avgFirstResponseSeconds: 7 });
    const prod = await ctx.api.get(`${R}/productivity?${CUSTOM}`, { key: keyB, expect: 200 });
    assert.deepEqual(prod.json.data.map((r) => r.username), ['cy']);
    const theirs = await get(`summary?${CUSTOM}`, { expect: 200 });
    assert.deepEqual(theirs.json.summary, EXPECTED_SUMMARY, 'tenant A is unchanged');
    // A replay naming another tenant's conversation id is refused like an unknown one.
    const res = await ctx.dep.cli(['demo', 'replay', '--tenant', b.slug, '--file',
      writeOps(ctx.dep, [{ op: 'close', conversation: ctx.replayed.refs.c1, agent: 'cy',
        at: '2026-03-09T00:00:00Z' }])], { allowFail: true });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /not found/);
  });

  it('a tenant without any activity reports zeros, not missing days', async () => {
    const empty = await ctx.dep.tenantWithKey({ timezone: 'Asia/Jakarta' });
    const res = await ctx.api.get(`${R}/export?period=7days`, { key: empty.secret, expect: 200 });
    assert.equal(res.json.timeseries.length, 7);
    for (const row of res.json.timeseries) assert.deepEqual({ ...row, date: undefined },
      { ...ZERO, date: undefined });
    assert.deepEqual(res.json.summary, ZERO);
    assert.deepEqual(res.json.productivity, []);
  });
});

function writeOps(dep, ops) {
  const file = path.join(dep.dir, `ops-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(ops));
  return file;
}

/* Seeds a tenant, then recomputes every figure from the raw rows. */
async function seededTenantMatchesRawRows(dep, api, timezone, days) {
  const tenant = await dep.createTenant({ timezone });
  const key = (await dep.createKey(tenant.slug, { scopes: ['server:reports:read'], ...FAST }))
    .secret;
  const seeded = (await dep.cli(['demo', 'seed', '--tenant', tenant.slug, '--days',
    String(days), '--conversations', '2500', '--agents', '5', '--seed', '20261203'])).json;
  assert.ok(seeded.conversations > 2000, `seeded ${seeded.conversations}`);
  const today = localDayOf(timezone)(Date.now());
  const from = datesBetween('2000-01-01', today).slice(-days)[0];
  const res = await api.get(`${R}/export?period=custom&from=${from}&to=${today}`,
    { key, expect: 200 });
  const report = res.json;
  if (report.period.to !== today) return 'the local date changed during the test: not compared';
  const expected = await recompute(dep, tenant.id, timezone, from, today,
    Date.parse(report.generatedAt));
  assert.deepEqual(report.timeseries, expected.timeseries);
  assert.deepEqual(report.summary, expected.summary);
  assert.equal(report.productivity.length, 5);
  for (const row of report.productivity) {
    const { agentId, username, displayName, ...figures } = row;
    assert.deepEqual(figures, expected.productivity.get(agentId), username);
  }
  assert.equal(report.summary.conversations, seeded.conversations);
  assert.equal(report.summary.messagesInbound + report.summary.messagesOutbound,
    seeded.messages);
  return datesBetween(from, today).map((d) => hoursInDay(timezone, d));
}

describe('reports: seeded tenants equal their raw rows', () => {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create('reports-seeded');
    ctx.node = await ctx.dep.startNode();
    ctx.api = new Api(ctx.node);
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });

  it('Asia/Jakarta (UTC+7, no DST): every day, agent and total matches', async () => {
    const hours = await seededTenantMatchesRawRows(ctx.dep, ctx.api, 'Asia/Jakarta', 120);
    assert.ok(Array.isArray(hours), hours);
    assert.ok(hours.every((h) => h === 24));
  });

  it('Europe/Berlin over 250 days (a DST change inside): every figure matches', async () => {
    const hours = await seededTenantMatchesRawRows(ctx.dep, ctx.api, 'Europe/Berlin', 250);
    assert.ok(Array.isArray(hours), hours);
    assert.ok(hours.includes(23) || hours.includes(25), 'the period holds a DST change');
  });

  it('America/New_York over 250 days: every figure matches', async () => {
    const hours = await seededTenantMatchesRawRows(ctx.dep, ctx.api, NY, 250);
    assert.ok(Array.isArray(hours), hours);
    assert.ok(hours.includes(23) || hours.includes(25), 'the period holds a DST change');
  });
});
