// Real `ringnity` processes for the end-to-end tests.
//
// A Deployment is one store plus one master key: a fresh SQLite file in a temp
// dir, or (when E2E_DATABASE_URL is a postgres:// superuser URL) a fresh
// database created in that cluster for this deployment alone, dropped at the
// end. Every test file makes its own deployments, so files never share data.
//
// A deployment runs any number of `ringnity serve` nodes (each on its own free
// loopback port) and the CLI, all with the same environment. Stopping a node
// sends SIGTERM to its pid and requires a clean exit 0.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './openapi.mjs';
import { request } from './http.mjs';

export const BIN = process.env.RINGNITY_BIN
  ? path.resolve(process.env.RINGNITY_BIN)
  : path.join(REPO_ROOT, 'build/ringnity');
export const PG_URL = process.env.E2E_DATABASE_URL ?? '';
export const IS_PG = /^postgres(ql)?:\/\//.test(PG_URL);
const KEEP = process.env.E2E_KEEP === '1';
const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 10000;
const CLI_TIMEOUT_MS = 30000;

export const ALL_SCOPES = [
  'server:visitor-context:write',
  'server:agent-token:write',
  'server:admin-token:write',
  'server:reports:read',
  'server:contacts:read',
  'server:contacts:write',
  'server:webhooks:read',
  'server:webhooks:write',
];

/** A short random lower-case suffix for slugs and names. */
export function uniq(n = 8) {
  return randomBytes(n).toString('hex').slice(0, n);
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Deployment {
  /** Creates the temp dir, the store and the master key. */
  static async create(label = 'e2e') {
    const dep = new Deployment(label);
    await dep.createStore();
    return dep;
  }

  constructor(label) {
    this.label = label;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `rn-e2e-${label}-`));
    this.dataDir = path.join(this.dir, 'var');
    mkdirSync(this.dataDir);
    this.masterKey = randomBytes(32).toString('hex');
    this.nodes = [];
    this.secrets = new Set();
    this.pgDatabase = null;
    this.databaseUrl = path.join(this.dir, 'ringnity.db');
  }

  async createStore() {
    if (!IS_PG) return;
    this.pgDatabase = `rn_e2e_${this.label.replace(/[^a-z0-9]/g, '_')}_${uniq(10)}`;
    await psql(PG_URL, `CREATE DATABASE ${this.pgDatabase}`);
    const url = new URL(PG_URL);
    url.pathname = `/${this.pgDatabase}`;
    this.databaseUrl = url.toString();
  }

  /** The environment every ringnity process of this deployment gets. */
  env(extra = {}) {
    const base = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('RINGNITY_')) base[k] = v;
    }
    return {
      ...base,
      RINGNITY_DATABASE_URL: this.databaseUrl,
      RINGNITY_MASTER_KEY: this.masterKey,
      RINGNITY_DATA_DIR: this.dataDir,
      RINGNITY_LOG_LEVEL: 'info',
      ...extra,
    };
  }

  /** Starts one `ringnity serve` node and waits until /healthz answers 200. */
  async startNode({ ownDataDir = false } = {}) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    let dataDir = this.dataDir;
    if (ownDataDir) {
      dataDir = path.join(this.dir, `var-${this.nodes.length}`);
      mkdirSync(dataDir);
    }
    const env = this.env({
      RINGNITY_LISTEN: `127.0.0.1:${port}`,
      RINGNITY_PUBLIC_URL: baseUrl,
      RINGNITY_DATA_DIR: dataDir,
    });
    const node = new ServerNode(baseUrl, env, this.dir);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /**
   * Runs `ringnity ARGS... --json`. Resolves { code, stdout, stderr, json }.
   * Rejects on a non-zero exit unless allowFail is set.
   */
  async cli(args, { json = true, allowFail = false } = {}) {
    const argv = json ? [...args, '--json'] : args;
    const res = await runCli(argv, this.env());
    if (res.code !== 0 && !allowFail) {
      throw new Error(`ringnity ${argv.join(' ')} exited ${res.code}\n${res.stderr}${res.stdout}`);
    }
    if (res.code === 0 && json && res.stdout.trim() !== '') {
      try {
        res.json = JSON.parse(res.stdout);
      } catch (err) {
        throw new Error(`ringnity ${argv.join(' ')}: stdout is not JSON: ${res.stdout}`);
      }
    }
    return res;
  }

  async createTenant({ slug = `t-${uniq()}`, name, timezone, country } = {}) {
    const args = ['tenant', 'create', '--slug', slug, '--name', name ?? `Tenant ${slug}`];
    if (timezone) args.push('--timezone', timezone);
    if (country) args.push('--country', country);
    return (await this.cli(args)).json;
  }

  async addStaff(slug, username, role = 'agent', displayName) {
    const args = ['staff', 'add', '--tenant', slug, '--username', username, '--role', role];
    if (displayName) args.push('--display-name', displayName);
    return (await this.cli(args)).json;
  }

  /** `key create`; remembers the secret so logs can be checked for it. */
  async createKey(slug, { scopes = 'all', name = `key-${uniq(6)}`, rateLimit, burst } = {}) {
    const list = Array.isArray(scopes) ? scopes.join(',') : scopes;
    const args = ['key', 'create', '--tenant', slug, '--name', name, '--scopes', list];
    if (rateLimit !== undefined) args.push('--rate-limit', String(rateLimit));
    if (burst !== undefined) args.push('--burst', String(burst));
    const key = (await this.cli(args)).json;
    if (key.secret) this.secrets.add(key.secret);
    return key;
  }

  async rotateKey(slug, id) {
    const key = (await this.cli(['key', 'rotate', '--tenant', slug, '--id', id])).json;
    if (key.secret) this.secrets.add(key.secret);
    return key;
  }

  async revokeKey(slug, id) {
    return (await this.cli(['key', 'revoke', '--tenant', slug, '--id', id])).json;
  }

  async listKeys(slug) {
    return (await this.cli(['key', 'list', '--tenant', slug])).json;
  }

  /** A new tenant with a key holding every scope: { tenant, key, secret }. */
  async tenantWithKey(opts = {}) {
    const tenant = await this.createTenant(opts);
    const key = await this.createKey(tenant.slug, { scopes: 'all', ...(opts.key ?? {}) });
    return { tenant, key, secret: key.secret };
  }

  /** Drops this deployment's PostgreSQL database now (a store outage). */
  async dropDatabase() {
    if (!this.pgDatabase) throw new Error('dropDatabase needs E2E_DATABASE_URL=postgres://...');
    await psql(PG_URL, `DROP DATABASE ${this.pgDatabase} WITH (FORCE)`);
  }

  /** Stops every node (each must exit 0), drops the database, removes files. */
  async destroy() {
    const errors = [];
    for (const node of this.nodes) {
      try {
        await node.stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.pgDatabase) {
      await psql(PG_URL, `DROP DATABASE IF EXISTS ${this.pgDatabase} WITH (FORCE)`).catch((e) =>
        errors.push(e));
    }
    if (!KEEP) rmSync(this.dir, { recursive: true, force: true });
    if (errors.length) throw errors[0];
  }
}

