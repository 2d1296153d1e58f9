// RingnityServerApi: the seed's object model over the Server API.
//
//   ringnity.system.health()          GET  /health
//   ringnity.account.get()            GET  /tenant
//   ringnity.account.sdkReadiness()   GET  /tenant/sdk-readiness
//   ringnity.tokens.*                 POST /visitor-context-token, /sdk-token/agent|admin
//   ringnity.contacts.*               /contacts
//   ringnity.reports.*                GET  /reports/summary|timeseries|productivity|export
//   ringnity.webhooks.*               /webhooks, /webhooks/test, /webhooks/deliveries
//
// The key lives only in the transport's private field: it is not an own
// property of anything, so console.log(ringnity) or JSON.stringify cannot show it.
import { Transport } from './transport.js';
import { RingnityApiError } from './errors.js';
import { checkWebhookSignature, verifyWebhookSignature } from './webhook-signature.js';

const KEY_RE = /^rn_sk_live_[0-9A-Za-z]{32,}$/;
const DEFAULT_TIMEOUT_MS = 30000;
const DEFAULT_MAX_RETRIES = 2;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export class RingnityServerApi {
  #transport;

  /** See create(). */
  constructor(config = {}) {
    refuseBrowser();
    const settings = readConfig(config);
    this.#transport = new Transport(settings);
    this.baseUrl = settings.baseUrl;
    const t = this.#transport;
    this.system = Object.freeze({ health: (o) => get(t, '/health', undefined, o) });
    this.account = Object.freeze({
      get: (o) => get(t, '/tenant', undefined, o),
      sdkReadiness: (o) => get(t, '/tenant/sdk-readiness', undefined, o),
    });
    this.tokens = tokens(t);
    this.contacts = contacts(t);
    this.reports = reports(t);
    this.webhooks = webhooks(t);
  }

  /**
   * config: { baseUrl, apiKey, timeoutMs = 30000, maxRetries = 2, fetch }.
   * baseUrl falls back to RINGNITY_API_BASE_URL, apiKey to RINGNITY_SERVER_API_KEY.
   */
  static create(config = {}) {
    return new RingnityServerApi(config);
  }

  static verifyWebhookSignature(input) {
    return verifyWebhookSignature(input);
  }

  static checkWebhookSignature(input) {
    return checkWebhookSignature(input);
  }

  get [Symbol.toStringTag]() {
    return 'RingnityServerApi';
  }
}

function refuseBrowser() {
  if (typeof window !== 'undefined' || typeof document !== 'undefined'
      || typeof importScripts === 'function') {
    throw new Error('@ringnity/server-api runs only on your backend: a server API key must never '
      + 'reach a browser. Have the browser ask your backend for a short-lived SDK token instead.');
  }
}

function env(name) {
  return typeof process !== 'undefined' && process.env ? process.env[name] : undefined;
}

function readConfig(config) {
  if (!config || typeof config !== 'object') {
    throw new TypeError('RingnityServerApi.create({ baseUrl, apiKey }) needs an object');
  }
  return {
    apiKey: readKey(config.apiKey ?? env('RINGNITY_SERVER_API_KEY')),
    baseUrl: readBaseUrl(config.baseUrl ?? env('RINGNITY_API_BASE_URL'), config.allowInsecureHttp),
    timeoutMs: positiveInt(config.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs', 1),
    maxRetries: positiveInt(config.maxRetries, DEFAULT_MAX_RETRIES, 'maxRetries', 0),
    fetchImpl: readFetch(config.fetch),
  };
}

function readKey(raw) {
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    throw new Error('No Ringnity server API key: pass apiKey or set RINGNITY_SERVER_API_KEY');
  }
  const key = String(raw).trim();
  if (key.startsWith('rn_pk_live_')) {
    throw new Error('The Ringnity API key given is a public widget key (rn_pk_live_...); '
      + 'the Server API needs a server key (rn_sk_live_...)');
  }
  if (!KEY_RE.test(key)) {
    throw new Error('The Ringnity server API key does not look like rn_sk_live_ followed by at '
      + 'least 32 letters and digits; copy it again from Dashboard > Developer > Server API');
  }
  return key;
}

function readBaseUrl(raw, allowInsecureHttp) {
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    throw new Error('No Ringnity API base URL: pass baseUrl or set RINGNITY_API_BASE_URL '
      + '(for example https://api.ringnity.com)');
  }
  let url;
  try {
    url = new URL(String(raw).trim());
  } catch {
    throw new Error(`The Ringnity API base URL "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`The Ringnity API base URL must be http(s), not ${url.protocol}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('The Ringnity API base URL must not carry credentials, a query or a fragment');
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !allowInsecureHttp) {
    throw new Error('Refusing to send a server API key over plain http to a host that is not '
      + 'loopback; use https (or pass allowInsecureHttp: true inside a trusted network)');
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/server$/, '');
  return url.origin + path;
}

function positiveInt(value, fallback, name, min) {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`${name} must be an integer >= ${min}`);
  }
  return value;
}

