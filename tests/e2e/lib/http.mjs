// Minimal HTTP client for the end-to-end tests.
//
// Built on node:http rather than fetch so that a test controls the request
// exactly: odd or duplicated headers, chunked bodies, raw bytes that are not
// valid UTF-8, and a server that answers (413) before it has read the body.
// Every request uses its own connection, so no keep-alive state leaks between
// tests.
import http from 'node:http';

const DEFAULT_TIMEOUT_MS = 15000;

/**
 * Sends one request and resolves with the whole response.
 *
 * opts: { method, path, headers (object; a value may be an array to repeat a
 * header), body (string | Buffer | undefined), chunked (bool: send the body
 * with Transfer-Encoding: chunked in pieces), timeoutMs }
 *
 * Resolves { status, headers (lower-cased names; repeated ones joined by
 * ", "), rawHeaders, text, json (parsed or undefined), contentType }.
 */
export function request(baseUrl, opts) {
  const url = new URL(opts.path, baseUrl);
  const body = toBuffer(opts.body);
  const headers = { ...(opts.headers ?? {}) };
  if (body !== undefined && !opts.chunked && !hasHeader(headers, 'content-length')) {
    headers['Content-Length'] = String(body.length);
  }
  if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      fn(value);
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path: url.pathname + url.search,
        headers,
        agent: false,
        setHost: true,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => finish(reject, err));
        res.on('end', () => finish(resolve, shapeResponse(res, Buffer.concat(chunks))));
      },
    );
    req.setTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => {
      req.destroy(new Error(`timeout after ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
    });
    // A server may answer and close before it has read the whole body (413);
    // the write then fails with EPIPE/ECONNRESET while the answer is already
    // in. Only a failure before any response is an error.
    req.on('error', (err) => {
      if (req.res) return;
      finish(reject, new Error(`${opts.method ?? 'GET'} ${opts.path}: ${err.message}`));
    });
    writeBody(req, body, opts.chunked);
  });
}

function writeBody(req, body, chunked) {
  if (body === undefined) {
    req.end();
    return;
  }
  if (!chunked) {
    req.end(body);
    return;
  }
  const piece = 64 * 1024;
  for (let off = 0; off < body.length; off += piece) {
    req.write(body.subarray(off, off + piece));
  }
  req.end();
}

function toBuffer(body) {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(String(body), 'utf8');
}

function hasHeader(headers, name) {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}

function shapeResponse(res, buf) {
  const headers = {};
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i].toLowerCase();
    const value = res.rawHeaders[i + 1];
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const text = buf.toString('utf8');
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let json;
  if (contentType === 'application/json' || contentType.endsWith('+json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.statusCode, headers, rawHeaders: res.rawHeaders, text, json, contentType };
}