export class ServerNode {
  constructor(baseUrl, env, dir) {
    this.baseUrl = baseUrl;
    this.env = env;
    this.dir = dir;
    this.proc = null;
    this.stderr = '';
    this.stdout = '';
    this.exit = null;
  }

  async start() {
    this.proc = spawn(BIN, ['serve'], { env: this.env, cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8').on('data', (d) => { this.stdout += d; });
    this.proc.stderr.setEncoding('utf8').on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on('error', (err) => {
        this.exit = { code: null, signal: null, error: err };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`ringnity serve exited early ${JSON.stringify(this.exit)}\n${this.tail()}`);
      const res = await request(this.baseUrl, { path: '/healthz', timeoutMs: 1000 }).catch(() => null);
      if (res && res.status === 200) return;
      await sleep(50);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`ringnity serve did not answer /healthz within ${START_TIMEOUT_MS} ms\n${this.tail()}`);
  }

  /** SIGTERM by pid; resolves when the process exited 0, else throws. */
  async stop() {
    if (!this.proc || this.stopped) return this.exit;
    this.stopped = true;
    if (!this.exit) process.kill(this.proc.pid, 'SIGTERM');
    const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
    const outcome = await Promise.race([this.exited, timer]);
    if (outcome === 'timeout') {
      process.kill(this.proc.pid, 'SIGKILL');
      throw new Error(`ringnity serve ignored SIGTERM for ${STOP_TIMEOUT_MS} ms\n${this.tail()}`);
    }
    if (outcome.code !== 0) {
      throw new Error(`ringnity serve exited ${JSON.stringify(outcome)} after SIGTERM\n${this.tail()}`);
    }
    return outcome;
  }

  /** The server's stderr as parsed JSON log lines (non-JSON lines throw). */
  logLines() {
    return this.stderr.split('\n').filter((l) => l.trim() !== '').map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`log line is not JSON: ${l}`);
      }
    });
  }

  tail(n = 30) {
    return this.stderr.split('\n').slice(-n).join('\n');
  }
}

function runCli(argv, env) {
  return new Promise((resolve) => {
    execFile(BIN, argv, { env, timeout: CLI_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      let code = 0;
      if (err) code = typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function psql(url, sql) {
  return new Promise((resolve, reject) => {
    execFile('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 30000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`psql ${sql}: ${stderr || err.message}`));
        else resolve(stdout);
      });
  });
}
