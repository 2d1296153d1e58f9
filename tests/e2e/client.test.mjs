// @ringnity/server-api (clients/node), issue 7: configuration, the transport
// (retries, Retry-After, Idempotency-Key, timeouts, redaction) against a
// scripted loopback server, webhook signature verification, every method
// against a real `ringnity serve` (answers checked against api/openapi.yaml),
// the seed's example run unchanged against a demo tenant, and the TypeScript
// declarations compiled with tsc.
//
// Tests of endpoints the server does not route yet skip with the missing
// routes named (found by a side-effect-free probe), and run once they land.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import {
  existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { inspect } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Deployment, freePort, uniq } from './lib/server.mjs';
import { REPO_ROOT } from './lib/openapi.mjs';
import {
  RingnityServerApi,
  RingnityApiError,
  VERSION,
  verifyWebhookSignature,
  checkWebhookSignature,
} from '../../clients/node/src/index.js';
import {
  contractFetch,
  envelope,
  probeRoutes,
  scriptedServer,
  skipUnlessRoutes,
} from '../../clients/node/test-support/e2e.mjs';

const CLIENT_DIR = path.join(REPO_ROOT, 'clients/node');
const SEED_DIR = path.resolve(REPO_ROOT, '../shared/seed');
const KEY = `rn_sk_live_${'A1b2C3d4'.repeat(5)}`;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const AGENT_SCOPES = ['agent:profile:read', 'agent:presence:read', 'agent:presence:write',
  'agent:conversations:read', 'agent:conversations:write', 'agent:messages:read',
  'agent:messages:write', 'agent:media:delete', 'agent:calls:read', 'agent:calls:write'];
const EVENT_TYPES = ['conversation.created', 'conversation.message.received',
  'conversation.closed', 'ticket.created', 'ticket.updated', 'contact.created', 'contact.updated',
  'contact.deleted', 'agent.presence.changed', 'call.started', 'call.ended'];
const ADMIN_READ_SCOPES = ['admin:tenant:read', 'admin:readiness:read', 'admin:domains:read',
  'admin:services:read', 'admin:subscription:read', 'admin:ai-readiness:read',
  'admin:staff-summary:read'];

