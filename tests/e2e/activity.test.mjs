// Activity through the SDK endpoints (issue 5, SPEC §5 SDK side): a visitor
// writes, agents answer, assign, close, call and open tickets, presence
// changes, admins read their views and add AI knowledge. Checked: every
// answer against api/openapi.yaml, exact state transitions and refusals,
// the outbox event of each change, cursors, exact scopes per endpoint,
// audiences, tenant isolation, and the reports counting the live activity.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Api, assertError } from './lib/api.mjs';
import { Deployment } from './lib/server.mjs';
import { rawRows } from './lib/reports.mjs';

const ORIGIN = 'http://shop.example.test';
const AGENT_SCOPES = ['agent:profile:read', 'agent:presence:read', 'agent:presence:write',
  'agent:conversations:read', 'agent:conversations:write', 'agent:messages:read',
  'agent:messages:write', 'agent:media:delete', 'agent:calls:read', 'agent:calls:write'];
const ADMIN_SCOPES = ['admin:tenant:read', 'admin:readiness:read', 'admin:domains:read',
  'admin:services:read', 'admin:subscription:read', 'admin:ai-readiness:read',
  'admin:staff-summary:read', 'admin:reports:export', 'admin:ai-knowledge:write'];

const ctx = {};

async function mintStaff(kind, secret, username, scopes) {
  const res = await ctx.api.call('POST', `/api/server/sdk-token/${kind}`,
    { key: secret, json: { username, scopes } });
  assert.equal(res.status, 201, res.text);
  return res.json.token;
}

/** A visitor context token whose session has started (unless told not to). */
async function visitor(secret, slug, externalId, { session = true } = {}) {
  const res = await ctx.api.call('POST', '/api/server/visitor-context-token',
    { key: secret, json: { visitor: { externalId, name: `Visitor ${externalId}` } } });
  assert.equal(res.status, 201, res.text);
  const token = res.json.contextToken;
  if (session) {
    await ctx.api.call('POST', '/api/sdk/visitor/session', {
      json: { slug, contextToken: token }, headers: { Origin: ORIGIN }, expect: 201,
    });
  }
  return token;
}

const as = (token) => ({
  get: (p, opts = {}) => ctx.api.call('GET', p, { key: token, ...opts }),
  post: (p, json, opts = {}) => ctx.api.call('POST', p, { key: token, json, ...opts }),
  patch: (p, json, opts = {}) => ctx.api.call('PATCH', p, { key: token, json, ...opts }),
});

async function eventCount(tenantId, type) {
  const rows = await rawRows(ctx.dep, 'SELECT COUNT(*) AS n FROM events' +
    ` WHERE tenant_id = '${tenantId}' AND type = '${type}'`);
  return Number(rows[0].n);
}

before(async () => {
  ctx.dep = await Deployment.create('activity');
  ctx.node = await ctx.dep.startNode();
  ctx.api = new Api(ctx.node);
  for (const name of ['a', 'b']) {
    const t = await ctx.dep.tenantWithKey({ key: { rateLimit: 100000, burst: 100000 } });
    t.agent = await ctx.dep.addStaff(t.tenant.slug, 'agent.one', 'agent', 'Agent One');
    t.agent2 = await ctx.dep.addStaff(t.tenant.slug, 'agent.two', 'agent', 'Agent Two');
    t.admin = await ctx.dep.addStaff(t.tenant.slug, 'admin.one', 'admin', 'Admin One');
    await ctx.dep.cli(['tenant', 'domains', 'add', '--tenant', t.tenant.slug, '--domain',
      'shop.example.test']);
    t.agentToken = await mintStaff('agent', t.secret, 'agent.one', AGENT_SCOPES);
    t.agent2Token = await mintStaff('agent', t.secret, 'agent.two', AGENT_SCOPES);
    t.adminToken = await mintStaff('admin', t.secret, 'admin.one', ADMIN_SCOPES);
    ctx[name] = t;
  }
});

after(async () => {
  if (ctx.dep) await ctx.dep.destroy();
});