function readFetch(custom) {
  if (custom !== undefined && typeof custom !== 'function') {
    throw new TypeError('fetch must be a function compatible with the global fetch');
  }
  const impl = custom ?? globalThis.fetch;
  if (typeof impl !== 'function') {
    throw new Error('No global fetch: @ringnity/server-api needs Node.js 18 or newer');
  }
  return custom ? impl : (...args) => globalThis.fetch(...args);
}

function get(t, path, query, options) {
  return t.request({ method: 'GET', path, query, options });
}

function send(t, method, path, body, options) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TypeError(`${method} ${path}: the request body must be an object`);
  }
  return t.request({ method, path, body, options });
}

function id(value, what) {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${what} must be a non-empty string`);
  }
  return encodeURIComponent(value);
}

/**
 * DELETE that resolves { id, deleted }: deleted is false when the server says
 * the resource does not exist (notFoundCode), so deleting is idempotent and a
 * retried DELETE whose first attempt did succeed does not turn into an error.
 * Every other error, a missing route included, still rejects.
 */
async function remove(t, path, rawId, notFoundCode, options) {
  try {
    await t.request({ method: 'DELETE', path, options });
    return { id: rawId, deleted: true };
  } catch (err) {
    if (err instanceof RingnityApiError && err.status === 404 && err.code === notFoundCode) {
      return { id: rawId, deleted: false };
    }
    throw err;
  }
}

function tokens(t) {
  return Object.freeze({
    visitorContext: (body, o) => wrap(() => send(t, 'POST', '/visitor-context-token', body, o)),
    agent: (body, o) => wrap(() => send(t, 'POST', '/sdk-token/agent', body, o)),
    admin: (body, o) => wrap(() => send(t, 'POST', '/sdk-token/admin', body, o)),
  });
}

function contacts(t) {
  return Object.freeze({
    list: (params = {}, o) => wrap(() => get(t, '/contacts', pick(params,
      ['search', 'limit', 'cursor']), o)),
    get: (cid, o) => wrap(() => get(t, `/contacts/${id(cid, 'contact id')}`, undefined, o)),
    create: (body, o) => wrap(() => send(t, 'POST', '/contacts', body, o)),
    update: (cid, patch, o) => wrap(() =>
      send(t, 'PATCH', `/contacts/${id(cid, 'contact id')}`, patch, o)),
    delete: (cid, o) => wrap(() =>
      remove(t, `/contacts/${id(cid, 'contact id')}`, cid, 'SERVER_CONTACT_NOT_FOUND', o)),
  });
}

const PERIOD_PARAMS = ['period', 'from', 'to'];

function reports(t) {
  const read = (path, params, o) => get(t, path, pick(params, PERIOD_PARAMS), o);
  return Object.freeze({
    summary: (params = {}, o) => wrap(() => read('/reports/summary', params, o)),
    timeseries: (params = {}, o) => wrap(() => read('/reports/timeseries', params, o)),
    productivity: (params = {}, o) => wrap(() => read('/reports/productivity', params, o)),
    export: (params = {}, o) => wrap(() => t.request({
      method: 'GET',
      path: '/reports/export',
      query: pick(params, [...PERIOD_PARAMS, 'format', 'dataset']),
      accept: params.format === 'csv' ? 'text/csv' : 'application/json',
      options: o,
    })),
  });
}

function webhooks(t) {
  const wid = (v) => id(v, 'webhook id');
  return Object.freeze({
    list: (params = {}, o) => wrap(() => get(t, '/webhooks', pick(params, ['limit', 'cursor']), o)),
    get: (w, o) => wrap(() => get(t, `/webhooks/${wid(w)}`, undefined, o)),
    create: (body, o) => wrap(() => send(t, 'POST', '/webhooks', body, o)),
    update: (w, patch, o) => wrap(() => send(t, 'PATCH', `/webhooks/${wid(w)}`, patch, o)),
    delete: (w, o) => wrap(() =>
      remove(t, `/webhooks/${wid(w)}`, w, 'SERVER_WEBHOOK_NOT_FOUND', o)),
    test: (body, o) => wrap(() => send(t, 'POST', '/webhooks/test', body, o)),
    deliveries: (params = {}, o) => wrap(() => get(t, '/webhooks/deliveries', pick(params,
      ['limit', 'cursor', 'webhookId', 'eventId', 'status']), o)),
    redeliver: (dlv, o) => wrap(() => t.request({
      method: 'POST',
      path: `/webhooks/deliveries/${id(dlv, 'delivery id')}/redeliver`,
      options: o,
    })),
    eventTypes: (o) => wrap(() => get(t, '/webhooks/event-types', undefined, o)),
  });
}

/** Argument mistakes reject the returned promise instead of throwing synchronously. */
async function wrap(fn) {
  return fn();
}

function pick(params, names) {
  if (params === null || typeof params !== 'object') {
    throw new TypeError('the parameters must be an object');
  }
  const out = {};
  for (const name of names) if (params[name] !== undefined) out[name] = params[name];
  return out;
}
