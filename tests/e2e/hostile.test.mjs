// Hostile-input regression tests (issue 2 checked from the outside).
//
// What an attacker or a careless client can send: odd auth headers, raw bytes
// the HTTP library would never produce (NUL, bare request lines, two
// Content-Lengths), oversized heads, pipelining, slow clients, requests that
// straddle SIGTERM, and CLI arguments that must be refused. The process must
// never crash or hang, every answer must carry X-Request-Id and the one
// error shape, and no secret may reach a log.
//
// Requests node:http cannot express go over a raw socket (RawConn below); the
// answers are parsed into the harness's response shape and checked against
// api/openapi.yaml: openapi().check() for a documented path and method, the
// document's components/schemas/Error for answers the document cannot
// describe per operation (431, 414, 505, ...).
//
// Tests marked { todo: 'defect: ...' } document a defect found while
// breaking the server: they run, fail today, and do not fail CI. Remove the
// todo once the server is fixed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { Api, assertError, openapi } from './lib/api.mjs';
import { request } from './lib/http.mjs';
import { BIN, Deployment, sleep, uniq } from './lib/server.mjs';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;
const RAW_TIMEOUT_MS = 5000;

// ---- raw HTTP over a socket ------------------------------------------------

/** One TCP connection to a node, written and read byte for byte. */
class RawConn {
  static open(baseUrl, { localAddress } = {}) {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
      sock.once('connect', () => resolve(new RawConn(sock)));
      sock.once('error', reject);
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.waiters = [];
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data) {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve(false);
      this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data,
        (err) => resolve(!err));
    });
  }

  /** The next complete response (interim 1xx included); null if the peer closed first. */
  async next(timeoutMs = RAW_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseOne(this.buf, this.ended);
      if (parsed) {
        this.buf = this.buf.subarray(parsed.used);
        return parsed.res;
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeoutMs} ms`);
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Every response until the peer closes (or the time is up). */
  async all(timeoutMs = RAW_TIMEOUT_MS) {
    const out = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.next(Math.max(1, deadline - Date.now()));
      if (!res) return out;
      out.push(res);
    }
  }

  /** Resolves true when the peer closes within timeoutMs. */
  async closedWithin(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) {
      await new Promise((r) => {
        const t = setTimeout(r, Math.min(100, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.ended;
  }

  close() {
    this.sock.destroy();
  }
}

/** Parses one response from the head of buf into the harness's shape. */
function parseOne(buf, ended) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(head[0])}`);
  const status = Number(m[1]);
  const headers = {};
  const rawHeaders = [];
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
  }
  let start = headEnd + 4;
  let body;
  let used;
  if (status < 200 || status === 204 || status === 304) {
    body = Buffer.alloc(0);
    used = start;
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let at = start;
    for (;;) {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) return null;
      const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
      if (buf.length < eol + 2 + size + 2) return null;
      if (size === 0) {
        used = eol + 4;
        break;
      }
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < start + n) return null;
    body = buf.subarray(start, start + n);
    used = start + n;
  } else {
    if (!ended) return null;
    body = buf.subarray(start);
    used = buf.length;
  }
  const text = body.toString('utf8');
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let json;
  if (contentType === 'application/json') {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const res = { status, statusLine: head[0], headers, rawHeaders, text, json, contentType };
  return { used, res };
}

/** Sends raw bytes on a fresh connection; every response until close. */
async function rawExchange(baseUrl, data, timeoutMs = RAW_TIMEOUT_MS) {
  const conn = await RawConn.open(baseUrl);
  try {
    await conn.write(data);
    return await conn.all(timeoutMs);
  } finally {
    conn.close();
  }
}

/** A GET request head; extra header lines are given without CRLF. */
function rawGet(path, lines = [], version = 'HTTP/1.1') {
  return `GET ${path} ${version}\r\nHost: 127.0.0.1\r\n${lines.map((l) => `${l}\r\n`).join('')}` +
    'Connection: close\r\n\r\n';
}

/** A raw answer the document can describe per operation: the harness check. */
function checked(method, path, res) {
  assert.ok(res, `${method} ${path}: no response`);
  openapi().check(method, path, res);
  return res;
}

/** Any error answer: X-Request-Id and the one error shape of the document. */
function assertErrorShape(where, res) {
  assert.ok(res, `${where}: no response`);
  const id = res.headers['x-request-id'];
  assert.ok(id && REQUEST_ID_RE.test(id), `${where}: no X-Request-Id (${res.statusLine})`);
  assert.equal(res.contentType, 'application/json', `${where}: ${res.statusLine} answered ` +
    `${res.contentType || '(no type)'}: ${res.text.slice(0, 120)}`);
  openapi().validateBody(where, '#/components/schemas/Error', res);
  assert.equal(res.json.error.requestId, id, `${where}: error.requestId differs from X-Request-Id`);
}

/** Raises the per-address failed-auth throttle for a deployment's nodes. */
function relaxThrottle(dep, perMinute = 100000) {
  const env = dep.env.bind(dep);
  dep.env = (extra = {}) => env({ RINGNITY_AUTH_FAILURES_PER_MINUTE: String(perMinute), ...extra });
}

