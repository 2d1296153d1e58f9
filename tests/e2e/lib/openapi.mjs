// Checks HTTP responses against api/openapi.yaml.
//
// For a request (method + concrete path) this finds the documented operation,
// requires the response status to be documented for it, the content type to
// be one the document lists, the body to match that media type's JSON Schema
// (OpenAPI 3.1 = JSON Schema 2020-12, validated with Ajv), and every header
// the document marks `required: true` to be present and well-formed.
//
// Paths the document does not have must answer 404 SERVER_ROUTE_NOT_FOUND and
// methods a documented path lacks must answer 405 SERVER_METHOD_NOT_ALLOWED
// with Allow; both bodies must match components/schemas/Error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../../..');
export const OPENAPI_PATH = path.join(REPO_ROOT, 'api/openapi.yaml');
const DOC_ID = 'https://ringnity.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

export class ContractError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Parses api/openapi.yaml (YAML 1.2 core schema, as the server must). */
export function loadDocument(file = OPENAPI_PATH) {
  return YAML.parse(readFileSync(file, 'utf8'));
}

export class OpenApi {
  constructor(doc = loadDocument()) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
    this.validators = new Map();
    this.routes = buildRoutes(doc);
  }

  /** The documented path template matching a concrete path, or null. */
  matchPath(concretePath) {
    const pathname = concretePath.split('?')[0];
    const hit = this.routes.find((r) => r.re.test(pathname));
    return hit ? hit.template : null;
  }

  /** Throws ContractError unless `res` is what the document allows. */
  check(method, concretePath, res) {
    const where = `${method.toUpperCase()} ${concretePath} -> ${res.status}`;
    requireRequestId(where, res);
    const template = this.matchPath(concretePath);
    if (template === null) return this.checkUndocumentedPath(where, res);
    const op = this.doc.paths[template][method.toLowerCase()];
    if (!op) return this.checkUndocumentedMethod(where, template, res);
    return this.checkOperation(where, template, method.toLowerCase(), op, res);
  }

  checkUndocumentedPath(where, res) {
    if (res.status !== 404) {
      fail(where, `path is not in api/openapi.yaml, so only 404 is allowed`, res);
    }
    this.checkGenericError(where, res, 'SERVER_ROUTE_NOT_FOUND');
  }

  checkUndocumentedMethod(where, template, res) {
    if (res.status !== 405) {
      fail(where, `method is not documented for ${template}, so only 405 is allowed`, res);
    }
    this.checkGenericError(where, res, 'SERVER_METHOD_NOT_ALLOWED');
    if (!res.headers.allow) fail(where, '405 without an Allow header', res);
    const allowed = res.headers.allow.split(',').map((m) => m.trim().toLowerCase());
    const documented = METHODS.filter((m) => this.doc.paths[template][m]);
    for (const m of documented) {
      if (!allowed.includes(m)) fail(where, `Allow lacks documented method ${m}`, res);
    }
  }

  checkGenericError(where, res, code) {
    if (res.contentType !== 'application/json') {
      fail(where, `content type ${res.contentType || '(none)'} instead of application/json`, res);
    }
    this.validateBody(where, '#/components/schemas/Error', res);
    if (res.json.error.code !== code) fail(where, `error code is not ${code}`, res);
  }

  checkOperation(where, template, method, op, res) {
    const response = this.resolve(op.responses?.[String(res.status)]
      ?? op.responses?.[`${String(res.status)[0]}XX`]
      ?? op.responses?.default);
    if (!response) fail(where, `status ${res.status} is not documented for ${template}`, res);
    this.checkHeaders(where, response, res);
    const content = response.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      if (res.text.length !== 0) fail(where, 'documented without a body but one was sent', res);
      return;
    }
    const mediaType = types.find((t) => t.toLowerCase() === res.contentType);
    if (!mediaType) {
      fail(where, `content type ${res.contentType || '(none)'} is not one of ${types}`, res);
    }
    if (!content[mediaType].schema) return;
    const pointer = responsePointer(template, method, op, String(res.status), mediaType, this);
    this.validateBody(where, pointer, res, mediaType);
  }

  checkHeaders(where, response, res) {
    for (const [name, raw] of Object.entries(response.headers ?? {})) {
      const header = this.resolve(raw);
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) fail(where, `required header ${name} is missing`, res);
        continue;
      }
      const schema = this.resolve(header.schema ?? {});
      checkHeaderValue(where, name, value, schema, res);
    }
  }

  validateBody(where, pointer, res, mediaType = 'application/json') {
    const isJson = mediaType === 'application/json' || mediaType.endsWith('+json');
    let body = res.text;
    if (isJson) {
      if (res.json === undefined) fail(where, 'body is not valid JSON', res);
      body = res.json;
    }
    const validate = this.validator(pointer);
    if (!validate(body)) {
      const errs = validate.errors
        .map((e) => `${e.instancePath || '/'} ${e.message}` +
          (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''))
        .join('; ');
      fail(where, `body does not match ${pointer}: ${errs}`, res);
    }
  }

  validator(pointer) {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /** Follows a local $ref (responses, headers, parameters) to its target. */
  resolve(node) {
    let cur = node;
    for (let hops = 0; cur && cur.$ref; hops += 1) {
      if (hops > 10) throw new ContractError(`$ref loop at ${node.$ref}`);
      cur = getPointer(this.doc, cur.$ref);
    }
    return cur;
  }
}