/** Runs fn with some globals / env vars set, restoring them afterwards. */
async function withGlobals(globals, env, fn) {
  const saved = {};
  const savedEnv = {};
  for (const [k, v] of Object.entries(globals)) {
    saved[k] = Object.getOwnPropertyDescriptor(globalThis, k);
    globalThis[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const NO_ENV = { RINGNITY_API_BASE_URL: undefined, RINGNITY_SERVER_API_KEY: undefined };

/** Asserts a rejection with a RingnityApiError of this status and code; returns it. */
async function rejectsWith(promise, status, code) {
  let caught;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RingnityApiError,
    `expected RingnityApiError ${status} ${code}, got ${caught ?? 'success'}`);
  assert.equal(caught.status, status, `status of ${caught.code}: ${caught.message}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.name, 'RingnityApiError');
  return caught;
}

function sign(secret, timestamp, body) {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- configuration

describe('helper: configuration', () => {
  it('create() takes baseUrl and apiKey and normalises the base URL', () => {
    const cases = [
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
      ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
      ['http://localhost:8080/api/server/', 'http://localhost:8080'],
      ['https://api.ringnity.com', 'https://api.ringnity.com'],
      ['https://gw.example.com/ringnity/', 'https://gw.example.com/ringnity'],
    ];
    for (const [given, normal] of cases) {
      const api = RingnityServerApi.create({ baseUrl: given, apiKey: KEY });
      assert.equal(api.baseUrl, normal, given);
      assert.ok(api instanceof RingnityServerApi);
    }
  });

  it('falls back to RINGNITY_API_BASE_URL and RINGNITY_SERVER_API_KEY', async () => {
    await withGlobals({}, { RINGNITY_API_BASE_URL: 'https://api.ringnity.com',
      RINGNITY_SERVER_API_KEY: `  ${KEY}\n` }, async () => {
      const api = RingnityServerApi.create();
      assert.equal(api.baseUrl, 'https://api.ringnity.com');
      const explicit = RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1' });
      assert.equal(explicit.baseUrl, 'http://127.0.0.1:1', 'an explicit baseUrl wins');
    });
  });

  it('refuses a missing, malformed or public key, without echoing it', async () => {
    await withGlobals({}, NO_ENV, async () => {
      assert.throws(() => RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1' }),
        /No Ringnity server API key: pass apiKey or set RINGNITY_SERVER_API_KEY/);
      assert.throws(() => RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1', apiKey: '' }),
        /No Ringnity server API key/);
      const bad = ['rn_sk_live_short', 'rn_sk_test_' + 'x'.repeat(40), `${KEY}!`, 'sk_' + KEY];
      for (const apiKey of bad) {
        let err;
        try {
          RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1', apiKey });
        } catch (e) {
          err = e;
        }
        assert.match(err?.message ?? '', /does not look like rn_sk_live_/, apiKey);
        assert.ok(!err.message.includes(apiKey), 'the error must not echo the key');
      }
      assert.throws(() => RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1',
        apiKey: `rn_pk_live_${'a'.repeat(40)}` }), /public widget key/);
    });
  });

  it('refuses a missing or unusable base URL', async () => {
    await withGlobals({}, NO_ENV, async () => {
      assert.throws(() => RingnityServerApi.create({ apiKey: KEY }),
        /No Ringnity API base URL: pass baseUrl or set RINGNITY_API_BASE_URL/);
      assert.throws(() => RingnityServerApi.create({ apiKey: KEY, baseUrl: 'not a url' }),
        /is not a URL/);
      assert.throws(() => RingnityServerApi.create({ apiKey: KEY, baseUrl: 'ftp://h.example' }),
        /must be http\(s\)/);
      assert.throws(() => RingnityServerApi.create({ apiKey: KEY,
        baseUrl: 'https://u:p@api.example.com' }), /must not carry credentials/);
      assert.throws(() => RingnityServerApi.create({ apiKey: KEY,
        baseUrl: 'http://api.example.com' }), /plain http/);
      const ok = RingnityServerApi.create({ apiKey: KEY, baseUrl: 'http://ringnity.internal:8080',
        allowInsecureHttp: true });
      assert.equal(ok.baseUrl, 'http://ringnity.internal:8080');
    });
  });

  it('refuses timeoutMs, maxRetries and fetch of the wrong kind', () => {
    const base = { baseUrl: 'http://127.0.0.1:1', apiKey: KEY };
    assert.throws(() => RingnityServerApi.create({ ...base, timeoutMs: 0 }), TypeError);
    assert.throws(() => RingnityServerApi.create({ ...base, timeoutMs: 1.5 }), TypeError);
    assert.throws(() => RingnityServerApi.create({ ...base, maxRetries: -1 }), TypeError);
    assert.throws(() => RingnityServerApi.create({ ...base, fetch: 'fetch' }), TypeError);
    assert.doesNotThrow(() => RingnityServerApi.create({ ...base, maxRetries: 0 }));
  });

  it('refuses to run in a browser (window or document defined)', async () => {
    for (const name of ['window', 'document']) {
      await withGlobals({ [name]: {} }, {}, async () => {
        assert.throws(() => RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1',
          apiKey: KEY }), /runs only on your backend: a server API key must never reach a browser/);
      });
    }
  });

  it('a bundle for browsers gets a module that throws on import', () => {
    const res = spawnSync(process.execPath, ['--conditions=browser', '--input-type=module', '-e',
      "import('@ringnity/server-api').then(() => console.log('loaded'),"
        + ' (e) => console.log(e.message))'],
    { cwd: CLIENT_DIR, encoding: 'utf8' });
    assert.match(res.stdout, /runs only on your backend/);
    const normal = spawnSync(process.execPath, ['--input-type=module', '-e',
      "import('@ringnity/server-api').then((m) => console.log(typeof m.RingnityServerApi))"],
    { cwd: CLIENT_DIR, encoding: 'utf8' });
    assert.equal(normal.stdout.trim(), 'function');
  });

  it('the key is not reachable through inspect, JSON or own properties', () => {
    const api = RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY });
    assert.ok(!inspect(api, { depth: 10, showHidden: true }).includes(KEY));
    assert.ok(!JSON.stringify(api).includes(KEY));
    const seen = new Set();
    const walk = (v) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return;
      seen.add(v);
      for (const k of Reflect.ownKeys(v)) {
        const d = Object.getOwnPropertyDescriptor(v, k);
        if (d && 'value' in d) {
          assert.notEqual(d.value, KEY, `found the key at ${String(k)}`);
          walk(d.value);
        }
      }
    };
    walk(api);
  });

  it('VERSION (sent in User-Agent) is the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(CLIENT_DIR, 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@ringnity/server-api');
    assert.equal(VERSION, pkg.version);
    assert.deepEqual(pkg.dependencies ?? {}, {}, 'no runtime dependencies');
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.exports['.'].types, './index.d.ts');
  });

  it('packs to a tarball that installs offline and imports as @ringnity/server-api', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rn-client-pack-'));
    try {
      const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', dir],
        { cwd: CLIENT_DIR, encoding: 'utf8', timeout: 60000 });
      assert.equal(pack.status, 0, pack.stderr);
      const [info] = JSON.parse(pack.stdout);
      assert.deepEqual(info.files.map((f) => f.path).sort(), ['README.md', 'index.d.ts',
        'package.json', 'src/browser.js', 'src/client.js', 'src/errors.js', 'src/index.js',
        'src/transport.js', 'src/webhook-signature.js']);
      writeFileSync(path.join(dir, 'package.json'), '{"name":"consumer","private":true}');
      const install = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund',
        path.join(dir, info.filename)], { cwd: dir, encoding: 'utf8', timeout: 60000 });
      assert.equal(install.status, 0, install.stderr);
      const use = spawnSync(process.execPath, ['--input-type=module', '-e',
        "import { RingnityServerApi, RingnityApiError } from '@ringnity/server-api';"
        + 'console.log(typeof RingnityServerApi.create, typeof RingnityApiError)'],
      { cwd: dir, encoding: 'utf8' });
      assert.equal(use.stdout.trim(), 'function function', use.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exposes the seed object model', () => {
    const api = RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY });
    const surface = Object.fromEntries(['system', 'account', 'tokens', 'contacts', 'reports',
      'webhooks'].map((g) => [g, Object.keys(api[g]).sort()]));
    assert.deepEqual(surface, {
      system: ['health'],
      account: ['get', 'sdkReadiness'],
      tokens: ['admin', 'agent', 'visitorContext'],
      contacts: ['create', 'delete', 'get', 'list', 'update'],
      reports: ['export', 'productivity', 'summary', 'timeseries'],
      webhooks: ['create', 'delete', 'deliveries', 'eventTypes', 'get', 'list', 'redeliver',
        'test', 'update'],
    });
    assert.equal(typeof RingnityServerApi.verifyWebhookSignature, 'function');
    assert.equal(typeof RingnityServerApi.checkWebhookSignature, 'function');
  });
});

// ---------------------------------------------------------------- transport

describe('helper: transport against a scripted server', () => {
  const servers = [];
  afterEach(async () => {
    while (servers.length) await servers.pop().close();
  });

  async function setup(script, opts = {}) {
    const srv = await scriptedServer(script);
    servers.push(srv);
    const api = RingnityServerApi.create({ baseUrl: srv.url, apiKey: KEY, ...opts });
    return { srv, api };
  }

  it('sends the key as Bearer, JSON bodies, and an Idempotency-Key on POST only', async () => {
    const { srv, api } = await setup((req) => ({
      status: req.method === 'POST' ? 201 : 200,
      body: { id: 'ct_1', ok: true },
    }));
    const created = await api.contacts.create({ externalId: 'crm-1', name: 'Budi' });
    assert.deepEqual(created, { id: 'ct_1', ok: true });
    await api.contacts.get('ct_1');
    await api.contacts.update('ct_1', { notes: null });
    const [post, get, patch] = srv.requests;
    assert.equal(post.method, 'POST');
    assert.equal(post.url, '/api/server/contacts');
    assert.equal(post.headers.authorization, `Bearer ${KEY}`);
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(post.headers.accept, 'application/json');
    assert.match(post.headers['user-agent'], /^ringnity-server-api-node\/0\.1\.0 node\/v\d+/);
    assert.match(post.headers['idempotency-key'], UUID_RE);
    assert.deepEqual(JSON.parse(post.body), { externalId: 'crm-1', name: 'Budi' });
    assert.equal(get.method, 'GET');
    assert.equal(get.url, '/api/server/contacts/ct_1');
    assert.equal(get.headers['idempotency-key'], undefined);
    assert.equal(get.headers['content-type'], undefined);
    assert.equal(get.body, '');
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.headers['idempotency-key'], undefined);
    assert.deepEqual(JSON.parse(patch.body), { notes: null });
  });

  it('maps every method to its documented path and query', async () => {
    const { srv, api } = await setup(() => ({ status: 200, body: {} }));
    await api.system.health();
    await api.account.get();
    await api.account.sdkReadiness();
    await api.tokens.visitorContext({ visitor: { name: 'x' } });
    await api.tokens.agent({ username: 'agent.one' });
    await api.tokens.admin({ username: 'admin.one' });
    await api.contacts.list({ search: 'a b&c=d', limit: 5, cursor: 'c/1', junk: 'dropped' });
    await api.contacts.get('ct/../x');
    await api.reports.summary({ period: 'custom', from: '2026-01-01', to: '2026-01-31' });
    await api.reports.timeseries({ period: '7days' });
    await api.reports.productivity();
    await api.reports.export({ period: '30days', format: 'json', dataset: 'summary' });
    await api.webhooks.list({ limit: 2 });
    await api.webhooks.get('wh_1');
    await api.webhooks.create({ name: 'n', url: 'https://e.example', events: ['*'] });
    await api.webhooks.update('wh_1', { enabled: false });
    await api.webhooks.test({ webhookId: 'wh_1', event: 'contact.created' });
    await api.webhooks.deliveries({ webhookId: 'wh_1', status: 'failed', limit: 10 });
    await api.webhooks.redeliver('dlv_1');
    await api.webhooks.eventTypes();
    await api.webhooks.delete('wh_1');
    await api.contacts.delete('ct_1');
    assert.deepEqual(srv.requests.map((r) => `${r.method} ${r.url}`), [
      'GET /api/server/health',
      'GET /api/server/tenant',
      'GET /api/server/tenant/sdk-readiness',
      'POST /api/server/visitor-context-token',
      'POST /api/server/sdk-token/agent',
      'POST /api/server/sdk-token/admin',
      'GET /api/server/contacts?search=a+b%26c%3Dd&limit=5&cursor=c%2F1',
      'GET /api/server/contacts/ct%2F..%2Fx',
      'GET /api/server/reports/summary?period=custom&from=2026-01-01&to=2026-01-31',
      'GET /api/server/reports/timeseries?period=7days',
      'GET /api/server/reports/productivity',
      'GET /api/server/reports/export?period=30days&format=json&dataset=summary',
      'GET /api/server/webhooks?limit=2',
      'GET /api/server/webhooks/wh_1',
      'POST /api/server/webhooks',
      'PATCH /api/server/webhooks/wh_1',
      'POST /api/server/webhooks/test',
      'GET /api/server/webhooks/deliveries?limit=10&webhookId=wh_1&status=failed',
      'POST /api/server/webhooks/deliveries/dlv_1/redeliver',
      'GET /api/server/webhooks/event-types',
      'DELETE /api/server/webhooks/wh_1',
      'DELETE /api/server/contacts/ct_1',
    ]);
  });

  it('rejects bad arguments before sending anything', async () => {
    const { srv, api } = await setup(() => ({ status: 200, body: {} }));
    await assert.rejects(api.contacts.get(''), TypeError);
    await assert.rejects(api.contacts.get(undefined), TypeError);
    await assert.rejects(api.contacts.create(null), TypeError);
    await assert.rejects(api.contacts.create([{ name: 'x' }]), TypeError);
    await assert.rejects(api.webhooks.redeliver(''), TypeError);
    await assert.rejects(api.reports.summary('30days'), TypeError);
    assert.equal(srv.requests.length, 0);
  });

  it('an error envelope becomes a RingnityApiError with every field', async () => {
    const details = [{ field: 'email', issue: 'invalid_format' }];
    const { api } = await setup(() => ({
      status: 400,
      headers: { 'X-Request-Id': 'req_header' },
      body: envelope('SERVER_CONTACT_VALIDATION_FAILED', 'email is invalid', 'req_body', details),
    }));
    const err = await rejectsWith(api.contacts.create({ email: 'x' }), 400,
      'SERVER_CONTACT_VALIDATION_FAILED');
    assert.equal(err.message, 'email is invalid');
    assert.equal(err.requestId, 'req_body');
    assert.deepEqual(err.details, details);
    assert.equal(err.method, 'POST');
    assert.equal(err.path, '/api/server/contacts');
    assert.equal(err.attempts, 1, '4xx is not retried');
    assert.equal(err.retryAfter, null);
    assert.ok(err instanceof Error);
    assert.deepEqual(JSON.parse(JSON.stringify(err)).details, details);
  });

  it('GET: a 503 is retried with backoff, then succeeds', async () => {
    const { srv, api } = await setup((req, body, n) => (n === 1
      ? { status: 503, body: envelope('SERVER_UNAVAILABLE') }
      : { status: 200, body: { status: 'ok' } }));
    assert.deepEqual(await api.system.health(), { status: 'ok' });
    assert.equal(srv.requests.length, 2);
  });

  it('GET: gives up after maxRetries with the last error and the attempt count', async () => {
    const { srv, api } = await setup(() => ({ status: 500,
      body: envelope('SERVER_INTERNAL_ERROR') }), { maxRetries: 2 });
    const err = await rejectsWith(api.account.get(), 500, 'SERVER_INTERNAL_ERROR');
    assert.equal(err.attempts, 3);
    assert.equal(srv.requests.length, 3);
    const none = await setup(() => ({ status: 502, body: '<html>bad gateway</html>',
      headers: { 'Content-Type': 'text/html' } }), { maxRetries: 0 });
    const html = await rejectsWith(none.api.account.get(), 502, 'CLIENT_UNEXPECTED_RESPONSE');
    assert.match(html.message, /HTTP 502 \(text\/html\) without an error envelope/);
    assert.equal(none.srv.requests.length, 1);
  });

  it('501 and 4xx are never retried', async () => {
    const { srv, api } = await setup((req, body, n) => (n === 1
      ? { status: 501, body: envelope('SERVER_NOT_IMPLEMENTED') }
      : { status: 404, body: envelope('SERVER_CONTACT_NOT_FOUND') }));
    await rejectsWith(api.system.health(), 501, 'SERVER_NOT_IMPLEMENTED');
    await rejectsWith(api.contacts.get('ct_x'), 404, 'SERVER_CONTACT_NOT_FOUND');
    assert.equal(srv.requests.length, 2);
  });

  it('POST: retried with the same Idempotency-Key; each call gets its own key', async () => {
    const { srv, api } = await setup((req, body, n) => (n % 2 === 1
      ? { status: 500, body: envelope('SERVER_INTERNAL_ERROR') }
      : { status: 201, body: { token: `t${n}` } }));
    assert.deepEqual(await api.tokens.agent({ username: 'agent.one' }), { token: 't2' });
    assert.deepEqual(await api.tokens.agent({ username: 'agent.one' }), { token: 't4' });
    const keys = srv.requests.map((r) => r.headers['idempotency-key']);
    assert.equal(keys[0], keys[1], 'a retry reuses the key of its call');
    assert.equal(keys[2], keys[3]);
    assert.notEqual(keys[0], keys[2], 'two calls never share a key');
    assert.equal(srv.requests[0].body, srv.requests[1].body, 'the retry sends the same body');
  });

  it('POST: a caller-chosen idempotencyKey is sent as given', async () => {
    const { srv, api } = await setup(() => ({ status: 201, body: {} }));
    await api.contacts.create({ name: 'A' }, { idempotencyKey: 'crm-sync-42' });
    await api.webhooks.redeliver('dlv_9', { idempotencyKey: 'redeliver-9' });
    assert.deepEqual(srv.requests.map((r) => r.headers['idempotency-key']),
      ['crm-sync-42', 'redeliver-9']);
  });

  it('PATCH: a 5xx or a dropped connection is not retried (no idempotency record)', async () => {
    const { srv, api } = await setup((req, body, n) => (n === 1
      ? { status: 503, body: envelope('SERVER_UNAVAILABLE') }
      : 'reset'));
    await rejectsWith(api.contacts.update('ct_1', { name: 'B' }), 503, 'SERVER_UNAVAILABLE');
    await rejectsWith(api.webhooks.update('wh_1', { name: 'B' }), 0, 'CLIENT_NETWORK_ERROR');
    assert.equal(srv.requests.length, 2);
  });

  it('429 is retried for every method after Retry-After seconds', async () => {
    const { srv, api } = await setup((req, body, n) => (n === 1
      ? { status: 429, headers: { 'Retry-After': '1' }, body: envelope('SERVER_API_RATE_LIMITED') }
      : { status: 200, body: { id: 'ct_1' } }));
    const started = Date.now();
    assert.deepEqual(await api.contacts.update('ct_1', { name: 'B' }), { id: 'ct_1' });
    const waited = Date.now() - started;
    assert.ok(waited >= 1000, `waited only ${waited} ms for Retry-After: 1`);
    assert.ok(waited < 5000, `waited ${waited} ms`);
    assert.equal(srv.requests.length, 2);
  });

  it('a Retry-After over 30 s is not waited for: the 429 is thrown with retryAfter', async () => {
    const { srv, api } = await setup(() => ({ status: 429, headers: { 'Retry-After': '120' },
      body: envelope('SERVER_API_RATE_LIMITED') }));
    const started = Date.now();
    const err = await rejectsWith(api.system.health(), 429, 'SERVER_API_RATE_LIMITED');
    assert.ok(Date.now() - started < 1000);
    assert.equal(err.retryAfter, 120);
    assert.equal(err.attempts, 1);
    assert.equal(srv.requests.length, 1);
  });

  it('DELETE: retried after a 503; resolves { deleted }; not-found is already gone', async () => {
    const { srv, api } = await setup((req, body, n) => {
      if (n === 1) return { status: 503, body: envelope('SERVER_UNAVAILABLE') };
      if (n === 2) return { status: 204 };
      if (n === 3) return { status: 404, body: envelope('SERVER_CONTACT_NOT_FOUND') };
      if (n === 4) return { status: 404, body: envelope('SERVER_WEBHOOK_NOT_FOUND') };
      return { status: 404, body: envelope('SERVER_ROUTE_NOT_FOUND') };
    });
    assert.deepEqual(await api.contacts.delete('ct_1'), { id: 'ct_1', deleted: true });
    assert.deepEqual(await api.contacts.delete('ct_1'), { id: 'ct_1', deleted: false });
    assert.deepEqual(await api.webhooks.delete('wh_1'), { id: 'wh_1', deleted: false });
    await rejectsWith(api.contacts.delete('ct_2'), 404, 'SERVER_ROUTE_NOT_FOUND');
    assert.equal(srv.requests.length, 5);
  });

  it('times out an attempt that gets no answer, and retries idempotent calls', async () => {
    const { srv, api } = await setup(() => 'hang', { timeoutMs: 200, maxRetries: 1 });
    const started = Date.now();
    const err = await rejectsWith(api.system.health(), 0, 'CLIENT_TIMEOUT');
    assert.match(err.message, /within 200 ms/);
    assert.equal(err.attempts, 2);
    assert.equal(srv.requests.length, 2);
    assert.ok(Date.now() - started >= 400);
    const once = await rejectsWith(api.contacts.update('ct_1', { name: 'x' }, { timeoutMs: 100 }),
      0, 'CLIENT_TIMEOUT');
    assert.equal(once.attempts, 1, 'PATCH is not retried after a timeout');
  });

  it('an AbortSignal aborts the call and its retries', async () => {
    const { srv, api } = await setup(() => 'hang', { timeoutMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await rejectsWith(api.system.health({ signal: controller.signal }), 0,
      'CLIENT_ABORTED');
    assert.ok(Date.now() - started < 2000);
    assert.equal(err.attempts, 1);
    assert.equal(srv.requests.length, 1);
    await rejectsWith(api.system.health({ signal: AbortSignal.abort() }), 0, 'CLIENT_ABORTED');
  });

  it('a refused connection is a network error after the retries', async () => {
    const port = await freePort();
    const api = RingnityServerApi.create({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY,
      maxRetries: 1 });
    const err = await rejectsWith(api.system.health(), 0, 'CLIENT_NETWORK_ERROR');
    assert.match(err.message, new RegExp(`Could not reach Ringnity at http://127.0.0.1:${port}`));
    assert.equal(err.attempts, 2);
    assert.equal(err.requestId, null);
  });

  it('redirects are not followed (the key must not travel to another host)', async () => {
    const target = await setup(() => ({ status: 200, body: { status: 'ok' } }));
    const { srv, api } = await setup(() => ({ status: 302,
      headers: { Location: `${target.srv.url}/api/server/health` }, body: '' }));
    await rejectsWith(api.system.health(), 302, 'CLIENT_UNEXPECTED_RESPONSE');
    assert.equal(srv.requests.length, 1);
    assert.equal(target.srv.requests.length, 0);
  });

  it('never lets the key into an error, even when the server echoes it', async () => {
    const { api } = await setup(() => ({ status: 401, body: envelope('SERVER_API_KEY_INVALID',
      `key ${KEY} and rn_sk_live_${'Z'.repeat(40)} are invalid`, 'req_1',
      [{ field: 'authorization', issue: `Bearer ${KEY}` }]) }));
    const err = await rejectsWith(api.system.health(), 401, 'SERVER_API_KEY_INVALID');
    const texts = [err.message, err.stack, JSON.stringify(err), inspect(err, { depth: 5 })];
    for (const text of texts) {
      assert.ok(!text.includes(KEY), `leaked in: ${text.slice(0, 200)}`);
      assert.ok(!text.includes('Z'.repeat(40)));
    }
    assert.equal(err.message, 'key rn_sk_live_[REDACTED] and rn_sk_live_[REDACTED] are invalid');
    assert.equal(err.details[0].issue, 'Bearer rn_sk_live_[REDACTED]');
  });

  it('reports.export: CSV resolves to the text, JSON to the object', async () => {
    const csv = 'date,conversations\r\n2026-12-01,3\r\n';
    const { srv, api } = await setup((req) => (req.url.includes('format=csv')
      ? { status: 200, headers: { 'Content-Type': 'text/csv; charset=utf-8' }, body: csv }
      : { status: 200, body: { tenantId: 'ten_1' } }));
    assert.equal(await api.reports.export({ period: '30days', format: 'csv' }), csv);
    assert.deepEqual(await api.reports.export({ period: '30days', format: 'json' }),
      { tenantId: 'ten_1' });
    assert.equal(srv.requests[0].headers.accept, 'text/csv');
    assert.equal(srv.requests[1].headers.accept, 'application/json');
  });

  it('a 2xx that is not JSON, or JSON that does not parse, is an unexpected response', async () => {
    const { api } = await setup((req, body, n) => (n === 1
      ? { status: 200, body: '{"truncated', headers: { 'Content-Type': 'application/json' } }
      : { status: 200, body: 'x', headers: { 'Content-Type': 'application/octet-stream' } }));
    await rejectsWith(api.system.health(), 200, 'CLIENT_UNEXPECTED_RESPONSE');
    await rejectsWith(api.system.health(), 200, 'CLIENT_UNEXPECTED_RESPONSE');
  });

  it('a custom fetch is used, and requestId is sent as X-Request-Id', async () => {
    const seen = [];
    const api = RingnityServerApi.create({
      baseUrl: 'https://api.ringnity.example',
      apiKey: KEY,
      fetch: async (url, init) => {
        seen.push({ url: String(url), method: init.method, id: init.headers['X-Request-Id'] });
        return new Response('{"status":"ok"}', { headers: { 'Content-Type': 'application/json' } });
      },
    });
    assert.deepEqual(await api.system.health({ requestId: 'crm-trace-1' }), { status: 'ok' });
    assert.deepEqual(seen, [{ url: 'https://api.ringnity.example/api/server/health', method: 'GET',
      id: 'crm-trace-1' }]);
  });
});