function useNode(label, { throttle } = {}) {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create(label);
    if (throttle !== false) relaxThrottle(ctx.dep);
    ctx.node = await ctx.dep.startNode();
    ctx.api = new Api(ctx.node);
    ({ tenant: ctx.tenant, key: ctx.key, secret: ctx.secret } = await ctx.dep.tenantWithKey());
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });
  return ctx;
}

async function alive(node) {
  const res = await request(node.baseUrl, { path: '/healthz', timeoutMs: 3000 });
  checked('GET', '/healthz', res);
  assert.equal(res.status, 200);
}

// ---- authentication headers ------------------------------------------------

describe('Hostile auth headers', () => {
  const ctx = useNode('hostile-auth');
  const presented = [];

  async function health(lines) {
    const [res] = await rawExchange(ctx.node.baseUrl, rawGet('/api/server/health', lines));
    return checked('GET', '/api/server/health', res);
  }

  it('blanks around the Bearer token are tolerated; anything more is KEY_INVALID', async () => {
    const s = ctx.secret;
    for (const line of [`Authorization: Bearer    ${s}   `, `Authorization: Bearer\t${s}`,
      `authorization: BEARER ${s}`, `x-ringnity-server-key:   ${s}`]) {
      assert.equal((await health([line])).status, 200, line.replace(s, 'KEY'));
    }
    const bad = {
      'two tokens': `Authorization: Bearer ${s} ${s}`,
      'scheme in the key header': `X-Ringnity-Server-Key: Bearer ${s}`,
      'one extra character': `Authorization: Bearer ${s}x`,
      'one character short': `Authorization: Bearer ${s.slice(0, -1)}`,
      'upper-cased key': `Authorization: Bearer ${s.toUpperCase()}`,
      '8 KB key': `Authorization: Bearer rn_sk_live_${'A'.repeat(8000)}`,
      'non-ASCII key': `Authorization: Bearer rn_sk_live_${'\xc3\xa9'.repeat(20)}`,
      'comma list': `Authorization: Bearer ${s}, Bearer ${s}`,
    };
    for (const [what, line] of Object.entries(bad)) {
      presented.push(line);
      const res = await health([line]);
      assertError(res, 401, 'SERVER_API_KEY_INVALID');
      assert.equal(res.headers['ratelimit-limit'], undefined,
        `${what}: no RateLimit-* without a key`);
    }
  });

  it('a twice-rotated key: both old secrets fail, the newest works; revoked fails', async () => {
    const { tenant, key } = await ctx.dep.tenantWithKey();
    const r1 = await ctx.dep.rotateKey(tenant.slug, key.id);
    const r2 = await ctx.dep.rotateKey(tenant.slug, key.id);
    for (const old of [key.secret, r1.secret]) {
      assertError(await ctx.api.get('/api/server/health', { key: old }), 401,
        'SERVER_API_KEY_INVALID');
    }
    await ctx.api.get('/api/server/health', { key: r2.secret, expect: 200 });
    await ctx.dep.revokeKey(tenant.slug, key.id);
    assertError(await ctx.api.get('/api/server/tenant', { headerKey: r2.secret }), 401,
      'SERVER_API_KEY_INVALID');
  });

  it('tenant B\'s key cannot read, change or delete A\'s contact: as unknown', async () => {
    const b = await ctx.dep.tenantWithKey();
    const made = await ctx.api.call('POST', '/api/server/contacts',
      { key: ctx.secret, json: { name: 'Alice of A', email: 'alice@a.example' } });
    if (made.status === 404) return; // contacts not routed in this build
    assert.equal(made.status, 201, made.text);
    const id = made.json.id;
    const unknown = 'ct_01m8ya000000000000000000000';
    const calls = [['GET', {}], ['PATCH', { json: { name: 'pwned' } }], ['DELETE', {}]];
    for (const [method, opts] of calls) {
      const as = { key: b.secret, ...opts };
      const foreign = await ctx.api.call(method, `/api/server/contacts/${id}`, as);
      const none = await ctx.api.call(method, `/api/server/contacts/${unknown}`, as);
      assertError(foreign, 404, none.json.error.code);
      assert.equal(foreign.json.error.message, none.json.error.message);
    }
    const list = await ctx.api.get('/api/server/contacts?search=alice',
      { key: b.secret, expect: 200 });
    assert.deepEqual(list.json.data, []);
    const still = await ctx.api.get(`/api/server/contacts/${id}`, { key: ctx.secret, expect: 200 });
    assert.equal(still.json.name, 'Alice of A');
  });

  it('a NUL byte in an auth header is refused, never cut short to a valid key', {
    todo: 'defect: libmicrohttpd hands header values over as C strings and the server '
      + 'never compares the length, so "KEY\\0junk" authenticates as KEY (200)',
  }, async () => {
    for (const line of [`X-Ringnity-Server-Key: ${ctx.secret}\x00junk`,
      `Authorization: Bearer ${ctx.secret}\x00`]) {
      const res = await health([line]);
      assert.ok([400, 401].includes(res.status), `got ${res.status} for a key followed by NUL`);
      assertErrorShape('NUL in auth header', res);
    }
  });

  it('refused credentials are logged with address, code and reason, not the key', async () => {
    await sleep(300); // info lines are flushed every 100 ms
    const refused = ctx.node.logLines().filter((l) => l.message === 'authentication refused');
    assert.ok(refused.length >= 8, `only ${refused.length} refusal lines`);
    for (const l of refused) {
      assert.equal(l.clientIp, '127.0.0.1');
      assert.match(l.code, /^SERVER_API_KEY_(MISSING|INVALID)$/);
      assert.ok(typeof l.reason === 'string' && l.reason.length > 0);
      assert.match(l.requestId, REQUEST_ID_RE);
    }
    for (const secret of ctx.dep.secrets) {
      assert.ok(!ctx.node.stderr.includes(secret), 'secret in log');
    }
    for (const line of presented) {
      const value = line.slice(line.indexOf(':') + 1).trim().replace(/^Bearer\s+/i, '');
      assert.ok(!ctx.node.stderr.includes(value.slice(0, 40)),
        `presented credential logged: ${line.slice(0, 30)}`);
    }
  });
});