function buildRoutes(doc) {
  const routes = Object.keys(doc.paths ?? {}).map((template) => {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const re = new RegExp('^' + template.split(/\{[^}]+\}/).map(escapeRe).join('([^/]+)') + '$');
    return { template, re, params };
  });
  // Literal paths win over templated ones (/webhooks/deliveries before /webhooks/{id}).
  routes.sort((a, b) => a.params - b.params);
  return routes;
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function escapePointer(s) {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function getPointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new ContractError(`only local $ref supported: ${ref}`);
  return ref.slice(2).split('/').reduce((node, part) => {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === undefined || !(key in node)) throw new ContractError(`dangling $ref ${ref}`);
    return node[key];
  }, doc);
}

// JSON pointer to the schema of one response, following a response-level $ref
// so that Ajv compiles the schema in place (its own $refs stay resolvable).
function responsePointer(template, method, op, status, mediaType, api) {
  const key = op.responses[status] ? status
    : op.responses[`${status[0]}XX`] ? `${status[0]}XX` : 'default';
  let base = `#/paths/${escapePointer(template)}/${method}/responses/${key}`;
  let node = op.responses[key];
  while (node.$ref) {
    base = node.$ref;
    node = getPointer(api.doc, node.$ref);
  }
  return `${base}/content/${escapePointer(mediaType)}/schema`;
}

function checkHeaderValue(where, name, value, schema, res) {
  if (schema.type === 'integer') {
    if (!/^(0|[1-9][0-9]*)$/.test(value)) fail(where, `header ${name}: "${value}" is not an integer`, res);
    const n = Number(value);
    if (schema.minimum !== undefined && n < schema.minimum) {
      fail(where, `header ${name}: ${n} < minimum ${schema.minimum}`, res);
    }
    return;
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    fail(where, `header ${name} is shorter than ${schema.minLength}`, res);
  }
  if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) {
    fail(where, `header ${name}: "${value}" does not match ${schema.pattern}`, res);
  }
}

function requireRequestId(where, res) {
  const id = res.headers['x-request-id'];
  if (!id || !REQUEST_ID_RE.test(id)) fail(where, `X-Request-Id missing or malformed: ${id}`, res);
}

function fail(where, why, res) {
  const body = res.text.length > 600 ? `${res.text.slice(0, 600)}…` : res.text;
  throw new ContractError(`${where}: ${why}\n  headers: ${JSON.stringify(res.headers)}\n  body: ${body}`);
}