// ---------------------------------------------------------------- webhook signatures

describe('helper: verifyWebhookSignature', () => {
  const secret = 'whsec_demo_secret';
  const body = '{"id":"evt_1","type":"contact.created","data":{"name":"Zoë 李"}}';

  function headers(ts, sigs, extra = {}) {
    return { 'x-ringnity-timestamp': String(ts), 'x-ringnity-signature': sigs, ...extra };
  }

  it('accepts a genuine delivery: string or Buffer body, Node or Fetch headers', () => {
    const ts = nowSeconds();
    const sig = `sha256=${sign(secret, ts, body)}`;
    assert.equal(verifyWebhookSignature({ secret, headers: headers(ts, sig), rawBody: body }),
      true);
    assert.equal(RingnityServerApi.verifyWebhookSignature({ secret, headers: headers(ts, sig),
      rawBody: Buffer.from(body, 'utf8') }), true);
    const fetchHeaders = new Headers({ 'X-Ringnity-Timestamp': String(ts),
      'X-Ringnity-Signature': sig });
    assert.deepEqual(checkWebhookSignature({ secret, headers: fetchHeaders, rawBody: body }),
      { valid: true, reason: 'ok' });
    const upper = { 'X-Ringnity-Timestamp': String(ts), 'X-Ringnity-Signature': sig.toUpperCase()
      .replace('SHA256=', 'sha256=') };
    assert.equal(verifyWebhookSignature({ secret, headers: upper, rawBody: body }), true);
    assert.equal(verifyWebhookSignature({ secret: Buffer.from(secret), headers: headers(ts, sig),
      rawBody: new Uint8Array(Buffer.from(body)) }), true);
  });

  it('during a rotation any of several space-separated signatures may match', () => {
    const ts = nowSeconds();
    const both = `sha256=${sign('whsec_new', ts, body)} sha256=${sign('whsec_old', ts, body)}`;
    for (const s of ['whsec_new', 'whsec_old']) {
      assert.equal(verifyWebhookSignature({ secret: s, headers: headers(ts, both), rawBody: body }),
        true, s);
    }
    assert.deepEqual(checkWebhookSignature({ secret: 'whsec_other', headers: headers(ts, both),
      rawBody: body }), { valid: false, reason: 'signature_mismatch' });
    const commaJoined = `sha256=${sign('whsec_x', ts, body)}, sha256=${sign(secret, ts, body)}`;
    assert.equal(verifyWebhookSignature({ secret, headers: headers(ts, commaJoined),
      rawBody: body }), true, 'repeated headers joined by Node with ", " still verify');
    assert.equal(verifyWebhookSignature({ secret: ['whsec_gone', secret],
      headers: headers(ts, `sha256=${sign(secret, ts, body)}`), rawBody: body }), true,
    'a receiver rotating its own secret can pass both');
  });

  it('refuses tampering: body, timestamp, secret, signature', () => {
    const ts = nowSeconds();
    const sig = `sha256=${sign(secret, ts, body)}`;
    const cases = [
      [{ rawBody: body.replace('evt_1', 'evt_2') }, 'signature_mismatch'],
      [{ rawBody: `${body} ` }, 'signature_mismatch'],
      [{ headers: headers(ts - 1, sig) }, 'signature_mismatch'],
      [{ secret: 'whsec_wrong' }, 'signature_mismatch'],
      [{ headers: headers(ts, `sha256=${'0'.repeat(64)}`) }, 'signature_mismatch'],
      [{ headers: headers(ts, sig.slice(0, -2)) }, 'malformed_signature'],
      [{ headers: headers(ts, 'sha256=zz') }, 'malformed_signature'],
      [{ headers: headers(ts, `sha1=${'a'.repeat(40)} v1=${sign(secret, ts, body)}`) },
        'malformed_signature'],
      [{ headers: headers(ts, '') }, 'missing_signature'],
      [{ headers: { 'x-ringnity-timestamp': String(ts) } }, 'missing_signature'],
      [{ headers: { 'x-ringnity-signature': sig } }, 'missing_timestamp'],
      [{ headers: headers(`${ts}.5`, sig) }, 'invalid_timestamp'],
      [{ headers: headers(`${ts}, ${ts}`, sig) }, 'invalid_timestamp'],
      [{ headers: headers('-1', sig) }, 'invalid_timestamp'],
    ];
    for (const [change, reason] of cases) {
      const input = { secret, headers: headers(ts, sig), rawBody: body, ...change };
      assert.deepEqual(checkWebhookSignature(input), { valid: false, reason },
        JSON.stringify(change));
      assert.equal(verifyWebhookSignature(input), false);
    }
  });

  it('refuses timestamps outside the tolerance (default 300 s), both ways', () => {
    const check = (ts, toleranceSeconds) => checkWebhookSignature({ secret, rawBody: body,
      headers: headers(ts, `sha256=${sign(secret, ts, body)}`), toleranceSeconds });
    const now = nowSeconds();
    assert.equal(check(now - 290).valid, true);
    assert.equal(check(now + 290).valid, true);
    assert.deepEqual(check(now - 310), { valid: false, reason: 'timestamp_too_old' });
    assert.deepEqual(check(now + 310), { valid: false, reason: 'timestamp_in_future' });
    assert.equal(check(now - 3000, 3600).valid, true);
    assert.deepEqual(check(now - 20, 10), { valid: false, reason: 'timestamp_too_old' });
    assert.deepEqual(check(1781107000 - 86400 * 400),
      { valid: false, reason: 'timestamp_too_old' });
  });

  it('throws TypeError for programming mistakes, not for what a sender controls', () => {
    const ts = nowSeconds();
    const h = headers(ts, `sha256=${sign(secret, ts, body)}`);
    assert.throws(() => verifyWebhookSignature({ headers: h, rawBody: body }), TypeError);
    assert.throws(() => verifyWebhookSignature({ secret: '', headers: h, rawBody: body }),
      TypeError);
    assert.throws(() => verifyWebhookSignature({ secret, headers: h, rawBody: JSON.parse(body) }),
      /raw request body/);
    assert.throws(() => verifyWebhookSignature({ secret, rawBody: body }), TypeError);
    assert.throws(() => verifyWebhookSignature({ secret, headers: h, rawBody: body,
      toleranceSeconds: -1 }), TypeError);
    assert.throws(() => verifyWebhookSignature({ secret, headers: h, rawBody: body,
      toleranceSeconds: Infinity }), TypeError);
    assert.throws(() => verifyWebhookSignature(undefined), TypeError);
    const hostile = { 'x-ringnity-timestamp': '9'.repeat(5000), 'x-ringnity-signature': 'sha256=' };
    assert.equal(verifyWebhookSignature({ secret, headers: hostile, rawBody: '' }), false);
  });
});

