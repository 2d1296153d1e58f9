// Failed authentications are throttled per client address (SPEC §3).
// Decision (docs/api-decisions.md): 20 failed attempts per address within
// 60 s are answered 401; from the 21st on the address gets 429
// SERVER_API_RATE_LIMITED with Retry-After until the window has passed.
// This file has its own server so the other suites' failures do not count.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Api, assertError, rateHeaders } from './lib/api.mjs';
import { Deployment } from './lib/server.mjs';

const ALLOWED_FAILURES = 20;
const WINDOW_S = 60;

function unknownKey() {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = 'rn_sk_live_';
  for (let i = 0; i < 40; i++) s += alphabet[Math.floor(Math.random() * 62)];
  return s;
}

describe('Failed-authentication throttling per client address', () => {
  let dep;
  let api;

  before(async () => {
    dep = await Deployment.create('auththrottle');
    api = new Api(await dep.startNode());
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it(`${ALLOWED_FAILURES} failures answer 401, the next ones 429 with Retry-After`, async () => {
    for (let i = 1; i <= ALLOWED_FAILURES; i++) {
      const res = await api.get('/api/server/health', { key: unknownKey() });
      assert.equal(res.status, 401, `attempt ${i} of ${ALLOWED_FAILURES} must still be a 401: ${res.text}`);
      assertError(res, 401, 'SERVER_API_KEY_INVALID');
    }
    for (let i = 0; i < 3; i++) {
      const res = await api.get('/api/server/tenant', { headerKey: unknownKey() });
      assertError(res, 429, 'SERVER_API_RATE_LIMITED');
      const { retryAfter, limit } = rateHeaders(res);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_S,
        `Retry-After ${res.headers['retry-after']} must be 1..${WINDOW_S} s`);
      assert.equal(limit, undefined, 'no key was recognised, so no RateLimit-* headers');
    }
    // The unauthenticated endpoints are not throttled.
    const live = await api.get('/healthz', { expect: 200 });
    assert.deepEqual(live.json, { status: 'ok' });
  });
});
