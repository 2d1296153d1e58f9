// SDK tokens end-to-end (issue 4): minting Visitor context, Agent and Admin
// tokens, verifying every minted token with `jose` against the JWKS URL (not
// with the project's own code), the SDK endpoints that accept them, tampered
// and expired tokens, widget domains and the visitor session, signing-key
// rotation while the server runs (two nodes on one store), tenant isolation,
// disabled staff, scope denial, the audit trail and the logs.
//
// One deployment serves most blocks. Two tokens with the shortest lifetime
// (60 s) are minted first; the last block waits for them to expire, so the
// "expired by one second" checks run against real tokens without stretching
// the file's run time much beyond a minute. Rotation runs in its own
// deployment so that the main one keeps a single signing key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as jose from 'jose';
import { Api, assertError } from './lib/api.mjs';
import { request } from './lib/http.mjs';
import { Deployment, IS_PG, ServerNode, freePort, sleep, uniq } from './lib/server.mjs';

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const AGENT_READ = ['agent:profile:read', 'agent:presence:read', 'agent:conversations:read',
  'agent:messages:read', 'agent:calls:read'];
const ADMIN_READ = ['admin:tenant:read', 'admin:readiness:read', 'admin:domains:read',
  'admin:services:read', 'admin:subscription:read', 'admin:ai-readiness:read',
  'admin:staff-summary:read'];
const STAFF_CLAIMS = ['aud', 'exp', 'iat', 'iss', 'jti', 'mintedBy', 'nbf', 'scope', 'sub', 'tid'];
const VISITOR_CLAIMS = [...STAFF_CLAIMS, 'ctx'].sort();
const PATHS = {
  visitor: '/api/server/visitor-context-token',
  agent: '/api/server/sdk-token/agent',
  admin: '/api/server/sdk-token/admin',
};

const sorted = (a) => [...a].sort();
const b64json = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

function decode(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    h, p, s,
  };
}

/** Verifies with jose against a freshly fetched JWKS of the node. */
async function joseVerify(node, token, audience, issuer = node.baseUrl) {
  const jwks = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', node.baseUrl));
  return jose.jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['EdDSA'],
    requiredClaims: ['iss', 'aud', 'sub', 'iat', 'nbf', 'exp', 'jti'],
  });
}