describe('Failed-auth throttle is per client address', () => {
  const ctx = useNode('hostile-throttle', { throttle: false });

  it('21 failures throttle 127.0.0.1, not 127.0.0.2; X-Forwarded-For is ignored', async (t) => {
    let other;
    try {
      other = await RawConn.open(ctx.node.baseUrl, { localAddress: '127.0.0.2' });
    } catch (err) {
      t.skip(`127.0.0.2 is not usable here (${err.code})`);
      return;
    }
    other.close();
    const bogus = (i) =>
      `Authorization: Bearer rn_sk_live_${'Z'.repeat(30)}${String(i).padStart(10, '0')}`;
    for (let i = 0; i < 20; i++) {
      const [res] = await rawExchange(ctx.node.baseUrl, rawGet('/api/server/health', [bogus(i)]));
      assertError(checked('GET', '/api/server/health', res), 401, 'SERVER_API_KEY_INVALID');
    }
    const spoof = ['X-Forwarded-For: 203.0.113.7', 'X-Real-IP: 203.0.113.7'];
    const [limited] = await rawExchange(ctx.node.baseUrl,
      rawGet('/api/server/health', [bogus(99), ...spoof]));
    assertError(checked('GET', '/api/server/health', limited), 429, 'SERVER_API_RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const conn = await RawConn.open(ctx.node.baseUrl, { localAddress: '127.0.0.2' });
    await conn.write(rawGet('/api/server/health', [bogus(100)]));
    const [fromOther] = await conn.all();
    conn.close();
    assertError(checked('GET', '/api/server/health', fromOther), 401, 'SERVER_API_KEY_INVALID');
    await sleep(300);
    const lines = ctx.node.logLines().filter((l) => l.message === 'authentication refused');
    assert.ok(lines.some((l) => l.clientIp === '127.0.0.2'), 'the refusal names the other address');
  });
});

// ---- HTTP framing ----------------------------------------------------------

describe('Hostile HTTP framing', () => {
  const ctx = useNode('hostile-http');
  let contactsLive = false;

  before(async () => {
    const probe = await ctx.api.call('POST', '/api/server/contacts', { key: ctx.secret, json: {} });
    contactsLive = probe.status !== 404;
  });

  const auth = () => `Authorization: Bearer ${ctx.secret}`;
  const bigHeads = () => ({
    '100 KB header': rawGet('/api/server/health', [auth(), `X-Big: ${'a'.repeat(100000)}`]),
    '10 000 headers': rawGet('/api/server/health',
      [auth(), ...Array.from({ length: 10000 }, (_, i) => `X-H${i}: v`)]),
    '100 KB URL': rawGet(`/api/server/health?${'a'.repeat(100000)}`, [auth()]),
  });

  it('oversized request heads are refused with a 4xx and the server stays up', async () => {
    for (const [what, data] of Object.entries(bigHeads())) {
      const [res] = await rawExchange(ctx.node.baseUrl, data);
      assert.ok(res, `${what}: no answer`);
      assert.ok([400, 413, 414, 431].includes(res.status), `${what}: ${res.statusLine}`);
    }
    await alive(ctx.node);
  });

  it('oversized request heads get X-Request-Id and the one error shape', {
    todo: 'defect: 431/414 come from libmicrohttpd as text/html without X-Request-Id',
  }, async () => {
    for (const [what, data] of Object.entries(bigHeads())) {
      const [res] = await rawExchange(ctx.node.baseUrl, data);
      assertErrorShape(what, res);
    }
  });

  it('malformed framing gets X-Request-Id and the one error shape', {
    todo: 'defect: bad request lines, HTTP/2.0, a bad chunk size and a negative Content-Length are '
      + 'answered by libmicrohttpd in HTML without X-Request-Id (the Content-Length ones even send '
      + 'the status line and headers twice)',
  }, async () => {
    const post = (lines, body = '') =>
      `POST /api/server/contacts HTTP/1.1\r\nHost: x\r\n${auth()}\r\n` +
      `Content-Type: application/json\r\n${lines.map((l) => `${l}\r\n`).join('')}` +
      `Connection: close\r\n\r\n${body}`;
    const cases = {
      'HTTP/0.9 request line': 'GET /api/server/health\r\n\r\n',
      'HTTP/2.0 request line': rawGet('/api/server/health', [auth()], 'HTTP/2.0'),
      'bad chunk size': post(['Transfer-Encoding: chunked'], 'zz\r\nabc\r\n0\r\n\r\n'),
      'chunk size overflow':
        post(['Transfer-Encoding: chunked'], 'ffffffffffffffffff\r\nabc\r\n0\r\n\r\n'),
      'negative Content-Length': post(['Content-Length: -1']),
      'huge Content-Length': post(['Content-Length: 99999999999999999999999']),
    };
    for (const [what, data] of Object.entries(cases)) {
      const [res] = await rawExchange(ctx.node.baseUrl, data);
      assert.ok(res && res.status >= 400 && res.status < 500, `${what}: ${res?.statusLine}`);
      assertErrorShape(what, res);
    }
  });

  it('traversal, dot segments, doubled/trailing slashes, bad UTF-8 in paths: 404', async () => {
    const paths = ['/api/server/../server/health', '/api/server/%2e%2e/server/health',
      '/../../../../etc/passwd', '//api/server/health', '/api/server/health/',
      '/api/server/./health',
      '/api/server/%ff%fe', '/api/server/h\xffalth', '/api/server/he%00alth', '/healthz%00'];
    for (const path of paths) {
      const [res] = await rawExchange(ctx.node.baseUrl, rawGet(path, [auth()]));
      assertError(checked('GET', path, res), 404, 'SERVER_ROUTE_NOT_FOUND');
    }
    await alive(ctx.node);
  });

  it('PROPFIND, TRACE, CONNECT and a lower-case method: 405 with Allow', async () => {
    for (const method of ['PROPFIND', 'TRACE', 'CONNECT', 'A'.repeat(5000)]) {
      const [res] = await rawExchange(ctx.node.baseUrl,
        `${method} /api/server/health HTTP/1.1\r\nHost: x\r\n${auth()}\r\n` +
        'Connection: close\r\n\r\n');
      assertError(checked(method.slice(0, 20), '/api/server/health', res), 405,
        'SERVER_METHOD_NOT_ALLOWED');
    }
    // Methods are case-sensitive: "get" is not GET.
    const [lower] = await rawExchange(ctx.node.baseUrl,
      `get /api/server/health HTTP/1.1\r\nHost: x\r\n${auth()}\r\nConnection: close\r\n\r\n`);
    openapi().checkGenericError('get /api/server/health', lower, 'SERVER_METHOD_NOT_ALLOWED');
    assertError(lower, 405, 'SERVER_METHOD_NOT_ALLOWED');
    assert.match(lower.headers.allow, /\bGET\b/);
  });

  it('HTTP/1.0 is answered; pipelined requests come back in order, with their ids', async () => {
    const [old] = await rawExchange(ctx.node.baseUrl,
      `GET /api/server/health HTTP/1.0\r\n${auth()}\r\n\r\n`);
    assert.equal(checked('GET', '/api/server/health', old).status, 200);
    const paths = ['/api/server/health', '/api/server/tenant', '/nope', '/healthz',
      '/api/server/tenant/sdk-readiness'];
    const data = paths.map((p, i) =>
      `GET ${p} HTTP/1.1\r\nHost: x\r\n${auth()}\r\nX-Request-Id: pipe-${i}\r\n` +
      (i === paths.length - 1 ? 'Connection: close\r\n' : '') + '\r\n').join('');
    const answers = await rawExchange(ctx.node.baseUrl, data);
    assert.equal(answers.length, paths.length);
    answers.forEach((res, i) => {
      checked('GET', paths[i], res);
      assert.equal(res.headers['x-request-id'], `pipe-${i}`);
    });
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 404, 200, 200]);
    assert.equal(answers[1].json.id, ctx.tenant.id);
  });

  it('X-Request-Id with bad bytes is replaced by a generated id', async () => {
    for (const value of ['<script>', '\xff\xfe', 'a b', 'x'.repeat(129)]) {
      const [res] = await rawExchange(ctx.node.baseUrl,
        rawGet('/healthz', [`X-Request-Id: ${value}`]));
      checked('GET', '/healthz', res);
      assert.match(res.headers['x-request-id'], /^req_[0-9a-z]+$/);
    }
  });

  it('a raw NUL in the request path is refused, never cut short to a shorter route', {
    todo: 'defect: "GET /api/server/health\\0x" is served as /api/server/health (200); '
      + 'only the %00 form is caught',
  }, async () => {
    const [res] = await rawExchange(ctx.node.baseUrl, rawGet('/api/server/health\x00x', [auth()]));
    assert.ok(res && res.status >= 400 && res.status < 500, `got ${res?.statusLine}`);
    assertErrorShape('NUL in path', res);
  });

  it('a raw NUL in a header value is refused with 400', {
    todo: 'defect: header values are cut at the NUL and the request is served (200); '
      + 'X-Request-Id "abc\\0def" is even echoed as "abc"',
  }, async () => {
    for (const line of ['X-Foo: a\x00b', 'X-Request-Id: abc\x00def']) {
      const [res] = await rawExchange(ctx.node.baseUrl,
        rawGet('/api/server/health', [auth(), line]));
      assert.equal(res?.status, 400, `${JSON.stringify(line)}: ${res?.statusLine}`);
      assertErrorShape('NUL in header', res);
    }
  });

  it('two different Content-Length headers are refused with 400 (request smuggling)', async () => {
    const [res] = await rawExchange(ctx.node.baseUrl,
      'POST /api/server/contacts HTTP/1.1\r\nHost: x\r\n' +
      `${auth()}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n` +
      'Connection: close\r\n\r\n{}x');
    assert.equal(res?.status, 400, res?.statusLine);
    assertErrorShape('two Content-Length', res);
    assert.notEqual(res.json.error.code, 'SERVER_CONTACT_VALIDATION_FAILED',
      'the body was processed');
  });

  it('an HTTP/1.1 request without Host is refused with 400', async () => {
    const [res] = await rawExchange(ctx.node.baseUrl,
      `GET /api/server/health HTTP/1.1\r\n${auth()}\r\nConnection: close\r\n\r\n`);
    assert.equal(res?.status, 400, res?.statusLine);
  });

  it('Expect: 100-continue with an acceptable body is answered after 100 Continue', async (t) => {
    if (!contactsLive) return t.skip('contacts not routed');
    const body = JSON.stringify({ name: 'Expecting Eve' });
    const conn = await RawConn.open(ctx.node.baseUrl);
    try {
      await conn.write(`POST /api/server/contacts HTTP/1.1\r\nHost: x\r\n${auth()}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
        'Expect: 100-continue\r\n' +
        'Connection: close\r\n\r\n');
      const interim = await conn.next(3000);
      assert.equal(interim?.status, 100);
      await conn.write(body);
      const res = await conn.next(3000);
      assert.equal(checked('POST', '/api/server/contacts', res).status, 201, res.text);
    } finally {
      conn.close();
    }
  });

  it('Expect: 100-continue with a Content-Length over the limit is answered 413 at once', async () => {
    const conn = await RawConn.open(ctx.node.baseUrl);
    try {
      await conn.write(`POST /api/server/contacts HTTP/1.1\r\nHost: x\r\n${auth()}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n' +
        'Connection: close\r\n\r\n');
      const res = await conn.next(3000).catch((e) => ({ status: 0, statusLine: e.message }));
      assert.equal(res?.status, 413, `first answer: ${res?.statusLine}`);
      assertError(checked('POST', '/api/server/contacts', res), 413, 'SERVER_REQUEST_TOO_LARGE');
    } finally {
      conn.close();
    }
  });

  it('hostile JSON: deep nesting, NUL escapes, duplicate keys: 400 INVALID_JSON', async (t) => {
    if (!contactsLive) return t.skip('contacts not routed');
    const deep = `{"name":"x","tags":${'['.repeat(100000)}${']'.repeat(100000)}}`;
    const bodies = [deep, '{"name":"a\\u0000b"}', '{"name":"a","name":"b"}', '{"name":"\\ud800"}'];
    for (const body of bodies) {
      const res = await ctx.api.call('POST', '/api/server/contacts',
        { key: ctx.secret, headers: { 'Content-Type': 'application/json' }, body });
      assertError(res, 400, 'SERVER_REQUEST_INVALID_JSON');
    }
    await alive(ctx.node);
  });

  it('a few slowloris connections do not delay other clients', async () => {
    const conns = [];
    try {
      for (let i = 0; i < 5; i++) {
        const c = await RawConn.open(ctx.node.baseUrl);
        await c.write('GET /api/server/health HTTP/1.1\r\nHost: x\r\n');
        conns.push(c);
      }
      for (let s = 0; s < 3; s++) {
        await sleep(500);
        for (const c of conns) await c.write(`X-Drip-${s}: 1\r\n`);
        const t0 = Date.now();
        await ctx.api.get('/api/server/health', { key: ctx.secret, expect: 200 });
        assert.ok(Date.now() - t0 < 3000, 'a normal request waited behind slow clients');
      }
    } finally {
      conns.forEach((c) => c.close());
    }
  });

  it('a connection that drips its request head is closed within 12 s', async () => {
    const c = await RawConn.open(ctx.node.baseUrl);
    try {
      await c.write('GET /api/server/health HTTP/1.1\r\nHost: x\r\n');
      const t0 = Date.now();
      for (let i = 0; i < 12 && !c.ended; i++) {
        await sleep(1000);
        await c.write(`X-Drip-${i}: 1\r\n`);
      }
      assert.ok(await c.closedWithin(500), `still open after ${Date.now() - t0} ms of dripping`);
    } finally {
      c.close();
    }
  });

  it('after all of the above: alive, every log line is JSON, no secret logged', async () => {
    await alive(ctx.node);
    await sleep(300);
    const lines = ctx.node.logLines();
    assert.ok(lines.length > 20);
    for (const l of lines) assert.ok(l && typeof l === 'object' && !Array.isArray(l));
    for (const secret of ctx.dep.secrets) {
      assert.ok(!ctx.node.stderr.includes(secret), 'secret in log');
    }
  });
});

