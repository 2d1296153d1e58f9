// Type declarations for @ringnity/server-api (hand-written; the runtime is
// plain ESM JavaScript in src/). Shapes follow api/openapi.yaml.

// ---------------------------------------------------------------- config

export interface RingnityServerApiConfig {
  /** Server base URL, e.g. https://api.ringnity.com. Default: env RINGNITY_API_BASE_URL. */
  baseUrl?: string;
  /** Server API key rn_sk_live_…. Default: env RINGNITY_SERVER_API_KEY. */
  apiKey?: string;
  /** Timeout of one attempt (request and body) in ms. Default 30000. */
  timeoutMs?: number;
  /** Retries after the first attempt (see README: retry policy). Default 2. */
  maxRetries?: number;
  /** A fetch implementation. Default: the global fetch. */
  fetch?: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /** Allow plain http to a host that is not loopback. Default false. */
  allowInsecureHttp?: boolean;
}

/** Per-call options, accepted as the last argument of every method. */
export interface RequestOptions {
  /** Idempotency-Key of a POST; default: a fresh UUID per call, reused by its retries. */
  idempotencyKey?: string;
  /** Aborts the call (and its retries); rejects with code CLIENT_ABORTED. */
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
  /** Sent as X-Request-Id (1–128 of A-Z a-z 0-9 . _ -); echoed by the server. */
  requestId?: string;
}

// ---------------------------------------------------------------- errors

export type ClientErrorCode =
  | 'CLIENT_TIMEOUT'
  | 'CLIENT_NETWORK_ERROR'
  | 'CLIENT_ABORTED'
  | 'CLIENT_UNEXPECTED_RESPONSE';

export type ServerErrorCode =
  | 'SERVER_API_KEY_MISSING'
  | 'SERVER_API_KEY_INVALID'
  | 'SERVER_API_SCOPE_DENIED'
  | 'SERVER_API_RATE_LIMITED'
  | 'SERVER_REQUEST_INVALID_JSON'
  | 'SERVER_REQUEST_VALIDATION_FAILED'
  | 'SERVER_ROUTE_NOT_FOUND'
  | 'SERVER_METHOD_NOT_ALLOWED'
  | 'SERVER_REQUEST_TOO_LARGE'
  | 'SERVER_UNSUPPORTED_MEDIA_TYPE'
  | 'SERVER_IDEMPOTENCY_KEY_REUSED'
  | 'SERVER_INTERNAL_ERROR'
  | 'SERVER_UNAVAILABLE'
  | 'SERVER_VISITOR_CONTEXT_EMPTY'
  | 'SERVER_VISITOR_CONTEXT_TOO_LARGE'
  | 'SERVER_AGENT_NOT_FOUND'
  | 'SERVER_ADMIN_NOT_FOUND'
  | 'SERVER_ADMIN_ROLE_REQUIRED'
  | 'SERVER_SDK_SCOPE_INVALID'
  | 'SERVER_CONTACT_VALIDATION_FAILED'
  | 'SERVER_CONTACT_NOT_FOUND'
  | 'SERVER_CONTACT_CONFLICT'
  | 'SERVER_REPORT_PERIOD_INVALID'
  | 'SERVER_REPORT_FORMAT_INVALID'
  | 'SERVER_WEBHOOK_NOT_FOUND'
  | 'SERVER_WEBHOOK_URL_INVALID'
  | 'SERVER_WEBHOOK_EVENT_INVALID';

export interface ErrorDetail {
  field?: string;
  issue?: string;
  [key: string]: unknown;
}

/** The one error a request rejects with. Its text never contains the server key. */
export class RingnityApiError extends Error {
  readonly name: 'RingnityApiError';
  /** HTTP status; 0 when no answer arrived (timeout, network, abort). */
  readonly status: number;
  /** The server's error code, or a CLIENT_* code for failures on this side. */
  readonly code: ServerErrorCode | ClientErrorCode | (string & {});
  readonly message: string;
  /** The server's request id (X-Request-Id), null when no answer arrived. */
  readonly requestId: string | null;
  readonly details: ErrorDetail[];
  readonly method: string | null;
  /** The request path, e.g. /api/server/contacts/ct_…; no query string. */
  readonly path: string | null;
  /** Attempts made, the first included. */
  readonly attempts: number;
  /** Retry-After of the last answer in seconds, or null. */
  readonly retryAfter: number | null;
  toJSON(): Record<string, unknown>;
}

