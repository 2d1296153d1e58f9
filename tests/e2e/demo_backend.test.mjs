// examples/sun_demo_webhook, issue 7: the demo backend run as a real process
// against a `make run`-like server (migrate, demo init, serve, with
// RINGNITY_WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 because the demo listens on
// loopback). The README's walk-through, automated: health, an Agent SDK token
// through the helper, a webhook destination registered for the demo, a test
// event that arrives verified, a redelivery dropped as a duplicate, a real
// contact event, and forged or stale deliveries refused.
//
// Steps that need endpoints the server does not route yet skip, naming them.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Deployment, sleep } from './lib/server.mjs';
import { request } from './lib/http.mjs';
import { REPO_ROOT } from './lib/openapi.mjs';
import { RingnityServerApi } from '../../clients/node/src/index.js';
import {
  contractFetch,
  probeRoutes,
  skipUnlessRoutes,
} from '../../clients/node/test-support/e2e.mjs';

const DEMO_DIR = path.join(REPO_ROOT, 'examples/sun_demo_webhook');
const WEBHOOK_SECRET = 'whsec_demo_backend_e2e_secret';

/**
 * The demo imports '@ringnity/server-api', declared as "file:../../clients/node".
 * `npm install` in its folder links node_modules/@ringnity/server-api to
 * clients/node; make the same link when it is missing, without the registry.
 */
function linkHelper() {
  const scope = path.join(DEMO_DIR, 'node_modules/@ringnity');
  const link = path.join(scope, 'server-api');
  if (existsSync(path.join(link, 'package.json'))) return;
  mkdirSync(scope, { recursive: true });
  symlinkSync(path.relative(scope, path.join(REPO_ROOT, 'clients/node')), link, 'dir');
}

/** A running demo process: its stdout JSON lines, its URL, and a stop(). */
class Demo {
  static async start(env) {
    const demo = new Demo(env);
    await demo.ready;
    return demo;
  }

  constructor(env) {
    this.lines = [];
    this.stdout = '';
    this.stderr = '';
    this.proc = spawn(process.execPath, ['server.mjs'], {
      cwd: DEMO_DIR,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    this.proc.stderr.setEncoding('utf8').on('data', (d) => { this.stderr += d; });
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout.setEncoding('utf8').on('data', (d) => {
        this.stdout += d;
        this.collect();
        const up = this.lines.find((l) => l.message === 'listening');
        if (up) {
          this.url = `http://127.0.0.1:${up.port}`;
          resolve();
        }
      });
      this.exited.then((code) =>
        reject(new Error(`demo exited ${code}: ${this.stdout}${this.stderr}`)));
    });
  }

  collect() {
    const parts = this.stdout.split('\n');
    this.stdout = parts.pop();
    for (const line of parts) {
      if (line.trim() !== '') this.lines.push(JSON.parse(line));
    }
  }

  /** Resolves the first log line matching pred, waiting up to timeoutMs. */
  async waitFor(pred, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      await sleep(50);
    }
    throw new Error(`no matching demo log line in ${timeoutMs} ms:\n${this.lines.map((l) =>
      JSON.stringify(l)).join('\n')}`);
  }

  async post(route, body, headers = {}) {
    const res = await request(this.url, { method: 'POST', path: route, body,
      headers: { 'Content-Type': 'application/json', ...headers } });
    return res;
  }

  async stop() {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    return this.exited;
  }
}

