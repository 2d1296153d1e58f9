// Support for the helper's end-to-end tests (tests/e2e/client.test.mjs and
// tests/e2e/demo_backend.test.mjs). Not part of the published package.
//
// - contractFetch: a fetch for the helper that checks every answer against
//   api/openapi.yaml (the same validator as the rest of the e2e suite) and
//   collects violations instead of throwing, so a contract problem is reported
//   as such rather than as a network error the helper would retry.
// - probeRoutes / skipUnlessRoutes: which Server API routes exist right now,
//   found without side effects (a PUT, which no route accepts, answers 405
//   with Allow on an existing path and 404 SERVER_ROUTE_NOT_FOUND otherwise),
//   so tests of endpoints still being built skip with a reason and start
//   running by themselves once the endpoint lands.
// - scriptedServer: a loopback HTTP server answering from a script, for the
//   transport tests (retries, timeouts, redirects, redaction).
import http from 'node:http';
import { request } from '../../../tests/e2e/lib/http.mjs';
import { openapi } from '../../../tests/e2e/lib/api.mjs';

export function contractFetch(violations) {
  return async (url, init = {}) => {
    const res = await fetch(url, init);
    const text = await res.clone().text();
    const target = new URL(url);
    const shaped = shapeResponse(res, text);
    if (!isMissingRoute(shaped)) {
      try {
        openapi().check(init.method ?? 'GET', target.pathname + target.search, shaped);
      } catch (err) {
        violations.push(err.message);
      }
    }
    return res;
  };
}

function shapeResponse(res, text) {
  const headers = {};
  res.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let json;
  if (contentType === 'application/json') {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers, text, json, contentType };
}

function isMissingRoute(res) {
  const code = res.json?.error?.code;
  return (res.status === 404 && code === 'SERVER_ROUTE_NOT_FOUND')
    || (res.status === 405 && code === 'SERVER_METHOD_NOT_ALLOWED');
}

// Route templates under /api/server and the concrete path probed for each.
const PROBE_PATHS = {
  '/health': '/health',
  '/tenant': '/tenant',
  '/tenant/sdk-readiness': '/tenant/sdk-readiness',
  '/visitor-context-token': '/visitor-context-token',
  '/sdk-token/agent': '/sdk-token/agent',
  '/sdk-token/admin': '/sdk-token/admin',
  '/contacts': '/contacts',
  '/contacts/{id}': '/contacts/ct_probe',
  '/reports/summary': '/reports/summary',
  '/reports/timeseries': '/reports/timeseries',
  '/reports/productivity': '/reports/productivity',
  '/reports/export': '/reports/export',
  '/webhooks': '/webhooks',
  '/webhooks/{id}': '/webhooks/wh_probe',
  '/webhooks/test': '/webhooks/test',
  '/webhooks/deliveries': '/webhooks/deliveries',
  '/webhooks/deliveries/{id}/redeliver': '/webhooks/deliveries/dlv_probe/redeliver',
  '/webhooks/event-types': '/webhooks/event-types',
};

/** Map template -> Set of methods the server routes (empty when the path is missing). */
export async function probeRoutes(baseUrl, secret) {
  const routes = new Map();
  for (const [template, path] of Object.entries(PROBE_PATHS)) {
    const res = await request(baseUrl, {
      method: 'PUT',
      path: `/api/server${path}`,
      headers: { Authorization: `Bearer ${secret}` },
    });
    const methods = new Set();
    if (res.status === 405 && res.headers.allow) {
      for (const m of res.headers.allow.split(',')) methods.add(m.trim().toUpperCase());
    }
    routes.set(template, methods);
  }
  return routes;
}

/**
 * Skips test `t` (and returns true) unless every 'METHOD /template' exists.
 * The reason names each missing route, e.g.
 * "not implemented on this server yet: POST /api/server/contacts".
 */
export function skipUnlessRoutes(t, routes, ...needed) {
  const missing = needed.filter((spec) => {
    const [method, template] = spec.split(' ');
    if (!routes.has(template)) throw new Error(`no probe path for ${template}`);
    return !routes.get(template).has(method);
  });
  if (missing.length === 0) return false;
  const list = missing.map((spec) => spec.replace(' /', ' /api/server/')).join(', ');
  t.skip(`not implemented on this server yet (404/405 to a probe): ${list}`);
  return true;
}

/**
 * A loopback server whose answers come from `script(req, body, n)` (n counts
 * requests from 1). The script returns { status, headers, body } or the
 * string 'hang' (never answer) or 'reset' (destroy the socket).
 * Resolves { url, requests: [{ method, url, headers, body }], close() }.
 */
export async function scriptedServer(script) {
  const requests = [];
  const hanging = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const answer = script(req, body, requests.length);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      const { body: payload, headers = {} } = answer;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload ?? {});
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...headers });
      res.end(answer.status === 204 ? undefined : text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The standard error envelope, as the Server API sends it. */
export function envelope(code, message = 'test', requestId = 'req_test', details) {
  const error = { code, message, requestId };
  if (details) error.details = details;
  return { error };
}