// ---------------------------------------------------------------- common

/** RFC 3339 UTC with milliseconds, e.g. 2026-12-03T07:15:00.000Z. */
export type Timestamp = string;
/** YYYY-MM-DD. */
export type DateString = string;

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface PageParams {
  /** 1–100, default 25. */
  limit?: number;
  cursor?: string;
}

export interface DeleteResult {
  id: string;
  /** false when the server answered that the resource does not exist. */
  deleted: boolean;
}

// ---------------------------------------------------------------- system, account

export interface Health {
  status: 'ok';
  tenantId: string;
  keyId: string;
  serverTime: Timestamp;
  version: string;
}

export interface Tenant {
  id: string;
  clientId: string;
  slug: string;
  name: string;
  timezone: string;
  country: string;
  status: 'active' | 'suspended';
  createdAt: Timestamp;
}

export interface SdkReadinessCheck {
  name: 'widget_key' | 'allowed_domains' | 'active_agent' | (string & {});
  ok: boolean;
  hint: string | null;
}

export interface SdkReadiness {
  ready: boolean;
  checks: SdkReadinessCheck[];
  services: { chat: boolean; calls: boolean; ai: boolean };
}

// ---------------------------------------------------------------- tokens

export type AgentScope =
  | 'agent:profile:read'
  | 'agent:presence:read'
  | 'agent:presence:write'
  | 'agent:conversations:read'
  | 'agent:conversations:write'
  | 'agent:messages:read'
  | 'agent:messages:write'
  | 'agent:media:delete'
  | 'agent:calls:read'
  | 'agent:calls:write';

export type AdminScope =
  | 'admin:tenant:read'
  | 'admin:readiness:read'
  | 'admin:domains:read'
  | 'admin:services:read'
  | 'admin:subscription:read'
  | 'admin:ai-readiness:read'
  | 'admin:staff-summary:read'
  | 'admin:reports:export'
  | 'admin:ai-knowledge:write';

export interface VisitorIdentity {
  externalId?: string;
  name?: string;
  phone?: string;
  email?: string;
}

export interface VisitorContextRequest {
  visitor?: VisitorIdentity;
  /** Flat: string, number, boolean or null values only. */
  metadata?: Record<string, string | number | boolean | null>;
  /** Seconds, 60–3600, default 900. */
  expiresIn?: number;
}

export interface VisitorContextToken {
  contextToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  expiresAt: Timestamp;
}

export interface StaffTokenRequest<S extends string> {
  username: string;
  /** Omitted: the read scopes. */
  scopes?: S[];
  /** Seconds, 60–3600, default 900. */
  expiresIn?: number;
}

export type AgentTokenRequest = StaffTokenRequest<AgentScope>;
export type AdminTokenRequest = StaffTokenRequest<AdminScope>;

export interface TokenActor {
  id: string;
  username: string;
  displayName: string;
  role: 'agent' | 'admin';
}

export interface AgentToken {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
  expiresAt: Timestamp;
  scopes: AgentScope[];
  agent: TokenActor;
}

export interface AdminToken {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
  expiresAt: Timestamp;
  scopes: AdminScope[];
  admin: TokenActor;
}

// ---------------------------------------------------------------- contacts

