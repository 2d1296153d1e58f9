// The one way tests talk to a server: every response is checked against
// api/openapi.yaml before the test sees it.
import assert from 'node:assert/strict';
import { request } from './http.mjs';
import { OpenApi } from './openapi.mjs';

let shared;
/** The parsed document and its validators, built once per test process. */
export function openapi() {
  shared ??= new OpenApi();
  return shared;
}

export class Api {
  /** baseUrl: a ServerNode's baseUrl (or the node itself). */
  constructor(target) {
    this.baseUrl = typeof target === 'string' ? target : target.baseUrl;
  }

  /**
   * Sends a request and validates the response against the document.
   * opts: key (sent as Authorization: Bearer), headerKey (sent as
   * X-Ringnity-Server-Key), headers, json (an object to send as JSON), body
   * (raw string/Buffer), chunked, expect (a status the test requires).
   */
  async call(method, path, opts = {}) {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.key !== undefined) headers.Authorization = `Bearer ${opts.key}`;
    if (opts.headerKey !== undefined) headers['X-Ringnity-Server-Key'] = opts.headerKey;
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = 'application/json';
      }
    }
    const res = await request(this.baseUrl, {
      method,
      path,
      headers,
      body,
      chunked: opts.chunked,
    });
    openapi().check(method, path, res);
    if (opts.expect !== undefined) {
      assert.equal(res.status, opts.expect,
        `${method} ${path}: expected ${opts.expect}, got ${res.status}: ${res.text.slice(0, 400)}`);
    }
    return res;
  }

  get(path, opts) {
    return this.call('GET', path, opts);
  }
}

/** Asserts the contract's error shape with an exact status and code. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.json?.error?.code, code, `expected ${code}, got ${res.text}`);
  assert.ok(res.json.error.message.length > 0, 'error message must not be empty');
  assert.equal(res.json.error.requestId, res.headers['x-request-id'],
    'error.requestId must equal the X-Request-Id header');
}

/** The RateLimit-* headers as numbers. */
export function rateHeaders(res) {
  const num = (h) => (res.headers[h] === undefined ? undefined : Number(res.headers[h]));
  return {
    limit: num('ratelimit-limit'),
    remaining: num('ratelimit-remaining'),
    reset: num('ratelimit-reset'),
    retryAfter: num('retry-after'),
  };
}
