// Verifying a webhook delivery (SPEC §8):
//   X-Ringnity-Timestamp: unix seconds of the attempt
//   X-Ringnity-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
// During a secret rotation the signature header carries several values,
// space separated; a delivery is genuine when any of them matches. The
// comparison is constant-time (timingSafeEqual on equal-length buffers).
//
// checkWebhookSignature() says why a delivery was refused;
// verifyWebhookSignature() is the boolean form. Neither throws on anything a
// sender controls; both throw TypeError on a programming mistake (no secret,
// a parsed object instead of the raw body), which should fail loudly.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_SECONDS = 300;
const TIMESTAMP_RE = /^\d{1,12}$/;
const SIGNATURE_RE = /^sha256=([0-9a-fA-F]{64})$/;

export function verifyWebhookSignature(input) {
  return checkWebhookSignature(input).valid;
}

/** Resolves { valid, reason }; reason is 'ok' or what was wrong. */
export function checkWebhookSignature(input) {
  const { secrets, rawBody, tolerance } = checkArguments(input);
  const timestamp = headerValue(input.headers, 'x-ringnity-timestamp');
  if (timestamp === null || timestamp === '') return refuse('missing_timestamp');
  if (!TIMESTAMP_RE.test(timestamp)) return refuse('invalid_timestamp');
  const skew = Math.floor(Date.now() / 1000) - Number(timestamp);
  if (skew > tolerance) return refuse('timestamp_too_old');
  if (-skew > tolerance) return refuse('timestamp_in_future');
  const header = headerValue(input.headers, 'x-ringnity-signature');
  if (header === null || header.trim() === '') return refuse('missing_signature');
  const candidates = parseSignatures(header);
  if (candidates.length === 0) return refuse('malformed_signature');
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(signed).digest();
    if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) {
      return { valid: true, reason: 'ok' };
    }
  }
  return refuse('signature_mismatch');
}

function refuse(reason) {
  return { valid: false, reason };
}

function checkArguments(input) {
  if (!input || typeof input !== 'object') {
    throw new TypeError('verifyWebhookSignature({ secret, headers, rawBody }) needs an object');
  }
  const list = Array.isArray(input.secret) ? input.secret : [input.secret];
  const secrets = list.filter((s) => (typeof s === 'string' && s !== '') || isBytes(s));
  if (secrets.length === 0 || secrets.length !== list.length) {
    throw new TypeError('verifyWebhookSignature: secret must be a non-empty string or Buffer '
      + '(or an array of them)');
  }
  if (!input.headers || typeof input.headers !== 'object') {
    throw new TypeError('verifyWebhookSignature: headers must be the request headers');
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new TypeError('verifyWebhookSignature: toleranceSeconds must be a finite number >= 0');
  }
  return { secrets, rawBody: rawBytes(input.rawBody), tolerance };
}

function rawBytes(body) {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (isBytes(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('verifyWebhookSignature: rawBody must be the raw request body as a string '
    + 'or Buffer, exactly as received (not parsed JSON)');
}

function isBytes(v) {
  return v instanceof Uint8Array;
}

/** A header from a Node headers object, a Fetch Headers, or a plain object. */
function headerValue(headers, name) {
  if (typeof headers.get === 'function') return headers.get(name);
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value.join(', ');
    return value === undefined || value === null ? null : String(value);
  }
  return null;
}

/** The 32-byte digests named in the header; unknown schemes are skipped. */
function parseSignatures(header) {
  const out = [];
  for (const part of header.split(/[\s,]+/)) {
    const m = SIGNATURE_RE.exec(part);
    if (m) out.push(Buffer.from(m[1], 'hex'));
  }
  return out;
}