describe('a conversation from the first visitor message to closing', () => {
  const s = {};
  before(async () => {
    s.v = await visitor(ctx.a.secret, ctx.a.tenant.slug, 'crm-1');
    s.agent = as(ctx.a.agentToken);
  });

  it('a context token that never started a session may not write', async () => {
    const token = await visitor(ctx.a.secret, ctx.a.tenant.slug, 'crm-nosession',
      { session: false });
    const res = await as(token).post('/api/sdk/visitor/messages', { text: 'hi' });
    assertError(res, 403, 'SDK_VISITOR_SESSION_REQUIRED');
  });

  it('the first visitor message opens a conversation, the next continues it', async () => {
    const first = await as(s.v).post('/api/sdk/visitor/messages', { text: 'My card is blocked' },
      { expect: 201 });
    const c = first.json.conversation;
    assert.equal(c.status, 'open');
    assert.equal(c.visitorName, 'Visitor crm-1');
    assert.equal(c.agentId, null);
    assert.equal(first.json.message.direction, 'inbound');
    assert.equal(first.json.message.senderId, c.visitorId);
    const second = await as(s.v).post('/api/sdk/visitor/messages', { text: 'Please help' },
      { expect: 201 });
    assert.equal(second.json.conversation.id, c.id);
    assert.equal(second.json.conversation.messagesInbound, 2);
    s.cnv = c.id;
    assert.equal(await eventCount(ctx.a.tenant.id, 'conversation.created'), 1);
    assert.equal(await eventCount(ctx.a.tenant.id, 'conversation.message.received'), 2);
  });

  it('bodies are strict', async () => {
    const cases = [
      [{}, [['text', 'required']]],
      [{ text: '' }, [['text', 'must_not_be_empty']]],
      [{ text: 5 }, [['text', 'must_be_string']]],
      [{ text: 'x'.repeat(4001) }, [['text', 'too_long']]],
      [{ text: 'ok', extra: 1 }, [['extra', 'unknown_field']]],
      [{ text: 'bell\u0007' }, [['text', 'control_characters']]],
    ];
    for (const [json, details] of cases) {
      const res = await as(s.v).post('/api/sdk/visitor/messages', json);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, details.map(([field, issue]) => ({ field, issue })));
    }
    const multi = await as(s.v).post('/api/sdk/visitor/messages', { text: 'line 1\nline 2' });
    assert.equal(multi.status, 201);
  });

  it('the agent lists it as open, answers, and is assigned by answering', async () => {
    const open = await s.agent.get('/api/sdk/agent/conversations?status=open', { expect: 200 });
    assert.deepEqual(open.json.data.map((c) => c.id), [s.cnv]);
    const res = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/messages`,
      { text: 'Hello, let me check' }, { expect: 201 });
    const c = res.json.conversation;
    assert.equal(c.status, 'assigned');
    assert.equal(c.agentId, ctx.a.agent.id);
    assert.equal(c.firstResponseAt, res.json.message.createdAt);
    assert.equal(res.json.message.senderId, ctx.a.agent.id);
    const list = await as(s.v).get('/api/sdk/visitor/messages', { expect: 200 });
    assert.deepEqual(list.json.data.map((m) => m.direction),
      ['inbound', 'inbound', 'inbound', 'outbound']);
    const msgs = await s.agent.get(`/api/sdk/agent/conversations/${s.cnv}/messages`,
      { expect: 200 });
    assert.deepEqual(msgs.json.data, list.json.data);
    assert.equal(await eventCount(ctx.a.tenant.id, 'conversation.message.received'), 3,
      'agent messages are not "received" events');
  });

  it('assigning to another agent, to nobody known, and by default to oneself', async () => {
    const other = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/assign`,
      { agentId: ctx.a.agent2.id }, { expect: 200 });
    assert.equal(other.json.agentId, ctx.a.agent2.id);
    const bad = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/assign`,
      { agentId: ctx.b.agent.id });
    assertError(bad, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(bad.json.error.details, [{ field: 'agentId', issue: 'unknown_agent' }]);
    const self = await ctx.api.call('POST', `/api/sdk/agent/conversations/${s.cnv}/assign`,
      { key: ctx.a.agentToken, expect: 200 });
    assert.equal(self.json.agentId, ctx.a.agent.id);
  });

  it('closing: 200 with the closer, then writes refused, closing again a no-op', async () => {
    const closed = await ctx.api.call('POST', `/api/sdk/agent/conversations/${s.cnv}/close`,
      { key: ctx.a.agentToken, expect: 200 });
    assert.equal(closed.json.status, 'closed');
    assert.equal(closed.json.closedBy, ctx.a.agent.id);
    const write = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/messages`,
      { text: 'late' });
    assertError(write, 409, 'SDK_CONVERSATION_CLOSED');
    const assign = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/assign`, {});
    assertError(assign, 409, 'SDK_CONVERSATION_CLOSED');
    const again = await s.agent.post(`/api/sdk/agent/conversations/${s.cnv}/close`, {},
      { expect: 200 });
    assert.equal(again.json.closedAt, closed.json.closedAt);
    assert.equal(await eventCount(ctx.a.tenant.id, 'conversation.closed'), 1);
    const empty = await as(s.v).get('/api/sdk/visitor/messages', { expect: 200 });
    assert.deepEqual(empty.json, { data: [], nextCursor: null });
    const next = await as(s.v).post('/api/sdk/visitor/messages', { text: 'one more thing' },
      { expect: 201 });
    assert.notEqual(next.json.conversation.id, s.cnv);
    assert.equal(await eventCount(ctx.a.tenant.id, 'conversation.created'), 2);
  });

  it('unknown and malformed conversation ids answer 404 SDK_NOT_FOUND', async () => {
    for (const id of ['cnv_00000000000000000000000000', 'nope', ctx.a.agent.id]) {
      assertError(await s.agent.get(`/api/sdk/agent/conversations/${id}`), 404, 'SDK_NOT_FOUND');
      assertError(await s.agent.post(`/api/sdk/agent/conversations/${id}/messages`,
        { text: 'x' }), 404, 'SDK_NOT_FOUND');
    }
  });
});

describe('calls, tickets and presence', () => {
  const agent = () => as(ctx.a.agentToken);

  it('a call starts, is read, ends answered once, and counts its events', async () => {
    const started = await agent().post('/api/sdk/agent/calls', { direction: 'inbound' },
      { expect: 201 });
    const call = started.json;
    assert.equal(call.status, 'active');
    assert.equal(call.outcome, null);
    assert.equal(call.agentId, ctx.a.agent.id);
    const read = await agent().get(`/api/sdk/agent/calls/${call.id}`, { expect: 200 });
    assert.deepEqual(read.json, call);
    const tooLong = await agent().post(`/api/sdk/agent/calls/${call.id}/end`,
      { outcome: 'answered', talkSeconds: 3600 });
    assertError(tooLong, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(tooLong.json.error.details,
      [{ field: 'talkSeconds', issue: 'longer_than_the_call' }]);
    const ended = await agent().post(`/api/sdk/agent/calls/${call.id}/end`,
      { outcome: 'answered' }, { expect: 200 });
    assert.equal(ended.json.status, 'ended');
    assert.equal(ended.json.outcome, 'answered');
    assert.equal(ended.json.talkSeconds, 0);
    assertError(await agent().post(`/api/sdk/agent/calls/${call.id}/end`, { outcome: 'missed' }),
      409, 'SDK_CALL_ENDED');
    assert.equal(await eventCount(ctx.a.tenant.id, 'call.started'), 1);
    assert.equal(await eventCount(ctx.a.tenant.id, 'call.ended'), 1);
  });

  it('call bodies are strict', async () => {
    const cases = [
      [{}, [['direction', 'required']]],
      [{ direction: 'sideways' }, [['direction', 'not_allowed']]],
      [{ direction: 'inbound', conversationId: 'cnv_00000000000000000000000000' },
        [['conversationId', 'unknown_conversation']]],
    ];
    for (const [json, details] of cases) {
      const res = await agent().post('/api/sdk/agent/calls', json);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, details.map(([field, issue]) => ({ field, issue })));
    }
    const call = (await agent().post('/api/sdk/agent/calls', { direction: 'outbound' },
      { expect: 201 })).json;
    for (const [json, issue] of [[{ outcome: 'missed', talkSeconds: 3 },
      'missed_call_has_no_talk_time'], [{ outcome: 'answered', talkSeconds: -1 },
      'must_be_integer_0_to_604800'], [{ outcome: 'answered', talkSeconds: 1.5 },
      'must_be_integer_0_to_604800']]) {
      const res = await agent().post(`/api/sdk/agent/calls/${call.id}/end`, json);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, [{ field: 'talkSeconds', issue }]);
    }
    const missed = await agent().post(`/api/sdk/agent/calls/${call.id}/end`,
      { outcome: 'missed' }, { expect: 200 });
    assert.equal(missed.json.outcome, 'missed');
  });

  it('a ticket opens, changes only what is sent, resolves once', async () => {
    const opened = await agent().post('/api/sdk/agent/tickets', { subject: 'Replace card',
      priority: 'high', description: 'Lost in Bandung' }, { expect: 201 });
    const t = opened.json;
    assert.equal(t.status, 'open');
    assert.equal(t.createdBy, ctx.a.agent.id);
    assert.equal(t.resolvedAt, null);
    const resolved = await agent().patch(`/api/sdk/agent/tickets/${t.id}`,
      { status: 'resolved', assigneeId: ctx.a.agent2.id }, { expect: 200 });
    assert.equal(resolved.json.status, 'resolved');
    assert.equal(resolved.json.priority, 'high');
    assert.equal(resolved.json.assigneeId, ctx.a.agent2.id);
    assert.match(resolved.json.resolvedAt, /Z$/);
    const cleared = await agent().patch(`/api/sdk/agent/tickets/${t.id}`,
      { description: null, assigneeId: null, status: 'open' }, { expect: 200 });
    assert.equal(cleared.json.description, null);
    assert.equal(cleared.json.assigneeId, null);
    assert.equal(cleared.json.resolvedAt, resolved.json.resolvedAt, 'first resolution kept');
    const same = await agent().patch(`/api/sdk/agent/tickets/${t.id}`, { status: 'open' },
      { expect: 200 });
    assert.deepEqual(same.json, cleared.json);
    const read = await agent().get(`/api/sdk/agent/tickets/${t.id}`, { expect: 200 });
    assert.deepEqual(read.json, cleared.json);
    assert.equal(await eventCount(ctx.a.tenant.id, 'ticket.created'), 1);
    assert.equal(await eventCount(ctx.a.tenant.id, 'ticket.updated'), 2);
  });

  it('ticket bodies are strict', async () => {
    const cases = [
      ['POST', {}, [['subject', 'required']]],
      ['POST', { subject: 'x', priority: 'asap' }, [['priority', 'not_allowed']]],
      ['POST', { subject: 'x', assigneeId: ctx.b.agent.id }, [['assigneeId', 'unknown_agent']]],
      ['PATCH', {}, [['body', 'no_fields']]],
      ['PATCH', { status: 'done' }, [['status', 'not_allowed']]],
      ['PATCH', { subject: null }, [['subject', 'must_not_be_null']]],
    ];
    const t = (await agent().post('/api/sdk/agent/tickets', { subject: 'Strict' },
      { expect: 201 })).json;
    for (const [method, json, details] of cases) {
      const res = method === 'POST' ? await agent().post('/api/sdk/agent/tickets', json)
        : await agent().patch(`/api/sdk/agent/tickets/${t.id}`, json);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, details.map(([field, issue]) => ({ field, issue })));
    }
  });

  it('presence: offline until set, each change one event, the same status none', async () => {
    const a2 = as(ctx.a.agent2Token);
    const first = await a2.get('/api/sdk/agent/presence', { expect: 200 });
    assert.deepEqual(first.json, { agentId: ctx.a.agent2.id, status: 'offline', since: null });
    const online = await a2.post('/api/sdk/agent/presence', { status: 'online' },
      { expect: 200 });
    assert.equal(online.json.status, 'online');
    const again = await a2.post('/api/sdk/agent/presence', { status: 'online' },
      { expect: 200 });
    assert.equal(again.json.since, online.json.since);
    await a2.post('/api/sdk/agent/presence', { status: 'away' }, { expect: 200 });
    const now = await a2.get('/api/sdk/agent/presence', { expect: 200 });
    assert.equal(now.json.status, 'away');
    assert.equal(await eventCount(ctx.a.tenant.id, 'agent.presence.changed'), 2);
    const bad = await a2.post('/api/sdk/agent/presence', { status: 'busy' });
    assertError(bad, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
  });

  it('the reports count the live activity of today', async () => {
    const res = await ctx.api.get('/api/server/reports/summary?period=today',
      { key: ctx.a.secret, expect: 200 });
    const s = res.json.summary;
    assert.equal(s.conversations, 2);
    assert.equal(s.conversationsResolved, 1);
    assert.equal(s.messagesInbound, 4);
    assert.equal(s.messagesOutbound, 1);
    assert.equal(s.calls, 2);
    assert.equal(s.callsAnswered, 1);
    assert.equal(s.callsMissed, 1);
    assert.equal(s.ticketsCreated, 2);
    assert.equal(s.ticketsResolved, 1);
    const prod = await ctx.api.get('/api/server/reports/productivity?period=today',
      { key: ctx.a.secret, expect: 200 });
    const one = prod.json.data.find((r) => r.username === 'agent.one');
    assert.equal(one.conversationsHandled, 1);
    assert.equal(one.conversationsResolved, 1);
    assert.equal(one.messagesSent, 1);
    assert.equal(one.callsHandled, 1);
    const two = prod.json.data.find((r) => r.username === 'agent.two');
    assert.equal(two.conversationsHandled, 1);
    assert.equal(two.onlineSeconds >= 0, true);
  });
});

describe('lists and cursors', () => {
  const s = {};
  before(async () => {
    s.ids = [];
    for (let i = 0; i < 7; i++) {
      const v = await visitor(ctx.b.secret, ctx.b.tenant.slug, `page-${i}`);
      const res = await as(v).post('/api/sdk/visitor/messages', { text: `hi ${i}` },
        { expect: 201 });
      s.ids.push(res.json.conversation.id);
    }
  });

  it('pages newest first without repeats, then nextCursor null', async () => {
    const agent = as(ctx.b.agentToken);
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = new URLSearchParams({ limit: '3', status: 'open' });
      if (cursor) q.set('cursor', cursor);
      const res = await agent.get(`/api/sdk/agent/conversations?${q}`, { expect: 200 });
      seen.push(...res.json.data.map((c) => c.id));
      cursor = res.json.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...s.ids].reverse());
  });

  it('a cursor is refused when altered, on another filter, or by another agent', async () => {
    const agent = as(ctx.b.agentToken);
    const first = await agent.get('/api/sdk/agent/conversations?limit=2&status=open',
      { expect: 200 });
    const cursor = first.json.nextCursor;
    const flipped = cursor.slice(0, -2) + (cursor.endsWith('A') ? 'B' : 'A') + cursor.slice(-1);
    const tries = [
      [agent, `status=open&cursor=${flipped}`],
      [agent, `status=closed&cursor=${cursor}`],
      [agent, `cursor=${cursor}`],
      [as(ctx.b.agent2Token), `status=open&cursor=${cursor}`],
      [agent, 'cursor=not-a-cursor'],
    ];
    for (const [who, q] of tries) {
      assertError(await who.get(`/api/sdk/agent/conversations?${q}`), 400,
        'SERVER_CURSOR_INVALID');
    }
    const ok = await agent.get(`/api/sdk/agent/conversations?status=open&cursor=${cursor}`,
      { expect: 200 });
    assert.equal(ok.json.data[0].id, s.ids[4]);
    assertError(await agent.get('/api/sdk/agent/conversations?status=pending'), 400,
      'SERVER_REQUEST_VALIDATION_FAILED');
    assertError(await agent.get('/api/sdk/agent/conversations?limit=0'), 400,
      'SERVER_REQUEST_VALIDATION_FAILED');
  });

  it('another tenant\'s conversations are invisible and untouchable', async () => {
    const agentA = as(ctx.a.agentToken);
    const id = s.ids[0];
    assertError(await agentA.get(`/api/sdk/agent/conversations/${id}`), 404, 'SDK_NOT_FOUND');
    assertError(await agentA.post(`/api/sdk/agent/conversations/${id}/messages`, { text: 'x' }),
      404, 'SDK_NOT_FOUND');
    assertError(await agentA.post(`/api/sdk/agent/conversations/${id}/close`, {}), 404,
      'SDK_NOT_FOUND');
    assertError(await agentA.get(`/api/sdk/agent/conversations/${id}/messages`), 404,
      'SDK_NOT_FOUND');
    const all = await agentA.get('/api/sdk/agent/conversations?limit=100', { expect: 200 });
    assert.ok(all.json.data.every((c) => !s.ids.includes(c.id)));
  });
});

describe('admin views', () => {
  const admin = () => as(ctx.a.adminToken);

  it('readiness, domains, subscription and staff summary describe the tenant', async () => {
    const ready = await admin().get('/api/sdk/admin/readiness', { expect: 200 });
    assert.deepEqual(ready.json.checks.map((c) => c.name),
      ['widget_key', 'allowed_domains', 'active_agent']);
    const domains = await admin().get('/api/sdk/admin/domains', { expect: 200 });
    assert.deepEqual(domains.json.data.map((d) => d.domain), ['shop.example.test']);
    const sub = await admin().get('/api/sdk/admin/subscription', { expect: 200 });
    assert.deepEqual({ ...sub.json, features: undefined }, { plan: 'self-hosted',
      status: 'active', seats: { used: 3, limit: null }, renewsAt: null, features: undefined });
    const staff = await admin().get('/api/sdk/admin/staff-summary', { expect: 200 });
    assert.deepEqual(staff.json, { total: 3, active: 3, disabled: 0,
      roles: { agent: 2, admin: 1 }, presence: { online: 0, away: 1, offline: 2 } });
  });

  it('AI knowledge: validated, stored, audited, and it makes the AI ready to be', async () => {
    const before = await admin().get('/api/sdk/admin/ai-readiness', { expect: 200 });
    assert.equal(before.json.knowledgeDocuments, 0);
    assert.equal(before.json.checks[0].ok, false);
    assert.equal(before.json.ready, false);
    const bad = await admin().post('/api/sdk/admin/ai-knowledge',
      { title: '', content: 'x', sourceUrl: 'ftp://x' });
    assertError(bad, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(bad.json.error.details, [{ field: 'title', issue: 'must_not_be_empty' },
      { field: 'sourceUrl', issue: 'must_be_http_or_https_url' }]);
    const doc = await admin().post('/api/sdk/admin/ai-knowledge', { title: 'Card FAQ',
      content: 'Blocked cards are replaced in 3 days.\nFees: none.',
      sourceUrl: 'https://bank.example/faq' }, { expect: 201 });
    assert.match(doc.json.id, /^kdoc_/);
    assert.equal(doc.json.characters, 49);
    assert.equal(doc.json.createdBy, ctx.a.admin.id);
    const after = await admin().get('/api/sdk/admin/ai-readiness', { expect: 200 });
    assert.equal(after.json.knowledgeDocuments, 1);
    assert.equal(after.json.checks[0].ok, true);
    const services = await admin().get('/api/sdk/admin/services', { expect: 200 });
    assert.equal(services.json.ai.knowledgeDocuments, 1);
    assert.equal(services.json.chat.agentsActive, 3);
    const audit = await rawRows(ctx.dep, 'SELECT actor, target FROM audit_log WHERE' +
      ` tenant_id = '${ctx.a.tenant.id}' AND action = 'ai_knowledge.created'`);
    assert.deepEqual(audit, [{ actor: ctx.a.admin.id, target: doc.json.id }]);
  });

  it('reports export through the Admin SDK equals the server export', async () => {
    const mine = await admin().get('/api/sdk/admin/reports/export?period=7days', { expect: 200 });
    const server = await ctx.api.get('/api/server/reports/export?period=7days',
      { key: ctx.a.secret, expect: 200 });
    assert.deepEqual({ ...mine.json, generatedAt: 0 }, { ...server.json, generatedAt: 0 });
    const csv = await admin().get('/api/sdk/admin/reports/export?period=today&format=csv',
      { expect: 200 });
    assert.match(csv.text, /^date,conversations,/);
    assertError(await admin().get('/api/sdk/admin/reports/export?period=yesterday'), 400,
      'SERVER_REPORT_PERIOD_INVALID');
  });
});

/* [method, path, required scope, body] for every activity endpoint. */
function endpoints(ids) {
  return [
    ['GET', '/api/sdk/agent/presence', 'agent:presence:read'],
    ['POST', '/api/sdk/agent/presence', 'agent:presence:write', { status: 'online' }],
    ['GET', '/api/sdk/agent/conversations', 'agent:conversations:read'],
    ['GET', `/api/sdk/agent/conversations/${ids.cnv}`, 'agent:conversations:read'],
    ['POST', `/api/sdk/agent/conversations/${ids.cnv}/assign`, 'agent:conversations:write', {}],
    ['GET', `/api/sdk/agent/conversations/${ids.cnv}/messages`, 'agent:messages:read'],
    ['POST', `/api/sdk/agent/conversations/${ids.cnv}/messages`, 'agent:messages:write',
      { text: 'x' }],
    ['POST', '/api/sdk/agent/calls', 'agent:calls:write', { direction: 'inbound' }],
    ['GET', `/api/sdk/agent/calls/${ids.call}`, 'agent:calls:read'],
    ['POST', `/api/sdk/agent/calls/${ids.call}/end`, 'agent:calls:write', { outcome: 'missed' }],
    ['POST', '/api/sdk/agent/tickets', 'agent:conversations:write', { subject: 's' }],
    ['GET', `/api/sdk/agent/tickets/${ids.ticket}`, 'agent:conversations:read'],
    ['PATCH', `/api/sdk/agent/tickets/${ids.ticket}`, 'agent:conversations:write',
      { priority: 'low' }],
    ['POST', `/api/sdk/agent/conversations/${ids.cnv}/close`, 'agent:conversations:write', {}],
    ['GET', '/api/sdk/admin/readiness', 'admin:readiness:read'],
    ['GET', '/api/sdk/admin/domains', 'admin:domains:read'],
    ['GET', '/api/sdk/admin/services', 'admin:services:read'],
    ['GET', '/api/sdk/admin/subscription', 'admin:subscription:read'],
    ['GET', '/api/sdk/admin/ai-readiness', 'admin:ai-readiness:read'],
    ['GET', '/api/sdk/admin/staff-summary', 'admin:staff-summary:read'],
    ['GET', '/api/sdk/admin/reports/export', 'admin:reports:export'],
    ['POST', '/api/sdk/admin/ai-knowledge', 'admin:ai-knowledge:write',
      { title: 't', content: 'c' }],
  ];
}

describe('each endpoint needs exactly its scope and its audience', () => {
  it('all scopes but the one: 403 naming it; only the one: allowed', async () => {
    const { b } = ctx;
    const v = await visitor(b.secret, b.tenant.slug, 'scopes');
    const cnv = (await as(v).post('/api/sdk/visitor/messages', { text: 'x' }, { expect: 201 }))
      .json.conversation.id;
    const call = (await as(b.agentToken).post('/api/sdk/agent/calls', { direction: 'inbound' },
      { expect: 201 })).json.id;
    const ticket = (await as(b.agentToken).post('/api/sdk/agent/tickets', { subject: 's' },
      { expect: 201 })).json.id;
    for (const [method, path, scope, json] of endpoints({ cnv, call, ticket })) {
      const admin = scope.startsWith('admin:');
      const kind = admin ? 'admin' : 'agent';
      const user = admin ? 'admin.one' : 'agent.one';
      const all = admin ? ADMIN_SCOPES : AGENT_SCOPES;
      const without = await mintStaff(kind, b.secret, user, all.filter((x) => x !== scope));
      const denied = await ctx.api.call(method, path, { key: without, json });
      assertError(denied, 403, 'SDK_SCOPE_DENIED');
      assert.ok(denied.json.error.message.includes(scope), `${method} ${path}`);
      const only = await mintStaff(kind, b.secret, user, [scope]);
      const allowed = await ctx.api.call(method, path, { key: only, json });
      assert.ok(allowed.status < 300, `${method} ${path} with only ${scope}: ${allowed.text}`);
    }
  });

  it('a token of another audience is invalid; no token is missing', async () => {
    const { a } = ctx;
    assertError(await as(a.adminToken).get('/api/sdk/agent/conversations'), 401,
      'SDK_TOKEN_INVALID');
    assertError(await as(a.agentToken).get('/api/sdk/admin/services'), 401, 'SDK_TOKEN_INVALID');
    const v = await visitor(a.secret, a.tenant.slug, 'aud');
    assertError(await as(v).get('/api/sdk/agent/presence'), 401, 'SDK_TOKEN_INVALID');
    assertError(await as(a.agentToken).post('/api/sdk/visitor/messages', { text: 'x' }), 401,
      'SDK_TOKEN_INVALID');
    assertError(await ctx.api.get('/api/sdk/agent/presence'), 401, 'SDK_TOKEN_MISSING');
    assertError(await ctx.api.get('/api/sdk/agent/presence', { key: a.secret }), 401,
      'SDK_TOKEN_INVALID');
  });

  it('preflights answer every path, PATCH allowed where a path takes it', async () => {
    const res = await ctx.api.call('OPTIONS', '/api/sdk/agent/tickets/tkt_x',
      { headers: { Origin: ORIGIN } });
    assert.equal(res.status, 204);
    assert.match(res.headers['access-control-allow-methods'], /PATCH/);
    const other = await ctx.api.call('OPTIONS', '/api/sdk/agent/conversations',
      { headers: { Origin: ORIGIN } });
    assert.equal(other.status, 204);
  });
});