// ---------------------------------------------------------------- against a real server

/**
 * One deployment (own store, one node) per describe block, with the webhook
 * private-network switch on so a loopback receiver can be registered.
 */
function useServer(label) {
  const ctx = { violations: [] };
  before(async () => {
    ctx.dep = await Deployment.create(label);
    const env = ctx.dep.env.bind(ctx.dep);
    ctx.dep.env = (extra = {}) => env({ RINGNITY_WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1', ...extra });
    ctx.node = await ctx.dep.startNode();
    const made = await ctx.dep.tenantWithKey();
    ctx.tenant = made.tenant;
    ctx.key = made.key;
    ctx.secret = made.secret;
    ctx.routes = await probeRoutes(ctx.node.baseUrl, ctx.secret);
    ctx.api = ctx.client(ctx.secret);
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });
  afterEach(() => {
    const found = ctx.violations.splice(0);
    assert.deepEqual(found, [], 'answers must match api/openapi.yaml');
  });
  ctx.client = (apiKey, extra = {}) => RingnityServerApi.create({ baseUrl: ctx.node.baseUrl,
    apiKey, fetch: contractFetch(ctx.violations), ...extra });
  return ctx;
}

function assertRecent(ts, what, slackMs = 5 * 60 * 1000) {
  assert.match(ts, TS_RE, what);
  assert.ok(Math.abs(Date.parse(ts) - Date.now()) < slackMs, `${what} ${ts} is not recent`);
}

describe('helper against ringnity serve: system and account', () => {
  const ctx = useServer('client-sys');

  it('system.health names the key and its tenant', async () => {
    const health = await ctx.api.system.health();
    assert.deepEqual(Object.keys(health).sort(), ['keyId', 'serverTime', 'status', 'tenantId',
      'version']);
    assert.equal(health.status, 'ok');
    assert.equal(health.tenantId, ctx.tenant.id);
    assert.equal(health.keyId, ctx.key.id);
    assertRecent(health.serverTime, 'serverTime');
  });

  it('account.get is the tenant the CLI created', async () => {
    assert.deepEqual(await ctx.api.account.get(), ctx.tenant);
  });

  it('account.sdkReadiness: a new tenant without agents is not ready', async () => {
    const readiness = await ctx.api.account.sdkReadiness();
    assert.deepEqual(readiness.checks.map((c) => c.name),
      ['widget_key', 'allowed_domains', 'active_agent']);
    const agent = readiness.checks.find((c) => c.name === 'active_agent');
    assert.equal(agent.ok, false);
    assert.equal(typeof agent.hint, 'string');
    assert.equal(readiness.ready, false);
    assert.deepEqual(Object.keys(readiness.services).sort(), ['ai', 'calls', 'chat']);
  });

  it('an unknown or revoked key rejects with 401 SERVER_API_KEY_INVALID, not retried', async () => {
    const unknown = ctx.client(`rn_sk_live_${randomBytes(30).toString('hex')}`);
    const err = await rejectsWith(unknown.system.health({ requestId: 'client-e2e-1' }), 401,
      'SERVER_API_KEY_INVALID');
    assert.equal(err.requestId, 'client-e2e-1', 'the server echoes the caller-chosen request id');
    assert.equal(err.attempts, 1);
    assert.equal(err.path, '/api/server/health');
    const key = await ctx.dep.createKey(ctx.tenant.slug, { scopes: 'all' });
    const revoked = ctx.client(key.secret);
    await revoked.account.get();
    await ctx.dep.revokeKey(ctx.tenant.slug, key.id);
    const gone = await rejectsWith(revoked.account.get(), 401, 'SERVER_API_KEY_INVALID');
    assert.match(gone.requestId, /^req_[0-9A-Za-z]+$/);
    assert.ok(!gone.message.includes(key.secret));
  });

  it('a rate-limited key: the helper waits out Retry-After and succeeds', async () => {
    const slow = await ctx.dep.createKey(ctx.tenant.slug,
      { scopes: 'all', rateLimit: 1, burst: 1 });
    const api = ctx.client(slow.secret);
    const started = Date.now();
    const [a, b] = await Promise.all([api.system.health(), api.system.health()]);
    assert.equal(a.keyId, slow.id);
    assert.equal(b.keyId, slow.id);
    assert.ok(Date.now() - started >= 900, 'the second call waited for the bucket');
    const impatient = ctx.client(slow.secret, { maxRetries: 0 });
    await impatient.system.health().catch(() => {});
    const err = await rejectsWith(impatient.system.health(), 429, 'SERVER_API_RATE_LIMITED');
    assert.equal(err.retryAfter, 1);
  });
});

describe('helper against ringnity serve: contacts', () => {
  const ctx = useServer('client-contacts');

  it('create resolves to the contact; the same externalId updates it', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /contacts', 'GET /contacts/{id}')) return;
    const ext = `crm-${uniq()}`;
    const first = await ctx.api.contacts.create({ externalId: ext, name: 'Budi Santoso',
      phone: '+62 812-3456-789', email: 'budi@EXAMPLE.com', company: 'Citibank',
      tags: ['priority', 'cardholder'], notes: 'Prefers chat' });
    assert.match(first.id, /^ct_[0-9A-Za-z]+$/);
    assert.equal(first.externalId, ext);
    assert.equal(first.name, 'Budi Santoso');
    assert.equal(first.phone, '+628123456789');
    assert.equal(first.email, 'budi@example.com');
    assert.equal(first.company, 'Citibank');
    assert.deepEqual(first.tags, ['priority', 'cardholder']);
    assert.equal(first.notes, 'Prefers chat');
    assertRecent(first.createdAt, 'createdAt');
    const again = await ctx.api.contacts.create({ externalId: ext, name: 'Budi S.' });
    assert.equal(again.id, first.id, 'same externalId, same contact');
    assert.equal(again.name, 'Budi S.');
    assert.deepEqual(await ctx.api.contacts.get(first.id), again);
  });

  it('list searches and pages with nextCursor', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /contacts', 'GET /contacts')) return;
    const tag = uniq(6);
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await ctx.api.contacts.create({ name: `Pager ${tag} ${i}` }));
    }
    const all = await ctx.api.contacts.list({ search: `pager ${tag}` });
    assert.deepEqual(all.data.map((c) => c.id).sort(), made.map((c) => c.id).sort());
    assert.equal(all.nextCursor, null);
    const seen = [];
    let cursor;
    do {
      const page = await ctx.api.contacts.list({ search: tag, limit: 2, cursor });
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(seen.sort(), made.map((c) => c.id).sort());
  });

  it('update changes only what is sent; null clears', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /contacts', 'PATCH /contacts/{id}')) return;
    const c = await ctx.api.contacts.create({ name: 'Sari', email: 'sari@example.com',
      notes: 'old' });
    const updated = await ctx.api.contacts.update(c.id, { tags: ['priority', 'renewal'],
      notes: null });
    assert.equal(updated.id, c.id);
    assert.equal(updated.name, 'Sari');
    assert.equal(updated.email, 'sari@example.com');
    assert.deepEqual(updated.tags, ['priority', 'renewal']);
    assert.equal(updated.notes, null);
  });

  it('delete resolves { deleted: true }, then { deleted: false }; get rejects 404', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /contacts', 'DELETE /contacts/{id}',
      'GET /contacts/{id}')) return;
    const c = await ctx.api.contacts.create({ name: 'Stale duplicate' });
    assert.deepEqual(await ctx.api.contacts.delete(c.id), { id: c.id, deleted: true });
    assert.deepEqual(await ctx.api.contacts.delete(c.id), { id: c.id, deleted: false });
    const err = await rejectsWith(ctx.api.contacts.get(c.id), 404, 'SERVER_CONTACT_NOT_FOUND');
    assert.match(err.requestId, /^req_/);
  });

  it('validation, conflict, scope and idempotency errors arrive as RingnityApiError', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /contacts', 'PATCH /contacts/{id}')) return;
    const bad = await rejectsWith(ctx.api.contacts.create({ name: 'X', email: 'not-an-email' }),
      400, 'SERVER_CONTACT_VALIDATION_FAILED');
    assert.deepEqual(bad.details.map((d) => d.field), ['email']);
    const a = await ctx.api.contacts.create({ externalId: `a-${uniq()}`, name: 'A' });
    const b = await ctx.api.contacts.create({ externalId: `b-${uniq()}`, name: 'B' });
    await rejectsWith(ctx.api.contacts.update(b.id, { externalId: a.externalId }), 409,
      'SERVER_CONTACT_CONFLICT');
    const readOnly = await ctx.dep.createKey(ctx.tenant.slug, { scopes: ['server:contacts:read'] });
    const denied = await rejectsWith(ctx.client(readOnly.secret).contacts.create({ name: 'N' }),
      403, 'SERVER_API_SCOPE_DENIED');
    assert.match(denied.message, /server:contacts:write/);
    const key = `idem-${uniq()}`;
    const one = await ctx.api.contacts.create({ name: 'Once' }, { idempotencyKey: key });
    const two = await ctx.api.contacts.create({ name: 'Once' }, { idempotencyKey: key });
    assert.deepEqual(two, one, 'a repeat with the same key returns the first answer');
    await rejectsWith(ctx.api.contacts.create({ name: 'Other' }, { idempotencyKey: key }), 409,
      'SERVER_IDEMPOTENCY_KEY_REUSED');
  });
});

