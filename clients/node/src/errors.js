// RingnityApiError: the one error type a request made by the helper rejects
// with, whether the server answered with an error envelope, answered
// something unexpected, or never answered (timeout, network, abort).
//
// Every text that ends up in an error goes through redact(), so a server key
// can never leak into a log line through an error message, even if a proxy or
// a misconfigured server echoes it back.

const KEY_PATTERN = /rn_sk_live_[0-9A-Za-z]+/g;
const REDACTED = 'rn_sk_live_[REDACTED]';

/** Replaces anything that looks like a server key (and the given key) in text. */
export function redact(text, apiKey) {
  let out = String(text ?? '');
  if (apiKey) out = out.split(apiKey).join(REDACTED);
  return out.replace(KEY_PATTERN, REDACTED);
}

export class RingnityApiError extends Error {
  /**
   * fields: status (HTTP status, 0 when no response arrived), code, message,
   * requestId, details, method, path, attempts, retryAfter (seconds or null),
   * cause.
   */
  constructor(fields) {
    super(fields.message, fields.cause ? { cause: fields.cause } : undefined);
    this.name = 'RingnityApiError';
    this.status = fields.status ?? 0;
    this.code = fields.code;
    this.requestId = fields.requestId ?? null;
    this.details = fields.details ?? [];
    this.method = fields.method ?? null;
    this.path = fields.path ?? null;
    this.attempts = fields.attempts ?? 1;
    this.retryAfter = fields.retryAfter ?? null;
  }

  toJSON() {
    return {
      name: this.name,
      status: this.status,
      code: this.code,
      message: this.message,
      requestId: this.requestId,
      details: this.details,
      method: this.method,
      path: this.path,
      attempts: this.attempts,
      retryAfter: this.retryAfter,
    };
  }
}

/** Builds the error for a non-2xx answer from its body text and headers. */
export function errorFromResponse(res, text, ctx) {
  const requestId = res.headers.get('x-request-id');
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  const envelope = parseEnvelope(text);
  const base = {
    status: res.status,
    method: ctx.method,
    path: ctx.path,
    attempts: ctx.attempts,
    retryAfter,
  };
  if (!envelope) {
    const type = (res.headers.get('content-type') ?? 'no content type').split(';')[0];
    return new RingnityApiError({
      ...base,
      code: 'CLIENT_UNEXPECTED_RESPONSE',
      message: `Ringnity answered HTTP ${res.status} (${type}) without an error envelope`,
      requestId,
    });
  }
  return new RingnityApiError({
    ...base,
    code: redact(envelope.code, ctx.apiKey),
    message: redact(envelope.message ?? `HTTP ${res.status}`, ctx.apiKey),
    requestId: envelope.requestId ?? requestId,
    details: redactDetails(envelope.details, ctx.apiKey),
  });
}

function parseEnvelope(text) {
  try {
    const body = JSON.parse(text);
    const err = body && typeof body === 'object' ? body.error : null;
    if (err && typeof err === 'object' && typeof err.code === 'string') return err;
  } catch {
    // not JSON: handled by the caller as an unexpected response
  }
  return null;
}

function redactDetails(details, apiKey) {
  if (!Array.isArray(details)) return [];
  return details.map((d) => {
    if (!d || typeof d !== 'object') return d;
    const copy = {};
    for (const [k, v] of Object.entries(d)) copy[k] = typeof v === 'string' ? redact(v, apiKey) : v;
    return copy;
  });
}

/** Retry-After in seconds (delta-seconds or HTTP-date), or null. */
export function parseRetryAfter(value) {
  if (value === null || value === undefined || value === '') return null;
  const trimmed = String(value).trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}
