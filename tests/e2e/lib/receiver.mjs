// A webhook receiver on 127.0.0.1 for the end-to-end tests and the bench.
//
// It records every POST it gets (raw body bytes, headers, arrival time) and
// answers with whatever the test scripts: a status, headers, a body, a
// delay, or a dropped connection. Signatures are checked here with
// node:crypto alone, never with the project's code, exactly as a tenant's
// receiver would: HMAC-SHA256(secret, timestamp + "." + raw body), lower-case
// hex, any one of the space-separated "sha256=" values may match.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

/** The "sha256=<hex>" value a receiver expects for one secret. */
export function expectedSignature(secret, timestamp, rawBody) {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * True when the X-Ringnity-Signature header carries a valid signature for
 * one of `secrets` (compared in constant time).
 */
export function verifySignature(secrets, timestamp, rawBody, header) {
  if (typeof header !== 'string' || !/^\d+$/.test(String(timestamp))) return false;
  const offered = header.split(' ').filter((v) => v !== '');
  for (const secret of secrets) {
    const want = Buffer.from(expectedSignature(secret, timestamp, rawBody));
    for (const value of offered) {
      const got = Buffer.from(value);
      if (got.length === want.length && timingSafeEqual(got, want)) return true;
    }
  }
  return false;
}

export class Receiver {
  /** Starts listening on a free loopback port. */
  static async start(opts = {}) {
    const r = new Receiver(opts);
    await new Promise((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', resolve);
    });
    r.port = r.server.address().port;
    r.url = `http://127.0.0.1:${r.port}/hook`;
    return r;
  }

  constructor({ respond } = {}) {
    this.requests = [];
    this.respond = respond ?? (() => ({ status: 200, body: 'ok' }));
    this.waiters = [];
    this.sockets = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const entry = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        raw,
        text: raw.toString('utf8'),
        receivedAt: Date.now(),
      };
      try {
        entry.json = JSON.parse(entry.text);
      } catch {
        entry.json = undefined;
      }
      this.requests.push(entry);
      const answer = (await this.respond(entry, this.requests.length)) ?? { status: 200 };
      entry.answeredStatus = answer.status;
      this.notify();
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (answer.destroy) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status ?? 200, {
        'Content-Type': 'text/plain',
        ...(answer.headers ?? {}),
      });
      res.end(answer.body ?? '');
    });
  }

  notify() {
    for (const w of [...this.waiters]) {
      if (w.predicate(this.requests)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(this.requests);
      }
    }
  }

  /** Resolves when predicate(requests) holds; rejects after timeoutMs. */
  waitFor(predicate, timeoutMs = 15000, what = 'the expected requests') {
    if (predicate(this.requests)) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`receiver: timed out after ${timeoutMs} ms waiting for ${what}; ` +
          `got ${this.requests.length} requests`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits for at least n requests in total. */
  waitForCount(n, timeoutMs = 15000) {
    return this.waitFor((reqs) => reqs.length >= n, timeoutMs, `${n} requests`);
  }

  /** Requests whose X-Ringnity-Delivery is eventId. */
  deliveriesOf(eventId) {
    return this.requests.filter((r) => r.headers['x-ringnity-delivery'] === eventId);
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