describe('helper against ringnity serve: SDK tokens', () => {
  const ctx = useServer('client-tokens');
  let jwks;
  before(async () => {
    await ctx.dep.addStaff(ctx.tenant.slug, 'agent.one', 'agent', 'Agent One');
    await ctx.dep.addStaff(ctx.tenant.slug, 'admin.one', 'admin', 'Admin One');
    jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ctx.node.baseUrl));
  });

  async function verify(token, audience) {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ctx.node.baseUrl,
      audience,
      algorithms: ['EdDSA'],
    });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.tid, ctx.tenant.id);
    return payload;
  }

  function assertTokenTimes(res, expiresIn) {
    assert.equal(res.tokenType, 'Bearer');
    assert.equal(res.expiresIn, expiresIn);
    assert.match(res.expiresAt, TS_RE);
    const delta = Date.parse(res.expiresAt) - (Date.now() + expiresIn * 1000);
    assert.ok(Math.abs(delta) < 60000, `expiresAt ${res.expiresAt} is not now + ${expiresIn} s`);
  }

  it('tokens.visitorContext mints a context token the JWKS verifies', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /visitor-context-token')) return;
    const res = await ctx.api.tokens.visitorContext({
      visitor: { externalId: 'crm-1001', name: 'Budi Santoso', phone: '+62 812-3456-789' },
      metadata: { tier: 'priority' },
      expiresIn: 900,
    });
    assertTokenTimes(res, 900);
    const claims = await verify(res.contextToken, 'ringnity:visitor');
    assert.equal(claims.exp - claims.iat, 900);
  });

  it('tokens.agent: the requested scopes, or the read scopes by default', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /sdk-token/agent')) return;
    const full = await ctx.api.tokens.agent({ username: 'agent.one', scopes: AGENT_SCOPES,
      expiresIn: 600 });
    assertTokenTimes(full, 600);
    assert.deepEqual([...full.scopes].sort(), [...AGENT_SCOPES].sort());
    const claims = await verify(full.token, 'ringnity:agent');
    assert.deepEqual(claims.scope.split(' ').sort(), [...AGENT_SCOPES].sort());
    const dflt = await ctx.api.tokens.agent({ username: 'agent.one' });
    assertTokenTimes(dflt, 900);
    assert.deepEqual([...dflt.scopes].sort(),
      AGENT_SCOPES.filter((s) => s.endsWith(':read')).sort());
  });

  it('tokens.admin: the :read scopes by default; errors per SPEC §5', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /sdk-token/admin', 'POST /sdk-token/agent')) return;
    const res = await ctx.api.tokens.admin({ username: 'admin.one', expiresIn: 900 });
    assertTokenTimes(res, 900);
    assert.deepEqual([...res.scopes].sort(), [...ADMIN_READ_SCOPES].sort());
    await verify(res.token, 'ringnity:admin');
    await rejectsWith(ctx.api.tokens.admin({ username: 'agent.one' }), 403,
      'SERVER_ADMIN_ROLE_REQUIRED');
    await rejectsWith(ctx.api.tokens.admin({ username: 'nobody' }), 404, 'SERVER_ADMIN_NOT_FOUND');
    await rejectsWith(ctx.api.tokens.agent({ username: 'nobody' }), 404, 'SERVER_AGENT_NOT_FOUND');
    await rejectsWith(ctx.api.tokens.agent({ username: 'agent.one', scopes: ['agent:root'] }), 400,
      'SERVER_SDK_SCOPE_INVALID');
    await rejectsWith(ctx.api.tokens.agent({ username: 'agent.one', expiresIn: 59 }), 400,
      'SERVER_REQUEST_VALIDATION_FAILED');
  });

  it('visitor context errors: empty context, too large', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /visitor-context-token')) return;
    await rejectsWith(ctx.api.tokens.visitorContext({ visitor: {}, metadata: {} }), 400,
      'SERVER_VISITOR_CONTEXT_EMPTY');
    await rejectsWith(ctx.api.tokens.visitorContext({ visitor: { name: 'x' },
      metadata: { blob: 'y'.repeat(5000) } }), 413, 'SERVER_VISITOR_CONTEXT_TOO_LARGE');
  });
});