// ---- SIGTERM while requests are on the wire ----------------------------------

describe('SIGTERM with requests on the wire', () => {
  const seen = {};
  let dep;

  before(async () => {
    dep = await Deployment.create('hostile-term');
    const node = await dep.startNode();
    const { secret } = await dep.tenantWithKey();
    const auth = `Authorization: Bearer ${secret}`;
    const probe = await new Api(node).call('POST', '/api/server/contacts',
      { key: secret, json: {} });
    seen.contactsLive = probe.status !== 404;

    const keep = await RawConn.open(node.baseUrl);
    await keep.write(`GET /api/server/health HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\n`);
    seen.keepFirst = await keep.next();

    const body = JSON.stringify({ name: 'In Flight' });
    const inflight = await RawConn.open(node.baseUrl);
    await inflight.write(`POST /api/server/contacts HTTP/1.1\r\nHost: x\r\n${auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      'Connection: close\r\n\r\n' +
      body.slice(0, 5));
    await sleep(200);

    const t0 = Date.now();
    const stopping = node.stop().then((e) => ({ exit: e, ms: Date.now() - t0 }),
      (err) => ({ error: err, ms: Date.now() - t0 }));
    await sleep(300);

    const t1 = Date.now();
    seen.fresh = await RawConn.open(node.baseUrl).then(async (c) => {
      await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const res = await c.next(1500).catch(() => null);
      c.close();
      return { res, ms: Date.now() - t1 };
    }, (err) => ({ refused: err.code, ms: Date.now() - t1 }));

    await keep.write(`GET /api/server/health HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\n`);
    seen.keepAfter = await keep.next(3000).catch(() => null);
    keep.close();

    await inflight.write(body.slice(5));
    seen.inflight = await inflight.next(5000).catch(() => null);
    inflight.close();
    seen.stop = await stopping;
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it('a kept-alive connection\'s next request: 503 SERVER_UNAVAILABLE, Connection: close', () => {
    assert.equal(seen.keepFirst?.status, 200);
    assert.ok(seen.keepAfter, 'no answer on the kept-alive connection after SIGTERM');
    assertError(checked('GET', '/api/server/health', seen.keepAfter), 503, 'SERVER_UNAVAILABLE');
    assert.match(seen.keepAfter.headers.connection ?? '', /close/i);
  });

  it('the process exits 0 within 10 s', () => {
    assert.equal(seen.stop.error, undefined, String(seen.stop.error));
    assert.equal(seen.stop.exit.code, 0);
    assert.ok(seen.stop.ms < 10000);
  });

  it('a request whose body was still arriving at SIGTERM is finished, not refused', (t) => {
    if (!seen.contactsLive) return t.skip('contacts not routed');
    assert.ok(seen.inflight, 'no answer to the in-flight request');
    checked('POST', '/api/server/contacts', seen.inflight);
    assert.equal(seen.inflight.status, 201, seen.inflight.text);
  });

  it('a new connection after SIGTERM is refused or answered at once, not left hanging', () => {
    const f = seen.fresh;
    assert.ok(f.refused || f.res, `new connection hung for ${f.ms} ms without an answer`);
    if (f.res) assertError(checked('GET', '/healthz', f.res), 503, 'SERVER_UNAVAILABLE');
  });
});

// ---- the CLI -------------------------------------------------------------------

/** Runs the CLI with the deployment's environment plus `extra`, in `cwd`. */
function cli(dep, args, { extra = {}, cwd = dep.dir } = {}) {
  return new Promise((resolve) => {
    execFile(BIN, args, { env: dep.env(extra), cwd, timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('Hostile CLI arguments', () => {
  let dep;
  let tenant;
  let other;
  let key;

  before(async () => {
    dep = await Deployment.create('hostile-cli');
    ({ tenant, key } = await dep.tenantWithKey());
    other = await dep.createTenant();
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it('--help of every command exits 0 with a usage text', async () => {
    const commands = [['serve'], ['migrate'], ['demo', 'init'], ['tenant', 'create'],
      ['tenant', 'list'], ['staff', 'add'], ['staff', 'list'], ['staff', 'disable'],
      ['key', 'create'], ['key', 'list'], ['key', 'rotate'], ['key', 'revoke']];
    for (const c of commands) {
      const res = await cli(dep, [...c, '--help']);
      assert.equal(res.code, 0, `${c.join(' ')} --help: ${res.stderr}`);
      assert.match(res.stdout, new RegExp(`usage: ringnity ${c.join(' ')}`));
    }
  });

  it('bad arguments: exit 1 (usage) or 2 (not found/conflict), stderr only, no crash', async () => {
    const revoked = await dep.createKey(tenant.slug);
    await dep.revokeKey(tenant.slug, revoked.id);
    const t = tenant.slug;
    const s = () => `s-${uniq()}`;
    const k = ['key', 'create', '--tenant', t, '--name', 'k', '--scopes'];
    const cases = [
      [1, ['tenant', 'create', '--name', 'x']],
      [1, ['tenant', 'create', '--slug', s()]],
      [1, ['tenant', 'create', `--slug=${s()}`, '--name=x']],
      [1, ['tenant', 'create', '--slug', s(), '--name', 'x', '--bogus', '1']],
      [1, ['tenant', 'create', '--slug', s(), '--name'], 'no --json: it would be the value'],
      [1, ['tenant', 'create', '--slug', 'UPPER', '--name', 'x']],
      [1, ['tenant', 'create', '--slug', '-x', '--name', 'x']],
      [1, ['tenant', 'create', '--slug', 'a'.repeat(64), '--name', 'x']],
      [1, ['tenant', 'create', '--slug', s(), '--name', '']],
      [1, ['tenant', 'create', '--slug', s(), '--name', 'x', '--timezone', '../../etc/passwd']],
      [1, ['tenant', 'create', '--slug', s(), '--name', 'x', '--timezone', 'asia/jakarta']],
      [1, ['tenant', 'create', '--slug', s(), '--name', 'x', '--country', 'idn']],
      [1, ['tenant', 'create', '--slug', s(), '--name', 'x', '--country', 'id']],
      [2, ['tenant', 'create', '--slug', t, '--name', 'again']],
      [1, ['tenant', 'list', 'extra']],
      [1, ['staff', 'add', '--tenant', t, '--username', 'bob', '--role', 'root']],
      [1, ['staff', 'add', '--tenant', t, '--username', 'bad name', '--role', 'agent']],
      [2, ['staff', 'add', '--tenant', 'no-such-tenant', '--username', 'bob', '--role', 'agent']],
      [2, ['staff', 'disable', '--tenant', t, '--username', 'ghost']],
      [1, ['staff', 'list']],
      [1, [...k, 'server:contacts:read,bogus']],
      [1, [...k, '']],
      [1, [...k, 'ALL']],
      [1, [...k, 'server:contacts:*']],
      [1, [...k, 'all', '--rate-limit', '1e2']],
      [1, [...k, 'all', '--rate-limit', '10abc']],
      [1, [...k, 'all', '--rate-limit', '99999999999999999999']],
      [1, [...k, 'all', '--expires-in-days', '0']],
      [1, ['key', 'create', '--tenant', t, '--name', '', '--scopes', 'all']],
      [2, ['key', 'create', '--tenant', 'no-such-tenant', '--name', 'k', '--scopes', 'all']],
      [2, ['key', 'rotate', '--tenant', t, '--id', 'key_doesnotexist']],
      [2, ['key', 'rotate', '--tenant', t, '--id', revoked.id]],
      [2, ['key', 'rotate', '--tenant', other.slug, '--id', key.id]],
      [2, ['key', 'revoke', '--tenant', other.slug, '--id', key.id]],
      [2, ['key', 'revoke', '--tenant', t, '--id', "' OR 1=1 --"]],
      [1, ['key', 'revoke', '--tenant', t]],
      [1, ['frobnicate']],
    ];
    for (const [code, args, noJson] of cases) {
      for (const json of noJson ? [false] : [false, true]) {
        const argv = json ? [...args, '--json'] : args;
        const res = await cli(dep, argv);
        const what = `ringnity ${argv.join(' ')}`;
        assert.equal(res.code, code, `${what}: exit ${res.code}, stderr ${res.stderr}`);
        assert.match(res.stderr, /\S/, `${what}: no message on stderr`);
        if (args[0] !== 'frobnicate') assert.equal(res.stdout, '', `${what}: wrote to stdout`);
      }
    }
    const still = (await dep.cli(['key', 'list', '--tenant', t])).json;
    assert.equal(still.find((x) => x.id === key.id).status, 'active', 'nothing changed the key');
  });

  it('list commands never print a secret, in text or JSON', async () => {
    for (const json of [false, true]) {
      const args = ['key', 'list', '--tenant', tenant.slug, ...(json ? ['--json'] : [])];
      const res = await cli(dep, args);
      assert.equal(res.code, 0, res.stderr);
      for (const secret of dep.secrets) {
        assert.ok(!res.stdout.includes(secret), 'secret in key list');
      }
      assert.doesNotMatch(res.stdout, /rn_sk_live_[0-9A-Za-z]{20,}/);
    }
  });

  // Decision (docs/api-decisions.md): revocation is a state, so revoking a
  // revoked key succeeds again (exit 0) and changes nothing; rotating one is 2.
  it('revoking an already revoked key is idempotent: exit 0, revokedAt unchanged', async () => {
    const k = await dep.createKey(tenant.slug);
    await dep.revokeKey(tenant.slug, k.id);
    const first = await cli(dep, ['key', 'list', '--tenant', tenant.slug, '--json']);
    const before = JSON.parse(first.stdout).find((x) => x.id === k.id);
    const res = await cli(dep, ['key', 'revoke', '--tenant', tenant.slug, '--id', k.id, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const again = JSON.parse(res.stdout);
    assert.equal(again.status, 'revoked');
    assert.equal(again.revokedAt, before.revokedAt);
    const rotate = await cli(dep, ['key', 'rotate', '--tenant', tenant.slug, '--id', k.id]);
    assert.equal(rotate.code, 2, rotate.stdout);
  });

  it('an unassigned ISO 3166-1 country code is refused', async () => {
    for (const cc of ['XX', 'ZZ', 'QQ']) {
      const res = await cli(dep,
        ['tenant', 'create', '--slug', `c-${uniq()}`, '--name', 'x', '--country', cc]);
      assert.equal(res.code, 1, `--country ${cc} accepted`);
    }
  });

  it('a time zone that is not a canonical IANA zone name is refused', async () => {
    for (const tz of ['posixrules', 'right/UTC']) {
      const res = await cli(dep,
        ['tenant', 'create', '--slug', `z-${uniq()}`, '--name', 'x', '--timezone', tz]);
      assert.equal(res.code, 1, `--timezone ${tz} accepted`);
    }
  });

  it('a name with control characters is refused (it would reach operators\' terminals raw)', async () => {
    const res = await cli(dep,
      ['tenant', 'create', '--slug', `n-${uniq()}`, '--name', 'a\nb\x1b[31mc']);
    assert.equal(res.code, 1, 'control characters accepted');
  });

  it('RINGNITY_DATABASE_URL with an unknown scheme is refused (exit 3), no file is created', async () => {
    const before = readdirSync(dep.dir);
    const res = await cli(dep, ['tenant', 'list'],
      { extra: { RINGNITY_DATABASE_URL: 'mysql://db.example/rn' } });
    const created = readdirSync(dep.dir).filter((f) => !before.includes(f));
    assert.equal(res.code, 3, `exit ${res.code}`);
    assert.deepEqual(created, [], 'a store was created from the URL');
    assert.ok(!existsSync(`${dep.dir}/mysql:`));
  });

  it('a store written under another master key is refused by serve and by the CLI', async () => {
    const wrong = { RINGNITY_MASTER_KEY: 'ab'.repeat(32) };
    const res = await cli(dep,
      ['key', 'create', '--tenant', tenant.slug, '--name', 'k', '--scopes', 'all'],
      { extra: wrong });
    assert.equal(res.code, 3, 'key create under another master key succeeded');
    const saved = dep.masterKey;
    dep.masterKey = wrong.RINGNITY_MASTER_KEY;
    let started = null;
    try {
      started = await dep.startNode();
    } catch {
      started = null;
    } finally {
      dep.masterKey = saved;
      // A node that refused to start has exited: do not ask destroy() to stop it.
      dep.nodes = dep.nodes.filter((n) => !n.exit);
    }
    if (started) {
      const ready = await new Api(started).get('/readyz');
      assert.equal(ready.status, 503, 'a node with the wrong master key reports ready');
    }
  });
});

// ---- Idempotency-Key is scoped by the caller ---------------------------------

describe('Idempotency-Key: two keys of one tenant never share a stored answer', () => {
  let dep;
  let api;
  let tenant;
  before(async () => {
    dep = await Deployment.create('idemscope');
    api = new Api(await dep.startNode());
    tenant = await dep.createTenant({ country: 'ID' });
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it('the same key and body from another server key runs afresh, not replayed', async () => {
    const one = (await dep.createKey(tenant.slug)).secret;
    const two = (await dep.createKey(tenant.slug)).secret;
    const idem = `shared-${uniq(12)}`;
    const body = { name: 'Scoped', externalId: `scoped-${uniq()}` };
    const post = (key) => api.call('POST', '/api/server/contacts',
      { key, json: body, headers: { 'Idempotency-Key': idem } });
    const first = await post(one);
    assert.equal(first.status, 201, first.text);
    const other = await post(two);
    assert.equal(other.status, 200, other.text); // an upsert of the same contact, run again
    assert.equal(other.headers['idempotent-replayed'], undefined);
    assert.equal(other.json.id, first.json.id);
    const replay = await post(one);
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
  });
});

// ---- contacts created through the API count in the reports -------------------

describe('Reports count contacts created through the Server API', () => {
  let dep;
  let api;
  before(async () => {
    dep = await Deployment.create('contactcount');
    api = new Api(await dep.startNode());
  });
  after(async () => {
    if (dep) await dep.destroy();
  });

  it('two new contacts and one upsert make contactsCreated 2 today', async () => {
    const tenant = await dep.createTenant({ country: 'ID' });
    const key = (await dep.createKey(tenant.slug)).secret;
    const summary = async () => (await api.get('/api/server/reports/summary?period=today',
      { key, expect: 200 })).json;
    const before = await summary();
    const ext = `count-${uniq()}`;
    await api.call('POST', '/api/server/contacts', { key, json: { externalId: ext, name: 'A' },
      expect: 201 });
    await api.call('POST', '/api/server/contacts', { key, json: { externalId: ext, name: 'B' },
      expect: 200 });
    await api.call('POST', '/api/server/contacts', { key, json: { name: 'C' }, expect: 201 });
    const after = await summary();
    const count = (s) => (s.summary ?? s).contactsCreated;
    assert.equal(count(after) - count(before), 2);
  });
});
