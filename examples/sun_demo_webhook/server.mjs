// sun_demo_webhook: a small demo backend for the Ringnity Server API.
//
//   GET  /ringnity/webhook/health   is this backend up (and is a webhook secret set)
//   POST /ringnity/agent-token      {"username":"agent.one"} -> a fresh Agent SDK token
//   POST /ringnity/webhook          a signed Ringnity delivery: verified, de-duplicated, logged
//
// Environment: RINGNITY_SERVER_API_KEY and RINGNITY_API_BASE_URL (read by the
// helper), RINGNITY_WEBHOOK_SECRET (the destination's signing secret), PORT
// (default 3000; 0 picks a free one) and HOST (default 127.0.0.1).
// Logs are one JSON object per line on stdout; no key, token or secret is
// ever logged.
//
// In a real backend the agent-token route must sit behind your own sign-in
// and take the username from your session, never from the request body:
// whoever can call it gets a token for that agent.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { RingnityApiError, RingnityServerApi } from '@ringnity/server-api';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_TOKEN_BODY_BYTES = 16 * 1024;
const DEFAULT_DEDUPE_CAPACITY = 10000;
const USERNAME_RE = /^[A-Za-z0-9._@-]{1,100}$/;
// Ringnity errors that are about the caller's request; anything else is a 502.
const PASSED_THROUGH = {
  SERVER_AGENT_NOT_FOUND: 404,
  SERVER_REQUEST_VALIDATION_FAILED: 400,
};

/** One JSON line on stdout. */
export function logLine(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

/** Remembers the last `capacity` delivery ids (insertion order = age). */
class DeliveryLog {
  constructor(capacity) {
    this.capacity = capacity;
    this.seen = new Set();
  }

  /** true when the id is new (and remembers it), false for a duplicate. */
  add(id) {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value);
    return true;
  }
}

/**
 * The demo's HTTP server (not yet listening).
 * opts: { ringnity (a RingnityServerApi), webhookSecret, toleranceSeconds, log, dedupeCapacity }
 */