/** Runs the demo with this env and resolves its exit code and output (for start-up errors). */
function runToExit(env) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['server.mjs'], { cwd: DEMO_DIR,
      env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function signed(body, { secret = WEBHOOK_SECRET, ts = Math.floor(Date.now() / 1000), id }) {
  const sig = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  return {
    'X-Ringnity-Event': 'contact.created',
    'X-Ringnity-Delivery': id,
    'X-Ringnity-Timestamp': String(ts),
    'X-Ringnity-Signature': `sha256=${sig}`,
  };
}

describe('sun_demo_webhook against a make-run-like server', () => {
  const ctx = { violations: [] };
  before(async () => {
    linkHelper();
    ctx.dep = await Deployment.create('demo-backend');
    const env = ctx.dep.env.bind(ctx.dep);
    ctx.dep.env = (extra = {}) => env({ RINGNITY_WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1', ...extra });
    await ctx.dep.cli(['migrate'], { json: false });
    const demo = (await ctx.dep.cli(['demo', 'init'])).json;
    ctx.secret = demo.serverKey.secret;
    ctx.dep.secrets.add(ctx.secret);
    ctx.node = await ctx.dep.startNode();
    ctx.routes = await probeRoutes(ctx.node.baseUrl, ctx.secret);
    ctx.api = RingnityServerApi.create({ baseUrl: ctx.node.baseUrl, apiKey: ctx.secret,
      fetch: contractFetch(ctx.violations) });
    ctx.tenant = await ctx.api.account.get();
    ctx.demo = await Demo.start({ RINGNITY_API_BASE_URL: ctx.node.baseUrl,
      RINGNITY_SERVER_API_KEY: ctx.secret, RINGNITY_WEBHOOK_SECRET: WEBHOOK_SECRET });
  });
  after(async () => {
    const code = ctx.demo ? await ctx.demo.stop() : 0;
    if (ctx.dep) await ctx.dep.destroy();
    assert.equal(code, 0, 'the demo exits 0 on SIGTERM');
  });
  afterEach(() => {
    assert.deepEqual(ctx.violations.splice(0), [], 'answers must match api/openapi.yaml');
  });

  it('listens on 127.0.0.1 and answers GET /ringnity/webhook/health', async () => {
    const up = ctx.demo.lines.find((l) => l.message === 'listening');
    assert.equal(up.url, ctx.demo.url);
    assert.equal(up.ringnity, ctx.node.baseUrl);
    const res = await request(ctx.demo.url, { path: '/ringnity/webhook/health' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok', service: 'sun_demo_webhook',
      webhookSecretConfigured: true });
    const wrong = await request(ctx.demo.url,
      { method: 'DELETE', path: '/ringnity/webhook/health' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET');
    assert.equal((await request(ctx.demo.url, { path: '/nope' })).status, 404);
  });

  it('POST /ringnity/agent-token returns a fresh Agent SDK token', async (t) => {
    if (skipUnlessRoutes(t, ctx.routes, 'POST /sdk-token/agent')) return;
    const res = await ctx.demo.post('/ringnity/agent-token', '{"username":"agent.one"}');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.tokenType, 'Bearer');
    assert.equal(res.json.expiresIn, 900);
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ctx.node.baseUrl));
    const { payload } = await jwtVerify(res.json.token, jwks,
      { issuer: ctx.node.baseUrl, audience: 'ringnity:agent', algorithms: ['EdDSA'] });
    assert.equal(payload.tid, ctx.tenant.id);
    const second = await ctx.demo.post('/ringnity/agent-token', '{"username":"agent.one"}');
    assert.notEqual(second.json.token, res.json.token, 'each call mints a fresh token');
    const line = await ctx.demo.waitFor((l) => l.message === 'agent token issued');
    assert.equal(line.username, 'agent.one');
    const unknown = await ctx.demo.post('/ringnity/agent-token', '{"username":"nobody"}');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'SERVER_AGENT_NOT_FOUND');
  });

  it('POST /ringnity/agent-token refuses malformed requests without calling Ringnity', async () => {
    const cases = [
      ['{"username":""}', {}, 400, 'INVALID_USERNAME'],
      ['{"user":"agent.one"}', {}, 400, 'INVALID_USERNAME'],
      ['{"username":"a b"}', {}, 400, 'INVALID_USERNAME'],
      ['[1]', {}, 400, 'INVALID_JSON'],
      ['{"username":', {}, 400, 'INVALID_JSON'],
      ['username=agent.one', { 'Content-Type': 'application/x-www-form-urlencoded' }, 415,
        'UNSUPPORTED_MEDIA_TYPE'],
      [`{"username":"${'a'.repeat(20000)}"}`, {}, 413, 'TOO_LARGE'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await ctx.demo.post('/ringnity/agent-token', body, headers);
      assert.equal(res.status, status, body.slice(0, 40));
      assert.equal(res.json.error.code, code, body.slice(0, 40));
    }
  });

  it('POST /ringnity/webhook refuses forged, stale and unsigned deliveries', async () => {
    const body = '{"id":"evt_forged","type":"contact.created","data":{}}';
    const cases = [
      [signed(body, { id: 'evt_f1', secret: 'whsec_wrong' }), 'signature_mismatch'],
      [signed(body, { id: 'evt_f2', ts: Math.floor(Date.now() / 1000) - 400 }),
        'timestamp_too_old'],
      [signed(body, { id: 'evt_f3', ts: Math.floor(Date.now() / 1000) + 400 }),
        'timestamp_in_future'],
      [{ 'X-Ringnity-Delivery': 'evt_f4' }, 'missing_timestamp'],
    ];
    for (const [headers, reason] of cases) {
      const res = await ctx.demo.post('/ringnity/webhook', body, headers);
      assert.equal(res.status, 401, reason);
      assert.deepEqual(res.json, { error: { code: 'SIGNATURE_INVALID', reason } });
      await ctx.demo.waitFor((l) => l.message === 'webhook rejected' && l.reason === reason);
    }
    const tampered = signed(body, { id: 'evt_f5' });
    const res = await ctx.demo.post('/ringnity/webhook', body.replace('{}', '{"x":1}'), tampered);
    assert.equal(res.status, 401);
    assert.ok(!ctx.demo.lines.some((l) => l.message === 'webhook received'
      && String(l.deliveryId).startsWith('evt_f')), 'nothing forged was accepted');
  });

  it('POST /ringnity/webhook logs a genuine delivery once and drops its duplicate', async () => {
    const id = 'evt_local_signed_1';
    const body = JSON.stringify({ id, type: 'contact.created', createdAt: new Date().toISOString(),
      tenantId: ctx.tenant.id, data: { name: 'Budi' } });
    const first = await ctx.demo.post('/ringnity/webhook', body, signed(body, { id }));
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, { received: true, duplicate: false });
    const again = await ctx.demo.post('/ringnity/webhook', body, signed(body, { id }));
    assert.deepEqual(again.json, { received: true, duplicate: true });
    const line = await ctx.demo.waitFor((l) => l.message === 'webhook received'
      && l.deliveryId === id);
    assert.equal(line.verified, true);
    assert.equal(line.eventType, 'contact.created');
    assert.deepEqual(line.event, JSON.parse(body));
    await ctx.demo.waitFor((l) => l.message === 'webhook duplicate dropped' && l.deliveryId === id);
    assert.equal(ctx.demo.lines.filter((l) => l.message === 'webhook received'
      && l.deliveryId === id).length, 1);
  });

  it('end to end: register the demo as a webhook, send a test event, watch it arrive verified',
    async (t) => {
      if (skipUnlessRoutes(t, ctx.routes, 'POST /webhooks', 'POST /webhooks/test',
        'POST /webhooks/deliveries/{id}/redeliver')) return;
      const hook = await ctx.api.webhooks.create({ name: 'sun_demo_webhook',
        url: `${ctx.demo.url}/ringnity/webhook`, secret: WEBHOOK_SECRET, events: ['*'] });
      const attempt = await ctx.api.webhooks.test({ webhookId: hook.id,
        event: 'conversation.message.received' });
      assert.equal(attempt.status, 'succeeded', JSON.stringify(attempt));
      assert.equal(attempt.responseStatus, 200);
      const line = await ctx.demo.waitFor((l) => l.message === 'webhook received'
        && l.deliveryId === attempt.eventId);
      assert.equal(line.verified, true);
      assert.equal(line.eventType, 'conversation.message.received');
      assert.equal(line.event.type, 'conversation.message.received');
      assert.equal(line.event.tenantId, ctx.tenant.id);

      const again = await ctx.api.webhooks.redeliver(attempt.id);
      assert.equal(again.status, 'succeeded');
      await ctx.demo.waitFor((l) => l.message === 'webhook duplicate dropped'
        && l.deliveryId === attempt.eventId);
      ctx.hook = hook;
    });

  it('end to end: a contact written through the helper reaches the demo as contact.created',
    async (t) => {
      if (skipUnlessRoutes(t, ctx.routes, 'POST /webhooks', 'POST /contacts')) return;
      ctx.hook ??= await ctx.api.webhooks.create({ name: 'sun_demo_webhook',
        url: `${ctx.demo.url}/ringnity/webhook`, secret: WEBHOOK_SECRET, events: ['*'] });
      const contact = await ctx.api.contacts.create({ externalId: 'crm-demo-1',
        name: 'Budi Santoso' });
      const line = await ctx.demo.waitFor((l) => l.message === 'webhook received'
        && l.eventType === 'contact.created' && l.event?.data?.id === contact.id, 30000);
      assert.equal(line.verified, true);
      assert.equal(line.event.data.externalId, 'crm-demo-1');
    });

  it('never logs the server key, the webhook secret or a token', async () => {
    const all = ctx.demo.lines.map((l) => JSON.stringify(l)).join('\n') + ctx.demo.stderr;
    assert.ok(!all.includes(ctx.secret), 'server key in the demo log');
    assert.ok(!all.includes(WEBHOOK_SECRET), 'webhook secret in the demo log');
    assert.ok(!/eyJ[0-9A-Za-z_-]+\.eyJ/.test(all), 'a JWT in the demo log');
  });
});

describe('sun_demo_webhook start-up', () => {
  before(linkHelper);

  it('refuses to start without the key or the webhook secret, and says why', async () => {
    const key = `rn_sk_live_${'Ab1'.repeat(12)}`;
    const noKey = await runToExit({ RINGNITY_API_BASE_URL: 'http://127.0.0.1:9',
      RINGNITY_WEBHOOK_SECRET: 's' });
    assert.equal(noKey.code, 1);
    assert.match(noKey.out, /cannot start: No Ringnity server API key/);
    const noSecret = await runToExit({ RINGNITY_API_BASE_URL: 'http://127.0.0.1:9',
      RINGNITY_SERVER_API_KEY: key });
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.out, /cannot start: set RINGNITY_WEBHOOK_SECRET/);
    assert.ok(!noSecret.out.includes(key));
  });
});