export interface Contact {
  id: string;
  externalId: string | null;
  name: string | null;
  /** E.164, e.g. +628123456789. */
  phone: string | null;
  email: string | null;
  company: string | null;
  tags: string[];
  notes: string | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** Create, or update the contact holding this externalId. */
export interface ContactInput {
  externalId?: string | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  company?: string | null;
  tags?: string[];
  notes?: string | null;
}

/** Only the fields sent change; null clears a field. */
export type ContactPatch = ContactInput;

export interface ContactListParams extends PageParams {
  /** Case-insensitive substring of name, email, company, externalId or phone digits. */
  search?: string;
}

// ---------------------------------------------------------------- reports

export type ReportPeriodName = 'today' | '7days' | '30days' | '90days' | 'custom';

export interface ReportParams {
  /** Default '30days'. */
  period?: ReportPeriodName;
  /** With period 'custom': first day, inclusive. */
  from?: DateString;
  /** With period 'custom': last day, inclusive (at most 366 days). */
  to?: DateString;
}

/** The figures of a day or a whole period. */
export interface ReportSummary {
  conversations: number;
  conversationsResolved: number;
  messagesInbound: number;
  messagesOutbound: number;
  avgFirstResponseSeconds: number | null;
  avgResolutionSeconds: number | null;
  calls: number;
  callsAnswered: number;
  callsMissed: number;
  avgTalkSeconds: number | null;
  contactsCreated: number;
  ticketsCreated: number;
  ticketsResolved: number;
}

export interface ReportPeriod {
  name: ReportPeriodName;
  from: DateString;
  to: DateString;
  timezone: string;
}

/** One local day of the period: its date and that day's figures. */
export interface TimeseriesRow extends ReportSummary {
  date: DateString;
}

/** One agent (or admin) over the period. */
export interface ProductivityRow {
  agentId: string;
  username: string;
  displayName: string;
  conversationsHandled: number;
  conversationsResolved: number;
  messagesSent: number;
  avgFirstResponseSeconds: number | null;
  callsHandled: number;
  talkSeconds: number;
  onlineSeconds: number;
}

interface ReportEnvelope {
  tenantId: string;
  period: ReportPeriod;
  generatedAt: Timestamp;
}

export interface SummaryReport extends ReportEnvelope {
  summary: ReportSummary;
}

export interface TimeseriesReport extends ReportEnvelope {
  /** One row per local day, oldest first; days without activity are zeros. */
  data: TimeseriesRow[];
}

export interface ProductivityReport extends ReportEnvelope {
  /** One row per agent, sorted by username. */
  data: ProductivityRow[];
}

export interface ReportExport extends ReportEnvelope {
  summary: ReportSummary;
  timeseries: TimeseriesRow[];
  productivity: ProductivityRow[];
}

export type ReportDataset = 'timeseries' | 'productivity' | 'summary';

export interface ReportExportParams extends ReportParams {
  /** Default 'json'. */
  format?: 'json' | 'csv';
  /** CSV only: which table. Default 'timeseries'. */
  dataset?: ReportDataset;
}

// ---------------------------------------------------------------- webhooks

export type WebhookEventType =
  | 'conversation.created'
  | 'conversation.message.received'
  | 'conversation.closed'
  | 'ticket.created'
  | 'ticket.updated'
  | 'contact.created'
  | 'contact.updated'
  | 'contact.deleted'
  | 'agent.presence.changed'
  | 'call.started'
  | 'call.ended';

export interface Webhook {
  id: string;
  name: string;
  url: string;
  /** Event types, or ['*'] for all. */
  events: Array<WebhookEventType | '*'>;
  enabled: boolean;
  /** Why the destination is disabled; null while enabled. */
  disabledReason: string | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** The create answer: the only time a secret is returned. */
export interface WebhookCreated extends Webhook {
  /** Present only when the server generated the secret (whsec_…): store it now. */
  secret?: string;
}

export interface WebhookCreateRequest {
  name?: string;
  url: string;
  events: Array<WebhookEventType | '*'>;
  /**
   * 16–128 printable ASCII characters. Omitted: the server generates a
   * whsec_… secret and returns it once.
   */
  secret?: string;
  enabled?: boolean;
}

export interface WebhookUpdateRequest {
  name?: string;
  url?: string;
  events?: Array<WebhookEventType | '*'>;
  enabled?: boolean;
  /** A new signing secret. */
  secret?: string;
  /** Seconds the old secret keeps signing next to the new one (0–86400). */
  secretGraceSeconds?: number;
}

export interface WebhookTestRequest {
  webhookId: string;
  event: WebhookEventType;
}

export type DeliveryStatus = 'succeeded' | 'failed' | 'pending';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  event: WebhookEventType;
  attempt: number;
  status: DeliveryStatus;
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  createdAt: Timestamp;
  nextAttemptAt: Timestamp | null;
  /** What caused the attempt. */
  trigger: 'automatic' | 'test' | 'redeliver';
}

export interface DeliveryListParams extends PageParams {
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus;
}

export interface WebhookEventTypeInfo {
  type: WebhookEventType;
  description: string;
}

/** The body of a delivery (what your receiver gets). */
export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: WebhookEventType;
  createdAt: Timestamp;
  tenantId: string;
  data: T;
}

// ---------------------------------------------------------------- signatures

export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

export interface VerifyWebhookSignatureInput {
  /** The destination's secret; several during your own rotation. */
  secret: string | Uint8Array | Array<string | Uint8Array>;
  /** The request headers (Node's req.headers, a Fetch Headers, or a plain object). */
  headers: WebhookHeaders;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Uint8Array;
  /** Largest accepted distance between X-Ringnity-Timestamp and now. Default 300. */
  toleranceSeconds?: number;
}