export function createDemoServer(opts) {
  const ctx = {
    ringnity: opts.ringnity,
    webhookSecret: opts.webhookSecret,
    toleranceSeconds: opts.toleranceSeconds,
    log: opts.log ?? logLine,
    deliveries: new DeliveryLog(opts.dedupeCapacity ?? DEFAULT_DEDUPE_CAPACITY),
  };
  return http.createServer((req, res) => {
    route(ctx, req, res).catch((err) => {
      ctx.log({ level: 'error', message: 'request failed', path: req.url, error: String(err) });
      if (res.headersSent) return;
      reply(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
    });
  });
}

const ROUTES = {
  '/ringnity/webhook/health': { GET: health },
  '/ringnity/agent-token': { POST: agentToken },
  '/ringnity/webhook': { POST: webhook },
};

async function route(ctx, req, res) {
  const path = new URL(req.url, 'http://demo.invalid').pathname;
  const methods = ROUTES[path];
  if (!methods) return reply(res, 404, { error: { code: 'NOT_FOUND', message: 'No such route' } });
  const handler = methods[req.method];
  if (!handler) {
    res.setHeader('Allow', Object.keys(methods).join(', '));
    return reply(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Not allowed here' } });
  }
  return handler(ctx, req, res);
}

function health(ctx, req, res) {
  reply(res, 200, {
    status: 'ok',
    service: 'sun_demo_webhook',
    webhookSecretConfigured: Boolean(ctx.webhookSecret),
  });
}

async function agentToken(ctx, req, res) {
  const body = await readJson(req, res, MAX_TOKEN_BODY_BYTES);
  if (body === undefined) return undefined;
  const username = body?.username;
  if (typeof username !== 'string' || !USERNAME_RE.test(username)) {
    return reply(res, 400, { error: { code: 'INVALID_USERNAME',
      message: 'Send {"username": "..."} with 1 to 100 letters, digits, . _ @ or -' } });
  }
  try {
    const token = await ctx.ringnity.tokens.agent({ username });
    ctx.log({ level: 'info', message: 'agent token issued', username,
      expiresAt: token.expiresAt });
    return reply(res, 200, token);
  } catch (err) {
    return tokenFailure(ctx, res, username, err);
  }
}

function tokenFailure(ctx, res, username, err) {
  if (!(err instanceof RingnityApiError)) throw err;
  ctx.log({ level: 'warn', message: 'agent token refused', username, status: err.status,
    code: err.code, ringnityRequestId: err.requestId });
  const status = PASSED_THROUGH[err.code];
  if (status) return reply(res, status, { error: { code: err.code, message: err.message } });
  // Key, scope, rate-limit or availability problems are this backend's, not the caller's.
  return reply(res, 502, { error: { code: 'RINGNITY_UNAVAILABLE',
    message: `Ringnity refused or failed the token request (${err.code})` } });
}

async function webhook(ctx, req, res) {
  if (!ctx.webhookSecret) {
    return reply(res, 503, { error: { code: 'NOT_CONFIGURED', message: 'No webhook secret' } });
  }
  const raw = await readBody(req, res, MAX_BODY_BYTES);
  if (raw === undefined) return undefined;
  const check = RingnityServerApi.checkWebhookSignature({
    secret: ctx.webhookSecret,
    headers: req.headers,
    rawBody: raw,
    toleranceSeconds: ctx.toleranceSeconds,
  });
  const deliveryId = req.headers['x-ringnity-delivery'] ?? null;
  if (!check.valid) {
    ctx.log({ level: 'warn', message: 'webhook rejected', reason: check.reason, deliveryId });
    return reply(res, 401, { error: { code: 'SIGNATURE_INVALID', reason: check.reason } });
  }
  if (!deliveryId) {
    const error = { code: 'DELIVERY_ID_MISSING', message: 'No X-Ringnity-Delivery header' };
    return reply(res, 400, { error });
  }
  if (!ctx.deliveries.add(deliveryId)) {
    ctx.log({ level: 'info', message: 'webhook duplicate dropped', deliveryId });
    return reply(res, 200, { received: true, duplicate: true });
  }
  let event;
  try {
    event = JSON.parse(raw.toString('utf8'));
  } catch {
    event = null;
  }
  ctx.log({ level: 'info', message: 'webhook received', verified: true, deliveryId,
    eventType: req.headers['x-ringnity-event'] ?? null, event });
  return reply(res, 200, { received: true, duplicate: false });
}

/** The raw body as a Buffer, or undefined after answering 413. */
function readBody(req, res, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (!over) return resolve(Buffer.concat(chunks));
      reply(res, 413, { error: { code: 'TOO_LARGE', message: `Body over ${limit} bytes` } });
      return resolve(undefined);
    });
  });
}

/** The parsed JSON object, or undefined after answering 4xx. */
async function readJson(req, res, limit) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    reply(res, 415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON' } });
    return undefined;
  }
  const raw = await readBody(req, res, limit);
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  reply(res, 400, { error: { code: 'INVALID_JSON', message: 'The body must be a JSON object' } });
  return undefined;
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function main() {
  let ringnity;
  try {
    ringnity = RingnityServerApi.create();
  } catch (err) {
    logLine({ level: 'error', message: `cannot start: ${err.message}` });
    process.exit(1);
  }
  const webhookSecret = process.env.RINGNITY_WEBHOOK_SECRET ?? '';
  if (webhookSecret === '') {
    logLine({ level: 'error', message: 'cannot start: set RINGNITY_WEBHOOK_SECRET to the secret '
      + 'you give the webhook destination' });
    process.exit(1);
  }
  const host = process.env.HOST || '127.0.0.1';
  const port = Number(process.env.PORT ?? 3000);
  const server = createDemoServer({ ringnity, webhookSecret });
  server.listen(port, host, () => {
    const addr = server.address();
    logLine({ level: 'info', message: 'listening', url: `http://${host}:${addr.port}`,
      port: addr.port, ringnity: ringnity.baseUrl });
  });
  const stop = (signal) => {
    logLine({ level: 'info', message: `received ${signal}, stopping` });
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