describe('helper against ringnity serve: reports', () => {
  const ctx = useServer('client-reports');
  const SUMMARY_KEYS = ['avgFirstResponseSeconds', 'avgResolutionSeconds', 'avgTalkSeconds',
    'calls', 'callsAnswered', 'callsMissed', 'contactsCreated', 'conversations',
    'conversationsResolved', 'messagesInbound', 'messagesOutbound', 'ticketsCreated',
    'ticketsResolved'];
  const ZERO = { avgFirstResponseSeconds: null, avgResolutionSeconds: null, avgTalkSeconds: null,
    calls: 0, callsAnswered: 0, callsMissed: 0, contactsCreated: 0, conversations: 0,
    conversationsResolved: 0, messagesInbound: 0, messagesOutbound: 0, ticketsCreated: 0,
    ticketsResolved: 0 };
  const localToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta' })
    .format(new Date());
  let agent;
  before(async () => {
    agent = await ctx.dep.addStaff(ctx.tenant.slug, 'agent.one', 'agent', 'Agent One');
  });

  it('reports.summary, timeseries and productivity: exact shapes of a quiet tenant', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'GET /reports/summary', 'GET /reports/timeseries',
      'GET /reports/productivity')) return;
    const summary = await ctx.api.reports.summary({ period: '7days' });
    assert.deepEqual(Object.keys(summary).sort(), ['generatedAt', 'period', 'summary', 'tenantId']);
    assert.equal(summary.tenantId, ctx.tenant.id);
    assert.equal(summary.period.name, '7days');
    assert.equal(summary.period.to, localToday());
    assert.equal(summary.period.timezone, 'Asia/Jakarta');
    assertRecent(summary.generatedAt, 'generatedAt');
    assert.deepEqual(summary.summary, ZERO);

    const series = await ctx.api.reports.timeseries({ period: '7days' });
    assert.equal(series.data.length, 7, 'one row per day, zero days included');
    assert.equal(series.data[0].date, series.period.from);
    assert.equal(series.data[6].date, localToday());
    for (const row of series.data) {
      const { date, ...figures } = row;
      assert.match(date, /^\d{4}-\d{2}-\d{2}$/);
      assert.deepEqual(figures, ZERO);
    }

    const prod = await ctx.api.reports.productivity({ period: 'today' });
    assert.deepEqual(prod.period, { name: 'today', from: localToday(), to: localToday(),
      timezone: 'Asia/Jakarta' });
    assert.deepEqual(prod.data, [{ agentId: agent.id, username: 'agent.one',
      displayName: 'Agent One', conversationsHandled: 0, conversationsResolved: 0,
      messagesSent: 0, avgFirstResponseSeconds: null, callsHandled: 0, talkSeconds: 0,
      onlineSeconds: 0 }]);
    const dflt = await ctx.api.reports.summary();
    assert.equal(dflt.period.name, '30days', 'the period defaults to 30days');
  });

  it('reports.export: JSON envelope; CSV text with a header row and CRLF', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'GET /reports/export')) return;
    const json = await ctx.api.reports.export({ period: 'custom', from: '2026-11-01',
      to: '2026-11-30', format: 'json' });
    assert.equal(json.tenantId, ctx.tenant.id);
    assert.deepEqual(json.period, { name: 'custom', from: '2026-11-01', to: '2026-11-30',
      timezone: 'Asia/Jakarta' });
    assert.equal(json.timeseries.length, 30);
    assert.equal(json.timeseries[29].date, '2026-11-30');
    assert.deepEqual(json.summary, ZERO);
    assert.equal(json.productivity.length, 1);
    assertRecent(json.generatedAt, 'generatedAt');
    const csv = await ctx.api.reports.export({ period: 'custom', from: '2026-11-01',
      to: '2026-11-30', format: 'csv' });
    assert.equal(typeof csv, 'string');
    const lines = csv.split('\r\n');
    assert.equal(lines.at(-1), '', 'CRLF after the last row');
    assert.equal(lines.length, 32, 'header + 30 days + the empty tail');
    assert.deepEqual(lines[0].split(',').sort(), ['date', ...SUMMARY_KEYS].sort());
    assert.equal(lines[0].split(',')[0], 'date');
    assert.match(lines[1], /^2026-11-01,/);
    assert.ok(!csv.includes('\n\n') && csv.split('\n').length === csv.split('\r\n').length,
      'every line ends in CRLF');
    const people = await ctx.api.reports.export({ period: 'today', format: 'csv',
      dataset: 'productivity' });
    const [head, row, tail] = people.split('\r\n');
    assert.match(head, /^agentId,username,displayName,/);
    assert.match(row, new RegExp(`^${agent.id},agent\\.one,Agent One,`));
    assert.equal(tail, '');
    const summary = await ctx.api.reports.export({ period: 'today', format: 'csv',
      dataset: 'summary' });
    assert.match(summary, /^period,from,to,timezone,/);
    assert.equal(summary.split('\r\n').length, 3, 'header, one row, empty tail');
    const dflt = await ctx.api.reports.export({ period: '7days' });
    assert.equal(dflt.timeseries.length, 7, 'format defaults to the JSON envelope');
  });

  it('bad period and format are 400 with their codes', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'GET /reports/summary', 'GET /reports/export')) return;
    await rejectsWith(ctx.api.reports.summary({ period: 'yesterday' }), 400,
      'SERVER_REPORT_PERIOD_INVALID');
    await rejectsWith(ctx.api.reports.timeseries({ period: 'custom', from: '2026-11-30',
      to: '2026-11-01' }), 400, 'SERVER_REPORT_PERIOD_INVALID');
    await rejectsWith(ctx.api.reports.export({ period: '7days', format: 'xlsx' }), 400,
      'SERVER_REPORT_FORMAT_INVALID');
    const readOnly = await ctx.dep.createKey(ctx.tenant.slug, { scopes: ['server:contacts:read'] });
    const denied = await rejectsWith(ctx.client(readOnly.secret).reports.productivity(), 403,
      'SERVER_API_SCOPE_DENIED');
    assert.match(denied.message, /server:reports:read/);
  });
});