export type WebhookSignatureReason =
  | 'ok'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch';

export interface WebhookSignatureCheck {
  valid: boolean;
  reason: WebhookSignatureReason;
}

export const DEFAULT_TOLERANCE_SECONDS: 300;
export const VERSION: string;

export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean;
export function checkWebhookSignature(input: VerifyWebhookSignatureInput): WebhookSignatureCheck;

// ---------------------------------------------------------------- the client

export interface SystemApi {
  health(options?: RequestOptions): Promise<Health>;
}

export interface AccountApi {
  get(options?: RequestOptions): Promise<Tenant>;
  sdkReadiness(options?: RequestOptions): Promise<SdkReadiness>;
}

export interface TokensApi {
  visitorContext(body: VisitorContextRequest, options?: RequestOptions):
    Promise<VisitorContextToken>;
  agent(body: AgentTokenRequest, options?: RequestOptions): Promise<AgentToken>;
  admin(body: AdminTokenRequest, options?: RequestOptions): Promise<AdminToken>;
}

export interface ContactsApi {
  list(params?: ContactListParams, options?: RequestOptions): Promise<Page<Contact>>;
  get(id: string, options?: RequestOptions): Promise<Contact>;
  /** Resolves to the contact, whether it was created or updated by externalId. */
  create(body: ContactInput, options?: RequestOptions): Promise<Contact>;
  update(id: string, patch: ContactPatch, options?: RequestOptions): Promise<Contact>;
  /** Idempotent: resolves { deleted: false } when the contact does not exist. */
  delete(id: string, options?: RequestOptions): Promise<DeleteResult>;
}

export interface ReportsApi {
  summary(params?: ReportParams, options?: RequestOptions): Promise<SummaryReport>;
  timeseries(params?: ReportParams, options?: RequestOptions): Promise<TimeseriesReport>;
  productivity(params?: ReportParams, options?: RequestOptions): Promise<ProductivityReport>;
  /** CSV: resolves to the CSV text. */
  export(params: ReportExportParams & { format: 'csv' }, options?: RequestOptions):
    Promise<string>;
  /** JSON (the default): resolves to the export envelope. */
  export(params?: ReportExportParams & { format?: 'json' }, options?: RequestOptions):
    Promise<ReportExport>;
  export(params?: ReportExportParams, options?: RequestOptions): Promise<string | ReportExport>;
}

export interface WebhooksApi {
  list(params?: PageParams, options?: RequestOptions): Promise<Page<Webhook>>;
  get(id: string, options?: RequestOptions): Promise<Webhook>;
  create(body: WebhookCreateRequest, options?: RequestOptions): Promise<WebhookCreated>;
  update(id: string, patch: WebhookUpdateRequest, options?: RequestOptions): Promise<Webhook>;
  /** Idempotent: resolves { deleted: false } when the destination does not exist. */
  delete(id: string, options?: RequestOptions): Promise<DeleteResult>;
  /** Sends one real signed POST now; resolves to the recorded attempt. */
  test(body: WebhookTestRequest, options?: RequestOptions): Promise<WebhookDelivery>;
  deliveries(params?: DeliveryListParams, options?: RequestOptions):
    Promise<Page<WebhookDelivery>>;
  /** Sends the attempt's event again now; resolves to the new attempt. */
  redeliver(deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery>;
  eventTypes(options?: RequestOptions): Promise<{ data: WebhookEventTypeInfo[] }>;
}

export class RingnityServerApi {
  /** Throws when the key or base URL is missing or malformed, or in a browser. */
  static create(config?: RingnityServerApiConfig): RingnityServerApi;
  /** true when the delivery is genuine and fresh; never throws on what a sender controls. */
  static verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean;
  /** Like verifyWebhookSignature, with the reason a delivery was refused. */
  static checkWebhookSignature(input: VerifyWebhookSignatureInput): WebhookSignatureCheck;

  constructor(config?: RingnityServerApiConfig);
  /** The normalised base URL (without /api/server). */
  readonly baseUrl: string;
  readonly system: SystemApi;
  readonly account: AccountApi;
  readonly tokens: TokensApi;
  readonly contacts: ContactsApi;
  readonly reports: ReportsApi;
  readonly webhooks: WebhooksApi;
}