/** Runs SQL against a deployment's store (sqlite3 or psql); rows of '|'-joined text. */
function sql(dep, query) {
  const [bin, args] = IS_PG
    ? ['psql', [dep.databaseUrl, '-qAtc', query]]
    : ['sqlite3', ['-cmd', '.timeout 10000', dep.databaseUrl, query]];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin}: ${stderr || err.message}`));
      else resolve(stdout.split('\n').filter((l) => l !== ''));
    });
  });
}

/** A token signed by a key the server never had. */
async function foreignToken(header, payload) {
  const { privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey);
}

const minted = []; // every token handed out, checked against the logs at the end

/** POSTs a mint; records the token. */
async function mint(api, kind, secret, body) {
  const res = await api.call('POST', PATHS[kind], { key: secret, json: body });
  if (res.status === 201) minted.push(res.json.token ?? res.json.contextToken);
  return res;
}

async function mintOk(api, kind, secret, body) {
  const res = await mint(api, kind, secret, body);
  assert.equal(res.status, 201, `${kind} mint: ${res.text}`);
  return res.json;
}

const main = {};

before(async () => {
  main.dep = await Deployment.create('tokens');
  main.node = await main.dep.startNode();
  main.api = new Api(main.node);
  for (const name of ['a', 'b']) {
    const t = await main.dep.tenantWithKey();
    t.agent = await main.dep.addStaff(t.tenant.slug, 'agent.one', 'agent', 'Agent One');
    t.admin = await main.dep.addStaff(t.tenant.slug, 'admin.one', 'admin', 'Admin One');
    main[name] = t;
  }
  // The shortest-lived tokens first: the last block waits for them to expire.
  main.early = {
    agent: await mintOk(main.api, 'agent', main.a.secret, { username: 'agent.one', expiresIn: 60 }),
    context: await mintOk(main.api, 'visitor', main.a.secret, {
      visitor: { externalId: 'early-1' }, expiresIn: 60,
    }),
  };
  await main.dep.cli(['tenant', 'domains', 'add', '--tenant', main.a.tenant.slug, '--domain',
    'shop.example.test']);
  await main.dep.cli(['tenant', 'domains', 'add', '--tenant', main.a.tenant.slug, '--domain',
    '*.example.org']);
  await main.dep.cli(['tenant', 'domains', 'add', '--tenant', main.b.tenant.slug, '--domain',
    'b-shop.example.test']);
});

after(async () => {
  if (!main.dep) return;
  const logs = main.node.stderr;
  for (const token of minted) {
    assert.ok(!logs.includes(token.split('.')[2]), 'a token signature appeared in the logs');
  }
  for (const secret of main.dep.secrets) assert.ok(!logs.includes(secret), 'a key in the logs');
  await main.dep.destroy();
});

describe('Visitor context tokens', () => {
  it('mints a token jose verifies, carrying exactly the contract claims', async () => {
    const { a } = main;
    const before = Math.floor(Date.now() / 1000);
    const body = await mintOk(main.api, 'visitor', a.secret, {
      visitor: { externalId: 'crm-42', name: ' Budi Santoso ', phone: '+62 812-3456-789',
        email: 'budi@example.co.id' },
      metadata: { plan: 'gold', visits: 3, vip: true, referrer: null },
    });
    assert.deepEqual(sorted(Object.keys(body)), ['contextToken', 'expiresAt', 'expiresIn',
      'tokenType']);
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.expiresIn, 900);
    const { payload, protectedHeader } = await joseVerify(main.node, body.contextToken,
      'ringnity:visitor');
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.match(protectedHeader.kid, /^sk_[0-9a-z]{26}$/);
    assert.deepEqual(sorted(Object.keys(payload)), VISITOR_CLAIMS);
    assert.equal(payload.iss, main.node.baseUrl);
    assert.equal(payload.aud, 'ringnity:visitor');
    assert.equal(payload.tid, a.tenant.id);
    assert.equal(payload.mintedBy, a.key.id);
    assert.match(payload.sub, /^vis_[0-9a-z]{26}$/);
    assert.match(payload.jti, /^tok_[0-9a-z]{26}$/);
    assert.equal(payload.scope, 'visitor:session:write visitor:messages:read visitor:messages:write');
    assert.ok(payload.iat >= before && payload.iat <= before + 5);
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp, payload.iat + 900);
    assert.equal(body.expiresAt, new Date(payload.exp * 1000).toISOString());
    assert.deepEqual(payload.ctx, {
      visitor: { externalId: 'crm-42', name: 'Budi Santoso', phone: '+62 812-3456-789',
        email: 'budi@example.co.id' },
      metadata: { plan: 'gold', visits: 3, vip: true, referrer: null },
    });
  });

  it('one externalId keeps one visitor id per tenant; anonymous visitors get fresh ids', async () => {
    const { a, b } = main;
    const sub = async (secret, visitor) =>
      decode((await mintOk(main.api, 'visitor', secret, { visitor })).contextToken).payload.sub;
    const x1 = await sub(a.secret, { externalId: 'crm-7' });
    const x2 = await sub(a.secret, { externalId: 'crm-7', name: 'Other name' });
    const y = await sub(a.secret, { externalId: 'crm-8' });
    const xb = await sub(b.secret, { externalId: 'crm-7' });
    const anon1 = await sub(a.secret, { name: 'Anon' });
    const anon2 = await sub(a.secret, { name: 'Anon' });
    assert.equal(x1, x2);
    assert.notEqual(x1, y);
    assert.notEqual(x1, xb);
    assert.notEqual(anon1, anon2);
  });

  it('expiresIn: default 900, 60 and 3600 accepted, anything else 400 naming it', async () => {
    for (const ttl of [60, 3600]) {
      const body = await mintOk(main.api, 'visitor', main.a.secret, {
        metadata: { a: 1 }, expiresIn: ttl,
      });
      assert.equal(body.expiresIn, ttl);
      const { payload } = decode(body.contextToken);
      assert.equal(payload.exp - payload.iat, ttl);
    }
    for (const ttl of [59, 3601, 0, -60, '900', 900.5, true, 1e12]) {
      const res = await mint(main.api, 'visitor', main.a.secret, { metadata: { a: 1 }, expiresIn: ttl });
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details,
        [{ field: 'expiresIn', issue: 'must_be_integer_60_to_3600' }], `expiresIn ${ttl}`);
    }
  });

  it('unknown fields are refused with details naming them', async () => {
    const res = await mint(main.api, 'visitor', main.a.secret, {
      visitor: { externalId: 'x', nick: 'y' }, metadata: {}, extra: 1,
    });
    assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(sorted(res.json.error.details.map((d) => `${d.field}:${d.issue}`)),
      ['extra:unknown_field', 'visitor.nick:unknown_field']);
  });

  it('bad visitor fields and nested metadata are 400 with details', async () => {
    const res = await mint(main.api, 'visitor', main.a.secret, {
      visitor: { email: 'not-an-email', phone: 'call me', name: 5 },
      metadata: { nested: { a: 1 }, list: [1] },
    });
    assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(sorted(res.json.error.details.map((d) => `${d.field}:${d.issue}`)), [
      'metadata.list:must_be_scalar', 'metadata.nested:must_be_scalar',
      'visitor.email:invalid_format', 'visitor.name:must_be_string',
      'visitor.phone:invalid_format']);
  });

  it('nothing usable is SERVER_VISITOR_CONTEXT_EMPTY', async () => {
    const bodies = [{}, { visitor: {}, metadata: {} }, { visitor: { name: '   ', email: null } },
      { metadata: { only: null } }, { visitor: null, expiresIn: 600 }];
    for (const body of bodies) {
      const res = await mint(main.api, 'visitor', main.a.secret, body);
      assertError(res, 400, 'SERVER_VISITOR_CONTEXT_EMPTY');
    }
  });

  it('a context of 4096 serialized bytes is accepted, 4097 is 413', async () => {
    // {"metadata":{"k":"x..."},"visitor":{}} is 34 bytes plus the x's.
    const ok = await mintOk(main.api, 'visitor', main.a.secret, {
      metadata: { k: 'x'.repeat(4096 - 34) },
    });
    assert.equal(decode(ok.contextToken).payload.ctx.metadata.k.length, 4062);
    await joseVerify(main.node, ok.contextToken, 'ringnity:visitor');
    const res = await mint(main.api, 'visitor', main.a.secret, {
      metadata: { k: 'x'.repeat(4097 - 34) },
    });
    assertError(res, 413, 'SERVER_VISITOR_CONTEXT_TOO_LARGE');
    // Multi-byte characters count as the bytes they take.
    const euro = await mint(main.api, 'visitor', main.a.secret, {
      metadata: { k: '€'.repeat(1400) },
    });
    assertError(euro, 413, 'SERVER_VISITOR_CONTEXT_TOO_LARGE');
  });
});

describe('Agent and admin tokens', () => {
  it('agent token: default read scopes, the agent, and claims jose verifies', async () => {
    const { a } = main;
    const body = await mintOk(main.api, 'agent', a.secret, { username: 'agent.one' });
    assert.deepEqual(sorted(Object.keys(body)), ['agent', 'expiresAt', 'expiresIn', 'scopes',
      'token', 'tokenType']);
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.expiresIn, 900);
    assert.deepEqual(body.scopes, AGENT_READ);
    assert.deepEqual(body.agent, { id: a.agent.id, username: 'agent.one',
      displayName: 'Agent One', role: 'agent' });
    const { payload } = await joseVerify(main.node, body.token, 'ringnity:agent');
    assert.deepEqual(sorted(Object.keys(payload)), STAFF_CLAIMS);
    assert.equal(payload.sub, a.agent.id);
    assert.equal(payload.tid, a.tenant.id);
    assert.equal(payload.scope, AGENT_READ.join(' '));
    assert.equal(payload.mintedBy, a.key.id);
    assert.equal(payload.exp - payload.iat, 900);
    assert.equal(body.expiresAt, new Date(payload.exp * 1000).toISOString());
    await assert.rejects(joseVerify(main.node, body.token, 'ringnity:admin'),
      { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('explicit scopes are deduplicated into catalogue order; admins may get agent tokens', async () => {
    const body = await mintOk(main.api, 'agent', main.a.secret, {
      username: 'admin.one',
      scopes: ['agent:calls:write', 'agent:profile:read', 'agent:calls:write', 'agent:media:delete'],
      expiresIn: 3600,
    });
    assert.deepEqual(body.scopes, ['agent:profile:read', 'agent:media:delete', 'agent:calls:write']);
    assert.equal(body.agent.role, 'admin');
    const { payload } = await joseVerify(main.node, body.token, 'ringnity:agent');
    assert.equal(payload.scope, 'agent:profile:read agent:media:delete agent:calls:write');
    assert.equal(payload.exp - payload.iat, 3600);
  });

  it('admin token: default :read scopes and the admin', async () => {
    const { a } = main;
    const body = await mintOk(main.api, 'admin', a.secret, { username: 'admin.one' });
    assert.deepEqual(body.scopes, ADMIN_READ);
    assert.deepEqual(body.admin, { id: a.admin.id, username: 'admin.one',
      displayName: 'Admin One', role: 'admin' });
    assert.deepEqual(sorted(Object.keys(body)), ['admin', 'expiresAt', 'expiresIn', 'scopes',
      'token', 'tokenType']);
    const { payload } = await joseVerify(main.node, body.token, 'ringnity:admin');
    assert.deepEqual(sorted(Object.keys(payload)), STAFF_CLAIMS);
    assert.equal(payload.sub, a.admin.id);
    const wide = await mintOk(main.api, 'admin', a.secret, {
      username: 'admin.one', scopes: ['admin:reports:export', 'admin:ai-knowledge:write'],
    });
    assert.deepEqual(wide.scopes, ['admin:reports:export', 'admin:ai-knowledge:write']);
  });

  it('unknown, foreign and wrong-role staff', async () => {
    const { a } = main;
    assertError(await mint(main.api, 'agent', a.secret, { username: 'nobody' }), 404,
      'SERVER_AGENT_NOT_FOUND');
    assertError(await mint(main.api, 'admin', a.secret, { username: 'nobody' }), 404,
      'SERVER_ADMIN_NOT_FOUND');
    assertError(await mint(main.api, 'admin', a.secret, { username: 'agent.one' }), 403,
      'SERVER_ADMIN_ROLE_REQUIRED');
    // Tenant B has its own agent.one; a key of A must not find B-only staff.
    await main.dep.addStaff(main.b.tenant.slug, 'only.in.b', 'admin');
    assertError(await mint(main.api, 'agent', a.secret, { username: 'only.in.b' }), 404,
      'SERVER_AGENT_NOT_FOUND');
    assertError(await mint(main.api, 'admin', a.secret, { username: 'only.in.b' }), 404,
      'SERVER_ADMIN_NOT_FOUND');
  });

  it('body checks: username, scopes shape, unknown scopes, unknown fields', async () => {
    const { a } = main;
    const cases = [
      [{}, [{ field: 'username', issue: 'required' }]],
      [{ username: 7 }, [{ field: 'username', issue: 'must_be_string' }]],
      [{ username: 'agent.one', scopes: 'agent:profile:read' },
        [{ field: 'scopes', issue: 'must_be_array_of_strings' }]],
      [{ username: 'agent.one', scopes: [] }, [{ field: 'scopes', issue: 'must_not_be_empty' }]],
      [{ username: 'agent.one', scopes: ['agent:profile:read', 3] },
        [{ field: 'scopes', issue: 'must_be_array_of_strings' }]],
      [{ username: 'agent.one', role: 'admin' }, [{ field: 'role', issue: 'unknown_field' }]],
    ];
    for (const [body, details] of cases) {
      const res = await mint(main.api, 'agent', a.secret, body);
      assertError(res, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
      assert.deepEqual(res.json.error.details, details, JSON.stringify(body));
    }
    const unknown = await mint(main.api, 'agent', a.secret, {
      username: 'agent.one', scopes: ['agent:profile:read', 'admin:tenant:read', 'agent:fly'],
    });
    assertError(unknown, 400, 'SERVER_SDK_SCOPE_INVALID');
    assert.deepEqual(unknown.json.error.details, [
      { field: 'scopes[1]', issue: 'unknown_scope' }, { field: 'scopes[2]', issue: 'unknown_scope' }]);
    const adminUnknown = await mint(main.api, 'admin', a.secret, {
      username: 'admin.one', scopes: ['agent:profile:read'],
    });
    assertError(adminUnknown, 400, 'SERVER_SDK_SCOPE_INVALID');
    const ttl = await mint(main.api, 'admin', a.secret, { username: 'admin.one', expiresIn: 30 });
    assertError(ttl, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
  });

  it('a key without the minting scope is 403 naming the scope', async () => {
    const { a } = main;
    const narrow = await main.dep.createKey(a.tenant.slug, { scopes: ['server:contacts:read'] });
    const cases = [
      ['visitor', { metadata: { a: 1 } }, 'server:visitor-context:write'],
      ['agent', { username: 'agent.one' }, 'server:agent-token:write'],
      ['admin', { username: 'admin.one' }, 'server:admin-token:write'],
    ];
    for (const [kind, body, scope] of cases) {
      const res = await mint(main.api, kind, narrow.secret, body);
      assertError(res, 403, 'SERVER_API_SCOPE_DENIED');
      assert.ok(res.json.error.message.includes(scope), res.json.error.message);
    }
    const agentOnly = await main.dep.createKey(a.tenant.slug, { scopes: ['server:agent-token:write'] });
    await mintOk(main.api, 'agent', agentOnly.secret, { username: 'agent.one' });
    assertError(await mint(main.api, 'admin', agentOnly.secret, { username: 'admin.one' }), 403,
      'SERVER_API_SCOPE_DENIED');
  });

  it('every mint is audited with the username or externalId, never the token', async () => {
    const { a } = main;
    const agent = await mintOk(main.api, 'agent', a.secret, { username: 'agent.one' });
    const visitor = await mintOk(main.api, 'visitor', a.secret, { visitor: { externalId: 'aud-9' } });
    const anon = await mintOk(main.api, 'visitor', a.secret, { visitor: { name: 'No Id' } });
    const admin = await mintOk(main.api, 'admin', a.secret, { username: 'admin.one' });
    const rows = await sql(main.dep, `SELECT action, actor, target, details, request_id FROM audit_log
      WHERE tenant_id = '${a.tenant.id}' AND action LIKE 'sdk_token.%' ORDER BY id`);
    const parsed = rows.map((r) => {
      const [action, actor, target, details, requestId] = r.split('|');
      return { action, actor, target, details: JSON.parse(details), requestId };
    });
    const find = (token) => parsed.find((p) => p.details.jti === decode(token).payload.jti);
    const ra = find(agent.token);
    assert.equal(ra.action, 'sdk_token.agent.created');
    assert.equal(ra.actor, a.key.id);
    assert.equal(ra.target, 'agent.one');
    assert.equal(ra.details.subject, a.agent.id);
    assert.equal(ra.details.scope, AGENT_READ.join(' '));
    assert.match(ra.requestId, /^req_/);
    const rv = find(visitor.contextToken);
    assert.equal(rv.action, 'sdk_token.visitor.created');
    assert.equal(rv.target, 'aud-9');
    const rn = find(anon.contextToken);
    assert.equal(rn.target, decode(anon.contextToken).payload.sub);
    const rd = find(admin.token);
    assert.equal(rd.action, 'sdk_token.admin.created');
    assert.equal(rd.target, 'admin.one');
    assert.equal(rd.details.subject, a.admin.id);
    for (const row of rows) {
      for (const token of minted) assert.ok(!row.includes(token.split('.')[2]), 'token in audit');
    }
  });
});

describe('SDK endpoints with bearer tokens', () => {
  let agentToken, adminToken;
  before(async () => {
    agentToken = (await mintOk(main.api, 'agent', main.a.secret, { username: 'agent.one' })).token;
    adminToken = (await mintOk(main.api, 'admin', main.a.secret, { username: 'admin.one' })).token;
  });

  it('GET /api/sdk/agent/me answers the agent of the token', async () => {
    const res = await main.api.get('/api/sdk/agent/me', { key: agentToken, expect: 200 });
    const { a } = main;
    assert.deepEqual(res.json, {
      id: a.agent.id, username: 'agent.one', displayName: 'Agent One', role: 'agent',
      tenant: { id: a.tenant.id, slug: a.tenant.slug, name: a.tenant.name },
      scopes: AGENT_READ,
      tokenExpiresAt: new Date(decode(agentToken).payload.exp * 1000).toISOString(),
    });
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  it('GET /api/sdk/admin/tenant answers the tenant of the token', async () => {
    const res = await main.api.get('/api/sdk/admin/tenant', { key: adminToken, expect: 200 });
    assert.deepEqual(res.json, main.a.tenant);
    const bAdmin = (await mintOk(main.api, 'admin', main.b.secret, { username: 'admin.one' })).token;
    const resB = await main.api.get('/api/sdk/admin/tenant', { key: bAdmin, expect: 200 });
    assert.equal(resB.json.id, main.b.tenant.id, 'a token of tenant B reads tenant B only');
  });

  it('missing and malformed credentials', async () => {
    const missing = [undefined, { Authorization: '' }, { Authorization: 'Bearer' },
      { Authorization: 'Bearer    ' }];
    for (const headers of missing) {
      assertError(await main.api.get('/api/sdk/agent/me', { headers }), 401, 'SDK_TOKEN_MISSING');
    }
    const invalid = [{ Authorization: 'Basic YTpi' }, { Authorization: 'Bearer not.a.token' },
      { Authorization: `Bearer ${main.a.secret}` }, { Authorization: `Token ${agentToken}` },
      { Authorization: `Bearer ${agentToken}x` }];
    for (const headers of invalid) {
      assertError(await main.api.get('/api/sdk/agent/me', { headers }), 401, 'SDK_TOKEN_INVALID');
    }
  });

  it('an agent token is never accepted where an admin or visitor token is required', async () => {
    assertError(await main.api.get('/api/sdk/admin/tenant', { key: agentToken }), 401,
      'SDK_TOKEN_INVALID');
    assertError(await main.api.get('/api/sdk/agent/me', { key: adminToken }), 401,
      'SDK_TOKEN_INVALID');
    const context = (await mintOk(main.api, 'visitor', main.a.secret, { metadata: { a: 1 } })).contextToken;
    assertError(await main.api.get('/api/sdk/agent/me', { key: context }), 401, 'SDK_TOKEN_INVALID');
    const session = await main.api.call('POST', '/api/sdk/visitor/session', {
      headers: { Origin: 'https://shop.example.test' },
      json: { slug: main.a.tenant.slug, contextToken: agentToken },
    });
    assertError(session, 401, 'SDK_CONTEXT_TOKEN_INVALID');
  });

  it('a token without the endpoint scope is 403 naming the scope', async () => {
    const narrowAgent = (await mintOk(main.api, 'agent', main.a.secret, {
      username: 'agent.one', scopes: ['agent:presence:read'],
    })).token;
    const res = await main.api.get('/api/sdk/agent/me', { key: narrowAgent });
    assertError(res, 403, 'SDK_SCOPE_DENIED');
    assert.ok(res.json.error.message.includes('agent:profile:read'), res.json.error.message);
    const narrowAdmin = (await mintOk(main.api, 'admin', main.a.secret, {
      username: 'admin.one', scopes: ['admin:readiness:read'],
    })).token;
    const res2 = await main.api.get('/api/sdk/admin/tenant', { key: narrowAdmin });
    assertError(res2, 403, 'SDK_SCOPE_DENIED');
    assert.ok(res2.json.error.message.includes('admin:tenant:read'));
  });

  it('disabled staff get no token, and their existing tokens stop working', async () => {
    const slug = main.a.tenant.slug;
    await main.dep.addStaff(slug, 'agent.two', 'agent');
    await main.dep.addStaff(slug, 'admin.two', 'admin');
    const agent = (await mintOk(main.api, 'agent', main.a.secret, { username: 'agent.two' })).token;
    const admin = (await mintOk(main.api, 'admin', main.a.secret, { username: 'admin.two' })).token;
    await main.api.get('/api/sdk/agent/me', { key: agent, expect: 200 });
    await main.api.get('/api/sdk/admin/tenant', { key: admin, expect: 200 });
    for (const username of ['agent.two', 'admin.two']) {
      await main.dep.cli(['staff', 'disable', '--tenant', slug, '--username', username]);
    }
    assertError(await main.api.get('/api/sdk/agent/me', { key: agent }), 401, 'SDK_TOKEN_INVALID');
    assertError(await main.api.get('/api/sdk/admin/tenant', { key: admin }), 401,
      'SDK_TOKEN_INVALID');
    assertError(await mint(main.api, 'agent', main.a.secret, { username: 'agent.two' }), 404,
      'SERVER_AGENT_NOT_FOUND');
    assertError(await mint(main.api, 'admin', main.a.secret, { username: 'admin.two' }), 404,
      'SERVER_ADMIN_NOT_FOUND');
    // jose alone still accepts the signature: only the server knows staff state.
    await joseVerify(main.node, agent, 'ringnity:agent');
  });

  it('CORS: the preflight answers any origin; bearer answers allow any origin', async () => {
    for (const path of ['/api/sdk/agent/me', '/api/sdk/admin/tenant', '/api/sdk/visitor/session']) {
      const res = await main.api.call('OPTIONS', path, {
        headers: { Origin: 'https://crm.example.net', 'Access-Control-Request-Method': 'GET' },
        expect: 204,
      });
      assert.equal(res.headers['access-control-allow-origin'], 'https://crm.example.net');
      assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
      assert.match(res.headers['access-control-allow-headers'], /Authorization/);
      assert.match(res.headers['access-control-allow-headers'], /Content-Type/);
      assert.equal(res.headers['access-control-max-age'], '600');
    }
    const denied = await main.api.get('/api/sdk/agent/me', {});
    assert.equal(denied.headers['access-control-allow-origin'], '*');
  });
});

describe('Tampered tokens', () => {
  let good, kid, parts;
  before(async () => {
    good = (await mintOk(main.api, 'agent', main.a.secret, { username: 'agent.one' })).token;
    parts = decode(good);
    kid = parts.header.kid;
    await main.api.get('/api/sdk/agent/me', { key: good, expect: 200 });
  });

  const refused = async (token, code = 'SDK_TOKEN_INVALID') =>
    assertError(await main.api.get('/api/sdk/agent/me', { key: token }), 401, code);

  it('payload edited, signature kept', async () => {
    const widened = { ...parts.payload, scope: `${parts.payload.scope} agent:calls:write` };
    await refused(`${parts.h}.${b64json(widened)}.${parts.s}`);
    const otherTenant = { ...parts.payload, tid: main.b.tenant.id };
    await refused(`${parts.h}.${b64json(otherTenant)}.${parts.s}`);
    const later = { ...parts.payload, exp: parts.payload.exp + 86400 };
    await refused(`${parts.h}.${b64json(later)}.${parts.s}`);
    // Header edited (typ dropped) with the signature kept.
    await refused(`${b64json({ alg: 'EdDSA', kid })}.${parts.p}.${parts.s}`);
  });

  it('signed by another key, under the real kid or an unknown kid', async () => {
    await refused(await foreignToken({ alg: 'EdDSA', kid, typ: 'JWT' }, parts.payload));
    await refused(await foreignToken({ alg: 'EdDSA', kid: 'sk_01zzzzzzzzzzzzzzzzzzzzzzzz' },
      parts.payload));
    await refused(await foreignToken({ alg: 'EdDSA', kid: 'some-other-kid' }, parts.payload));
    await refused(await foreignToken({ alg: 'EdDSA' }, parts.payload));
  });

  it('alg none and alg HS256 (keyed with the public key) are refused', async () => {
    await refused(`${b64json({ alg: 'none', kid, typ: 'JWT' })}.${parts.p}.`);
    await refused(`${b64json({ alg: 'none', kid })}.${parts.p}.${parts.s}`);
    const jwks = (await main.api.get('/.well-known/jwks.json', { expect: 200 })).json;
    const jwk = jwks.keys.find((k) => k.kid === kid);
    const secret = Buffer.from(jwk.x, 'base64url');
    const hs = await new jose.SignJWT(parts.payload)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(secret);
    await refused(hs);
    const hsText = await new jose.SignJWT(parts.payload)
      .setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(jwk.x));
    await refused(hsText);
  });

  it('an expired forged token is invalid, not expired (no oracle without a signature)', async () => {
    const past = { ...parts.payload, iat: parts.payload.iat - 7200, nbf: parts.payload.iat - 7200,
      exp: parts.payload.iat - 3600 };
    await refused(await foreignToken({ alg: 'EdDSA', kid }, past));
  });

  it('huge tokens are refused and the server keeps serving', async () => {
    await refused(`${parts.h}.${'A'.repeat(9000)}.${parts.s}`);
    await refused(`${parts.h}.${parts.p}.${parts.s}${'A'.repeat(20 * 1024)}`);
    // Beyond libmicrohttpd's header memory the request never reaches the
    // pipeline: 431 from the library, and the process carries on.
    const raw = await request(main.node.baseUrl, {
      path: '/api/sdk/agent/me', headers: { Authorization: `Bearer ${'A'.repeat(64 * 1024)}` },
    });
    assert.equal(raw.status, 431);
    await main.api.get('/api/sdk/agent/me', { key: good, expect: 200 });
  });

  it('refusals are logged with a reason, without the token', async () => {
    const lines = main.node.logLines().filter((l) => l.message === 'sdk token refused');
    assert.ok(lines.length >= 10, `only ${lines.length} refusal lines`);
    const reasons = new Set(lines.map((l) => l.reason));
    for (const reason of ['signature', 'algorithm', 'unknown kid', 'malformed', 'missing',
      'audience', 'scope']) {
      assert.ok(reasons.has(reason), `no refusal logged with reason ${reason}: ${[...reasons]}`);
    }
    for (const l of lines) {
      assert.match(l.requestId, /^req_/);
      assert.equal(l.clientIp, '127.0.0.1');
      assert.ok(!JSON.stringify(l).includes(parts.s));
    }
  });
});

describe('Widget domains and the visitor session', () => {
  const session = (slug, contextToken, origin) => main.api.call('POST', '/api/sdk/visitor/session', {
    headers: origin ? { Origin: origin } : {},
    json: { slug, contextToken },
  });
  let context;
  before(async () => {
    context = (await mintOk(main.api, 'visitor', main.a.secret, {
      visitor: { externalId: 'crm-100', name: 'Siti', email: 'siti@example.test' },
      metadata: { plan: 'gold', cart: 2 },
    })).contextToken;
  });

  it('tenant domains add / list / remove from the CLI, with checks', async () => {
    const slug = main.a.tenant.slug;
    const list = (await main.dep.cli(['tenant', 'domains', 'list', '--tenant', slug])).json;
    assert.deepEqual(list.map((d) => d.domain), ['*.example.org', 'shop.example.test']);
    for (const d of list) assert.match(d.createdAt, TIME_RE);
    const added = (await main.dep.cli(['tenant', 'domains', 'add', '--tenant', slug, '--domain',
      'Temp.Example.TEST'])).json;
    assert.equal(added.domain, 'temp.example.test');
    const dup = await main.dep.cli(['tenant', 'domains', 'add', '--tenant', slug, '--domain',
      'temp.example.test'], { allowFail: true });
    assert.equal(dup.code, 2, dup.stderr);
    for (const bad of ['https://x.example.test', 'x.example.test:8080', '*.com', 'a b']) {
      const res = await main.dep.cli(['tenant', 'domains', 'add', '--tenant', slug, '--domain', bad],
        { allowFail: true });
      assert.equal(res.code, 1, `${bad}: ${res.stderr}`);
      assert.ok(res.stderr.length > 0);
    }
    await main.dep.cli(['tenant', 'domains', 'remove', '--tenant', slug, '--domain',
      'temp.example.test']);
    const again = await main.dep.cli(['tenant', 'domains', 'remove', '--tenant', slug, '--domain',
      'temp.example.test'], { allowFail: true });
    assert.equal(again.code, 2);
    const unknownTenant = await main.dep.cli(['tenant', 'domains', 'list', '--tenant',
      `nope-${uniq()}`], { allowFail: true });
    assert.equal(unknownTenant.code, 2);
    const verb = await main.dep.cli(['tenant', 'domains', 'frobnicate'], { allowFail: true });
    assert.equal(verb.code, 1);
    const audit = await sql(main.dep, `SELECT action, target FROM audit_log
      WHERE tenant_id = '${main.a.tenant.id}' AND action LIKE 'widget_domain.%' ORDER BY id`);
    assert.ok(audit.includes('widget_domain.added|temp.example.test'));
    assert.ok(audit.includes('widget_domain.removed|temp.example.test'));
  });

  it('starts a session with the identity from the token; the same token resumes it', async () => {
    const origin = 'http://shop.example.test:8080';
    const res = await session(main.a.tenant.slug, context, origin);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.match(res.headers.vary, /Origin/);
    const { payload } = decode(context);
    assert.deepEqual(res.json, {
      sessionId: res.json.sessionId,
      tenant: { slug: main.a.tenant.slug, name: main.a.tenant.name },
      visitor: { id: payload.sub, externalId: 'crm-100', name: 'Siti', phone: null,
        email: 'siti@example.test' },
      metadata: { plan: 'gold', cart: 2 },
      expiresAt: new Date(payload.exp * 1000).toISOString(),
    });
    assert.match(res.json.sessionId, /^ses_[0-9a-z]{26}$/);
    const again = await session(main.a.tenant.slug, context, 'https://shop.example.test');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.sessionId, res.json.sessionId);
  });

  it('wildcard domains allow subdomains only', async () => {
    const token = (await mintOk(main.api, 'visitor', main.a.secret, { metadata: { w: 1 } })).contextToken;
    const sub = await session(main.a.tenant.slug, token, 'https://a.b.example.org');
    assert.equal(sub.status, 201, sub.text);
    assertError(await session(main.a.tenant.slug, token, 'https://example.org'), 403,
      'SDK_ORIGIN_NOT_ALLOWED');
    assertError(await session(main.a.tenant.slug, token, 'https://badexample.org'), 403,
      'SDK_ORIGIN_NOT_ALLOWED');
  });

  it('origin, tenant and token checks', async () => {
    const slug = main.a.tenant.slug;
    for (const origin of ['https://evil.example.test', 'https://shop.example.test.evil.test',
      'null', undefined, 'https://b-shop.example.test']) {
      const res = await session(slug, context, origin);
      assertError(res, 403, 'SDK_ORIGIN_NOT_ALLOWED');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    }
    assertError(await session(`nope-${uniq()}`, context, 'https://shop.example.test'), 404,
      'SDK_TENANT_NOT_FOUND');
    const bToken = (await mintOk(main.api, 'visitor', main.b.secret, { metadata: { t: 'b' } })).contextToken;
    assertError(await session(slug, bToken, 'https://shop.example.test'), 401,
      'SDK_CONTEXT_TOKEN_INVALID');
    const ok = await session(main.b.tenant.slug, bToken, 'https://b-shop.example.test');
    assert.equal(ok.status, 201, ok.text);
    const p = decode(context);
    const edited = { ...p.payload, ctx: { visitor: { externalId: 'someone-else' }, metadata: {} } };
    const tampered = await session(slug, `${p.h}.${b64json(edited)}.${p.s}`, 'https://shop.example.test');
    assertError(tampered, 401, 'SDK_CONTEXT_TOKEN_INVALID');
    assert.equal(tampered.headers['access-control-allow-origin'], 'https://shop.example.test');
    assertError(await session(slug, 'garbage', 'https://shop.example.test'), 401,
      'SDK_CONTEXT_TOKEN_INVALID');
  });

  it('body checks', async () => {
    const post = (json) => main.api.call('POST', '/api/sdk/visitor/session', {
      headers: { Origin: 'https://shop.example.test' }, json,
    });
    const missing = await post({ slug: main.a.tenant.slug });
    assertError(missing, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(missing.json.error.details, [{ field: 'contextToken', issue: 'required' }]);
    const extra = await post({ slug: main.a.tenant.slug, contextToken: context, visitor: {} });
    assertError(extra, 400, 'SERVER_REQUEST_VALIDATION_FAILED');
    assert.deepEqual(extra.json.error.details, [{ field: 'visitor', issue: 'unknown_field' }]);
    const types = await post({ slug: 5, contextToken: '' });
    assert.deepEqual(types.json.error.details, [{ field: 'slug', issue: 'must_be_string' },
      { field: 'contextToken', issue: 'must_not_be_empty' }]);
  });

  it('removing a domain closes it at once', async () => {
    const slug = main.a.tenant.slug;
    await main.dep.cli(['tenant', 'domains', 'add', '--tenant', slug, '--domain', 'gone.example.test']);
    const token = (await mintOk(main.api, 'visitor', main.a.secret, { metadata: { g: 1 } })).contextToken;
    assert.equal((await session(slug, token, 'https://gone.example.test')).status, 201);
    await main.dep.cli(['tenant', 'domains', 'remove', '--tenant', slug, '--domain',
      'gone.example.test']);
    assertError(await session(slug, token, 'https://gone.example.test'), 403,
      'SDK_ORIGIN_NOT_ALLOWED');
  });
});

describe('JWKS and signing-key rotation while serving (two nodes, one store)', () => {
  const ctx = {};
  before(async () => {
    ctx.dep = await Deployment.create('tokens-rotate');
    ctx.n1 = await ctx.dep.startNode();
    // Nodes behind one load balancer share one public URL, the tokens' issuer.
    const port = await freePort();
    ctx.n2 = new ServerNode(`http://127.0.0.1:${port}`, ctx.dep.env({
      RINGNITY_LISTEN: `127.0.0.1:${port}`,
      RINGNITY_PUBLIC_URL: ctx.n1.baseUrl,
      RINGNITY_DATA_DIR: `${ctx.dep.dataDir}-node2`,
    }), ctx.dep.dir);
    ctx.dep.nodes.push(ctx.n2);
    await ctx.n2.start();
    ctx.api1 = new Api(ctx.n1);
    ctx.api2 = new Api(ctx.n2);
    ctx.t = await ctx.dep.tenantWithKey();
    await ctx.dep.addStaff(ctx.t.tenant.slug, 'agent.one', 'agent');
  });
  after(async () => {
    if (ctx.dep) await ctx.dep.destroy();
  });

  const mintAgent = async (api) =>
    (await mintOk(api, 'agent', ctx.t.secret, { username: 'agent.one' })).token;

  it('no key exists before the first mint; the first mint creates one', async () => {
    const empty = await ctx.api1.get('/.well-known/jwks.json', { expect: 200 });
    assert.deepEqual(empty.json, { keys: [] });
    assert.deepEqual((await ctx.dep.cli(['signing-key', 'list'])).json, []);
    ctx.t1 = await mintAgent(ctx.api1);
    ctx.k1 = decode(ctx.t1).header.kid;
    const jwks = await ctx.api2.get('/.well-known/jwks.json', { expect: 200 });
    assert.equal(jwks.json.keys.length, 1);
    const [k] = jwks.json.keys;
    assert.deepEqual(sorted(Object.keys(k)), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(k.kid, ctx.k1);
    assert.equal(k.kty, 'OKP');
    assert.equal(k.crv, 'Ed25519');
    assert.equal(k.use, 'sig');
    assert.equal(k.alg, 'EdDSA');
    assert.match(jwks.headers['cache-control'], /max-age=60/);
    assert.equal(jwks.headers['access-control-allow-origin'], '*');
    const list = (await ctx.dep.cli(['signing-key', 'list'])).json;
    assert.equal(list.length, 1);
    assert.equal(list[0].kid, ctx.k1);
    assert.equal(list[0].status, 'current');
    assert.equal(list[0].retiredAt, null);
    // The private key is stored sealed (v1.<base64url>), never in the clear.
    const stored = await sql(ctx.dep, 'SELECT private_key FROM signing_keys');
    assert.match(stored[0], /^v1\.[A-Za-z0-9_-]+$/);
    // Node 2 verifies node 1's token (and so warms its key cache with k1).
    await ctx.api2.get('/api/sdk/agent/me', { key: ctx.t1, expect: 200 });
  });

  it('rotate: new tokens carry the new kid, old tokens keep verifying on both nodes', async () => {
    // Leave node 1's cache to go stale so that its next mint reads the store.
    await sleep(2200);
    await ctx.api2.get('/api/sdk/agent/me', { key: ctx.t1, expect: 200 });
    const warmedAt = Date.now();
    const rotated = (await ctx.dep.cli(['signing-key', 'rotate'])).json;
    assert.equal(rotated.retiredKid, ctx.k1);
    assert.match(rotated.kid, /^sk_[0-9a-z]{26}$/);
    assert.notEqual(rotated.kid, ctx.k1);
    const t2 = await mintAgent(ctx.api1);
    assert.equal(decode(t2).header.kid, rotated.kid);
    // Node 2 cached only k1 moments ago: it must fetch the new key itself.
    await ctx.api2.get('/api/sdk/agent/me', { key: t2, expect: 200 });
    assert.ok(Date.now() - warmedAt < 2000, 'node 2 accepted the new kid before its cache aged');
    for (const api of [ctx.api1, ctx.api2]) {
      await api.get('/api/sdk/agent/me', { key: ctx.t1, expect: 200 });
      await api.get('/api/sdk/agent/me', { key: t2, expect: 200 });
    }
    // Node 2 switches its minting to the new key within its cache lifetime.
    let kid2;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(200)) {
      kid2 = decode(await mintAgent(ctx.api2)).header.kid;
      if (kid2 === rotated.kid) break;
    }
    assert.equal(kid2, rotated.kid);
    const jwks = (await ctx.api1.get('/.well-known/jwks.json', { expect: 200 })).json;
    assert.deepEqual(jwks.keys.map((k) => k.kid), [rotated.kid, ctx.k1]);
    await joseVerify(ctx.n1, ctx.t1, 'ringnity:agent');
    await joseVerify(ctx.n2, t2, 'ringnity:agent', ctx.n1.baseUrl);
    const list = (await ctx.dep.cli(['signing-key', 'list'])).json;
    assert.deepEqual(list.map((k) => [k.kid, k.status]),
      [[rotated.kid, 'current'], [ctx.k1, 'retired']]);
    assert.equal(Date.parse(list[1].verifiesUntil) - Date.parse(list[1].retiredAt), 3660 * 1000);
    assert.equal(list[0].verifiesUntil, null);
    const sealed = await sql(ctx.dep, 'SELECT COUNT(*) FROM signing_keys WHERE private_key IS NULL');
    assert.equal(sealed[0], '1', 'the retired key has no private key any more');
  });

  it('a retired key leaves the JWKS and stops verifying after its grace period', async () => {
    const old = Date.now() - (3660 + 5) * 1000;
    await sql(ctx.dep, `UPDATE signing_keys SET retired_at = ${old} WHERE kid = '${ctx.k1}'`);
    await sleep(2200); // both nodes' caches go stale
    for (const api of [ctx.api1, ctx.api2]) {
      const jwks = (await api.get('/.well-known/jwks.json', { expect: 200 })).json;
      assert.deepEqual(jwks.keys.map((k) => k.kid).includes(ctx.k1), false);
      assertError(await api.get('/api/sdk/agent/me', { key: ctx.t1 }), 401, 'SDK_TOKEN_INVALID');
    }
    const list = (await ctx.dep.cli(['signing-key', 'list'])).json;
    assert.equal(list.find((k) => k.kid === ctx.k1).status, 'expired');
  });
});