describe('helper against ringnity serve: webhooks', () => {
  const ctx = useServer('client-webhooks');
  const received = [];
  let receiver;
  let receiverUrl;
  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  });
  after(async () => {
    receiver?.closeAllConnections();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve()));
  });

  const ALL = ['GET /webhooks', 'POST /webhooks', 'GET /webhooks/{id}', 'PATCH /webhooks/{id}',
    'DELETE /webhooks/{id}', 'POST /webhooks/test', 'GET /webhooks/deliveries',
    'POST /webhooks/deliveries/{id}/redeliver', 'GET /webhooks/event-types'];

  it('create returns a generated secret once; list and get never return one', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /webhooks', 'GET /webhooks', 'GET /webhooks/{id}',
      'PATCH /webhooks/{id}')) return;
    const created = await ctx.api.webhooks.create({ name: 'CRM webhook', url: receiverUrl,
      secret: 'shared-secret-from-your-receiver', events: ['conversation.message.received'] });
    assert.match(created.id, /^wh_[0-9A-Za-z]+$/);
    assert.equal('secret' in created, false, 'a secret the caller chose is not echoed');
    assert.equal(created.enabled, true);
    assert.deepEqual(created.events, ['conversation.message.received']);
    const generated = await ctx.api.webhooks.create({ name: 'Generated', url: receiverUrl,
      events: ['*'] });
    assert.match(generated.secret, /^whsec_/);
    const got = await ctx.api.webhooks.get(created.id);
    assert.equal(got.secret, undefined);
    assert.equal(got.name, 'CRM webhook');
    const list = await ctx.api.webhooks.list();
    const ids = list.data.map((w) => w.id);
    assert.ok(ids.includes(created.id) && ids.includes(generated.id));
    assert.ok(list.data.every((w) => w.secret === undefined));
    const renamed = await ctx.api.webhooks.update(created.id, { name: 'CRM', enabled: false });
    assert.equal(renamed.name, 'CRM');
    assert.equal(renamed.enabled, false);
    await rejectsWith(ctx.api.webhooks.create({ name: 'bad', url: receiverUrl,
      events: ['contact.merged'] }), 400, 'SERVER_WEBHOOK_EVENT_INVALID');
    await rejectsWith(ctx.api.webhooks.create({ name: 'bad', url: 'not a url', events: ['*'] }),
      400, 'SERVER_WEBHOOK_URL_INVALID');
    await rejectsWith(ctx.api.webhooks.get('wh_doesnotexist'), 404, 'SERVER_WEBHOOK_NOT_FOUND');
  });

  it('test sends a signed POST the helper verifies; deliveries and redeliver follow', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, ...ALL)) return;
    const secret = `whsec_${uniq(16)}`;
    const hook = await ctx.api.webhooks.create({ name: 'Receiver', url: receiverUrl, secret,
      events: ['contact.created'] });
    received.length = 0;
    const attempt = await ctx.api.webhooks.test({ webhookId: hook.id, event: 'contact.created' });
    assert.equal(attempt.webhookId, hook.id);
    assert.equal(attempt.event, 'contact.created');
    assert.equal(attempt.status, 'succeeded');
    assert.equal(attempt.responseStatus, 200);
    assert.equal(received.length, 1);
    const got = received[0];
    assert.equal(got.headers['x-ringnity-event'], 'contact.created');
    assert.equal(got.headers['x-ringnity-delivery'], attempt.eventId);
    assert.equal(verifyWebhookSignature({ secret, headers: got.headers, rawBody: got.raw }), true);
    assert.equal(verifyWebhookSignature({ secret: 'whsec_wrong', headers: got.headers,
      rawBody: got.raw }), false);
    const event = JSON.parse(got.raw.toString('utf8'));
    assert.equal(event.id, attempt.eventId);
    assert.equal(event.type, 'contact.created');
    assert.equal(event.tenantId, ctx.tenant.id);

    const page = await ctx.api.webhooks.deliveries({ webhookId: hook.id, limit: 10 });
    assert.deepEqual(page.data.map((d) => d.id), [attempt.id]);
    const again = await ctx.api.webhooks.redeliver(attempt.id);
    assert.equal(again.eventId, attempt.eventId);
    assert.notEqual(again.id, attempt.id);
    assert.equal(received.length, 2);
    assert.equal(received[1].headers['x-ringnity-delivery'], attempt.eventId,
      'a redelivery keeps the delivery id, so receivers can drop it');
    const types = await ctx.api.webhooks.eventTypes();
    assert.deepEqual(types.data.map((e) => e.type), EVENT_TYPES);
    assert.ok(types.data.every((e) => typeof e.description === 'string' && e.description !== ''));
    assert.deepEqual(await ctx.api.webhooks.delete(hook.id), { id: hook.id, deleted: true });
    assert.deepEqual(await ctx.api.webhooks.delete(hook.id), { id: hook.id, deleted: false });
  });

  it('a secret rotated with a grace period signs with both; either verifies', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /webhooks', 'PATCH /webhooks/{id}',
      'POST /webhooks/test')) return;
    const hook = await ctx.api.webhooks.create({ name: 'Rotating', url: receiverUrl,
      secret: 'whsec_old_secret', events: ['*'] });
    await ctx.api.webhooks.update(hook.id, { secret: 'whsec_new_secret', secretGraceSeconds: 600 });
    received.length = 0;
    await ctx.api.webhooks.test({ webhookId: hook.id, event: 'ticket.created' });
    const got = received[0];
    assert.equal(got.headers['x-ringnity-signature'].split(' ').length, 2);
    for (const secret of ['whsec_new_secret', 'whsec_old_secret']) {
      assert.equal(verifyWebhookSignature({ secret, headers: got.headers, rawBody: got.raw }), true,
        secret);
    }
  });
});

