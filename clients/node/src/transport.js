// One HTTP exchange with the Server API, with the helper's retry policy.
//
// Retry policy (documented in the README):
// - 429 is retried for every method: the server refuses a rate-limited
//   request before doing anything with it.
// - A network error, a timeout or a 5xx (except 501) is retried for GET and
//   DELETE (idempotent by HTTP semantics) and for POST, which always carries
//   an Idempotency-Key that stays the same across the retries of one call, so
//   the server answers a repeat with the first response. PATCH is not
//   retried: the server keeps no idempotency record for it.
// - Delays grow exponentially with jitter; a Retry-After header is honoured
//   (plus a little jitter), and one longer than 30 s is not waited for: the
//   error is thrown at once with `retryAfter` set.
// Each attempt has its own timeout (AbortController), covering the body too.
import { randomUUID } from 'node:crypto';
import { RingnityApiError, errorFromResponse, redact } from './errors.js';

export const VERSION = '0.1.0';
export const API_PREFIX = '/api/server';
const BASE_DELAY_MS = 300;
const MAX_BACKOFF_MS = 5000;
const MAX_RETRY_AFTER_SECONDS = 30;
const RETRY_AFTER_JITTER_MS = 250;
const RETRY_ANY_ERROR = new Set(['GET', 'HEAD', 'DELETE', 'POST']);

export class Transport {
  #apiKey;
  #fetch;

  constructor({ baseUrl, apiKey, timeoutMs, maxRetries, fetchImpl }) {
    this.baseUrl = baseUrl;
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
    this.#apiKey = apiKey;
    this.#fetch = fetchImpl;
  }

  /**
   * spec: { method, path (under /api/server), query, body, accept, options }
   * options: { idempotencyKey, signal, timeoutMs, requestId }
   * Resolves the parsed JSON, the text of a text/* answer, or undefined (204).
   */
  async request(spec) {
    const options = spec.options ?? {};
    const method = spec.method;
    const idempotencyKey = method === 'POST' ? (options.idempotencyKey ?? randomUUID()) : null;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(spec, options, idempotencyKey, attempt);
      if (outcome.ok) return outcome.value;
      const delay = this.#retryDelay(method, outcome.error, attempt);
      if (delay === null) throw outcome.error;
      const where = { method, path: API_PREFIX + spec.path, attempts: attempt };
      await sleep(delay, options.signal, () => abortError(where));
    }
  }

  #url(path, query) {
    const url = new URL(this.baseUrl + API_PREFIX + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      url.searchParams.set(name, String(value));
    }
    return url;
  }

  #headers(spec, options, idempotencyKey) {
    const headers = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: spec.accept ?? 'application/json',
      'User-Agent': `ringnity-server-api-node/${VERSION} node/${process.version}`,
    };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    if (options.requestId) headers['X-Request-Id'] = options.requestId;
    return headers;
  }

  async #attempt(spec, options, idempotencyKey, attempt) {
    const ctx = { method: spec.method, path: API_PREFIX + spec.path, attempts: attempt };
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const unlink = linkSignal(options.signal, controller);
    try {
      const res = await this.#fetch(this.#url(spec.path, spec.query), {
        method: spec.method,
        headers: this.#headers(spec, options, idempotencyKey),
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: controller.signal,
        redirect: 'manual',
      });
      const text = await res.text();
      return this.#outcome(res, text, ctx);
    } catch (err) {
      return { ok: false, error: this.#transportError(err, ctx, options, timeoutMs) };
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  #outcome(res, text, ctx) {
    if (res.status < 200 || res.status > 299) {
      return { ok: false, error: errorFromResponse(res, text, { ...ctx, apiKey: this.#apiKey }) };
    }
    if (res.status === 204 || text === '') return { ok: true, value: undefined };
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        return { ok: false, error: this.#unexpected(res, ctx, 'a JSON body that does not parse') };
      }
    }
    if (type.startsWith('text/')) return { ok: true, value: text };
    return { ok: false, error: this.#unexpected(res, ctx, `content type "${type}"`) };
  }

  #unexpected(res, ctx, what) {
    return new RingnityApiError({
      ...ctx,
      status: res.status,
      code: 'CLIENT_UNEXPECTED_RESPONSE',
      message: `Ringnity answered HTTP ${res.status} with ${what}`,
      requestId: res.headers.get('x-request-id'),
    });
  }

  #transportError(err, ctx, options, timeoutMs) {
    if (err instanceof RingnityApiError) return err;
    if (options.signal?.aborted) return abortError(ctx, err);
    if (err?.name === 'AbortError' || err?.name === 'TimeoutError') {
      return new RingnityApiError({
        ...ctx,
        code: 'CLIENT_TIMEOUT',
        message: `No complete answer from Ringnity within ${timeoutMs} ms`,
        cause: err,
      });
    }
    const reason = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(err);
    return new RingnityApiError({
      ...ctx,
      code: 'CLIENT_NETWORK_ERROR',
      message: redact(`Could not reach Ringnity at ${new URL(this.baseUrl).origin}: ${reason}`,
        this.#apiKey),
      cause: err,
    });
  }

  /** Milliseconds to wait before the next attempt, or null to give up. */
  #retryDelay(method, error, attempt) {
    if (attempt > this.maxRetries) return null;
    if (error.code === 'CLIENT_ABORTED') return null;
    if (!isRetryable(method, error)) return null;
    if (error.retryAfter !== null) {
      if (error.retryAfter > MAX_RETRY_AFTER_SECONDS) return null;
      return error.retryAfter * 1000 + Math.random() * RETRY_AFTER_JITTER_MS;
    }
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

function abortError(where, cause) {
  return new RingnityApiError({
    ...where,
    code: 'CLIENT_ABORTED',
    message: 'The request was aborted by the caller',
    cause,
  });
}

function isRetryable(method, error) {
  if (error.status === 429) return true;
  const transient = error.status === 0 || (error.status >= 500 && error.status !== 501);
  if (!transient || error.code === 'CLIENT_ABORTED') return false;
  return RETRY_ANY_ERROR.has(method);
}

/** Aborts `controller` when `signal` aborts; returns the function that unlinks. */
function linkSignal(signal, controller) {
  if (!signal) return () => {};
  if (signal.aborted) {
    controller.abort();
    return () => {};
  }
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function sleep(ms, signal, makeError) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(makeError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(makeError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