describe('Expiry (the 60-second tokens minted first)', () => {
  it('valid until exp, rejected from exp on: expired by one second is refused', async () => {
    const { agent, context } = main.early;
    const exp = decode(agent.token).payload.exp;
    const cexp = decode(context.contextToken).payload.exp;
    const until = (ms) => sleep(Math.max(0, ms - Date.now()));
    await until(exp * 1000 - 2500);
    await main.api.get('/api/sdk/agent/me', { key: agent.token, expect: 200 });
    const live = await main.api.call('POST', '/api/sdk/visitor/session', {
      headers: { Origin: 'https://shop.example.test' },
      json: { slug: main.a.tenant.slug, contextToken: context.contextToken },
    });
    assert.equal(live.status, 201, live.text);
    await until(Math.max(exp, cexp) * 1000 + 1000 + 50);
    assertError(await main.api.get('/api/sdk/agent/me', { key: agent.token }), 401,
      'SDK_TOKEN_EXPIRED');
    const dead = await main.api.call('POST', '/api/sdk/visitor/session', {
      headers: { Origin: 'https://shop.example.test' },
      json: { slug: main.a.tenant.slug, contextToken: context.contextToken },
    });
    assertError(dead, 401, 'SDK_CONTEXT_TOKEN_INVALID');
    await assert.rejects(joseVerify(main.node, agent.token, 'ringnity:agent'),
      { code: 'ERR_JWT_EXPIRED' });
    const lines = main.node.logLines().filter((l) => l.message === 'sdk token refused');
    assert.ok(lines.some((l) => l.code === 'SDK_TOKEN_EXPIRED' && l.reason === 'expired'));
  });
});