// ---------------------------------------------------------------- the seed example

function seedCode() {
  if (!existsSync(SEED_DIR)) return null;
  for (const name of readdirSync(SEED_DIR)) {
    const text = readFileSync(path.join(SEED_DIR, name), 'utf8');
    const start = text.indexOf("import { RingnityServerApi } from '@ringnity/server-api';");
    const endMark = "await ringnity.contacts.delete('contact_id');";
    const end = text.indexOf(endMark);
    if (start >= 0 && end > start) return text.slice(start, end + endMark.length);
  }
  return null;
}

const squash = (s) => s.replace(/\s+/g, '');

describe('the seed example (clients/node/examples)', () => {
  const ctx = { violations: [] };
  before(async () => {
    ctx.dep = await Deployment.create('client-seed');
    await ctx.dep.cli(['migrate'], { json: false });
    const demo = (await ctx.dep.cli(['demo', 'init'])).json;
    ctx.secret = demo.serverKey.secret;
    ctx.dep.secrets.add(ctx.secret);
    ctx.node = await ctx.dep.startNode();
    ctx.routes = await probeRoutes(ctx.node.baseUrl, ctx.secret);
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });

  it('is the seed code, changed only in whitespace and the non-null "!"', (t) => {
    const seed = seedCode();
    if (seed === null) {
      t.skip(`the seed document is not at ${SEED_DIR}`);
      return;
    }
    const ts = readFileSync(path.join(CLIENT_DIR, 'examples/seed-example.ts'), 'utf8');
    const mjs = readFileSync(path.join(CLIENT_DIR, 'examples/seed-example.mjs'), 'utf8');
    assert.equal(squash(ts), squash(seed), 'seed-example.ts is the seed verbatim');
    assert.equal(squash(mjs),
      squash(seed).replace('RINGNITY_SERVER_API_KEY!', 'RINGNITY_SERVER_API_KEY'),
      'seed-example.mjs differs from the seed only by the "!"');
  });

  it('runs unchanged against a demo tenant and every result checks out', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'GET /health', 'GET /tenant', 'GET /tenant/sdk-readiness',
      'GET /reports/export', 'POST /visitor-context-token', 'POST /sdk-token/agent',
      'POST /sdk-token/admin', 'DELETE /contacts/{id}')) return;
    const recordFile = path.join(ctx.dep.dir, 'seed-calls.json');
    const run = await new Promise((resolve) => {
      execFile(process.execPath, ['--import', './test-support/record-calls.mjs',
        'examples/seed-example.mjs'], {
        cwd: CLIENT_DIR,
        timeout: 60000,
        env: { ...process.env, RINGNITY_API_BASE_URL: ctx.node.baseUrl,
          RINGNITY_SERVER_API_KEY: ctx.secret, RINGNITY_RECORD_FILE: recordFile },
      }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
    });
    assert.equal(run.code, 0, `the example failed:\n${run.stderr}`);
    assert.equal(run.stderr, '');
    const calls = JSON.parse(readFileSync(recordFile, 'utf8'));
    rmSync(recordFile);
    assert.deepEqual(calls.map((c) => c.call), ['system.health', 'account.get',
      'account.sdkReadiness', 'reports.export', 'tokens.visitorContext', 'tokens.agent',
      'tokens.admin', 'contacts.delete']);
    const v = Object.fromEntries(calls.map((c) => [c.call, c.value]));
    for (const c of calls) {
      assert.equal(c.error, undefined, `${c.call}: ${JSON.stringify(c.error)}`);
    }

    const account = v['account.get'];
    assert.equal(account.slug, 'demo');
    assert.equal(account.timezone, 'Asia/Jakarta');
    assert.equal(v['system.health'].tenantId, account.id);
    assert.equal(v['system.health'].status, 'ok');
    assert.equal(v['account.sdkReadiness'].ready, true, 'the demo tenant is ready');

    const csv = v['reports.export'];
    assert.equal(typeof csv, 'string', 'the CSV export resolves to text');
    const lines = csv.split('\r\n');
    assert.match(lines[0], /^date,/);
    assert.equal(lines.length, 32, 'header + 30 days + the empty tail after the last CRLF');
    const column = lines[0].split(',').indexOf('conversations');
    const total = lines.slice(1, -1).reduce((n, l) => n + Number(l.split(',')[column]), 0);
    assert.ok(total > 0, 'demo init seeds 30 days of activity, so the export is not all zeros');

    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ctx.node.baseUrl));
    const check = async (token, audience) => (await jwtVerify(token, jwks,
      { issuer: ctx.node.baseUrl, audience, algorithms: ['EdDSA'] })).payload;
    const visitor = v['tokens.visitorContext'];
    assert.equal(visitor.expiresIn, 900);
    assert.equal((await check(visitor.contextToken, 'ringnity:visitor')).tid, account.id);
    const agent = v['tokens.agent'];
    assert.deepEqual([...agent.scopes].sort(), [...AGENT_SCOPES].sort());
    assert.equal((await check(agent.token, 'ringnity:agent')).tid, account.id);
    const admin = v['tokens.admin'];
    assert.deepEqual([...admin.scopes].sort(), [...ADMIN_READ_SCOPES].sort());
    assert.equal((await check(admin.token, 'ringnity:admin')).tid, account.id);

    assert.deepEqual(v['contacts.delete'], { id: 'contact_id', deleted: false },
      "the placeholder id names no contact: delete is idempotent and says so");
  });
});

// ---------------------------------------------------------------- TypeScript

describe('the TypeScript declarations', () => {
  it('index.d.ts and the seed example (with "!") type-check under strict tsc', async (t) => {
    const tsc = path.join(CLIENT_DIR, 'node_modules/typescript/bin/tsc');
    if (!existsSync(tsc)) {
      const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: CLIENT_DIR, encoding: 'utf8', timeout: 180000 });
      if (install.status !== 0 || !existsSync(tsc)) {
        t.skip(`typescript could not be installed in clients/node (npm ci: ${install.status}): `
          + `${(install.stderr ?? '').slice(0, 200)}`);
        return;
      }
    }
    const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'],
      { cwd: CLIENT_DIR, encoding: 'utf8', timeout: 120000 });
    assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`);
  });
});
