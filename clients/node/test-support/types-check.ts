// Compile-time checks of index.d.ts (run by `tsc -p tsconfig.json`, which the
// e2e suite does). Each @ts-expect-error line must be an error, so a
// declaration that grew too loose fails the type check.
import {
  RingnityServerApi,
  RingnityApiError,
  verifyWebhookSignature,
  checkWebhookSignature,
  type Contact,
  type ReportExport,
  type WebhookCreated,
  type DeleteResult,
} from '@ringnity/server-api';

const api = RingnityServerApi.create({ baseUrl: 'http://127.0.0.1:8080', timeoutMs: 5000 });

async function shapes(): Promise<void> {
  const contact: Contact = await api.contacts.create({ externalId: 'crm-1', name: 'A' });
  const csv: string = await api.reports.export({ period: '30days', format: 'csv' });
  const json: ReportExport = await api.reports.export({ period: '7days', format: 'json' });
  const dflt: ReportExport = await api.reports.export();
  const hook: WebhookCreated = await api.webhooks.create({
    name: 'CRM', url: 'https://example.com/h', events: ['contact.created'],
  });
  const gone: DeleteResult = await api.contacts.delete(contact.id);
  const page = await api.contacts.list({ search: 'budi', limit: 10 });
  const first: Contact | undefined = page.data[0];
  const next: string | null = page.nextCursor;
  const dl = await api.webhooks.deliveries({ webhookId: hook.id, status: 'failed' });
  const again = await api.webhooks.redeliver(dl.data[0].id, { idempotencyKey: 'k-1' });
  const ok: boolean = RingnityServerApi.verifyWebhookSignature({
    secret: 'whsec_x', headers: { 'x-ringnity-timestamp': '1' }, rawBody: Buffer.from('{}'),
  });
  const why = checkWebhookSignature({ secret: ['a', 'b'], headers: new Headers(), rawBody: '' });
  const reason: 'ok' | string = why.reason;
  void [csv, json, dflt, gone, first, next, again, ok, reason, verifyWebhookSignature];

  // @ts-expect-error a CSV export is text, not the envelope
  const wrong: ReportExport = await api.reports.export({ format: 'csv' });
  // @ts-expect-error unknown agent scope
  await api.tokens.agent({ username: 'agent.one', scopes: ['agent:everything'] });
  // @ts-expect-error an admin token needs a username
  await api.tokens.admin({ expiresIn: 900 });
  // @ts-expect-error unknown report period
  await api.reports.summary({ period: 'yesterday' });
  // @ts-expect-error unknown webhook event
  await api.webhooks.test({ webhookId: hook.id, event: 'contact.merged' });
  // @ts-expect-error the contact id is a string
  await api.contacts.get(42);
  void wrong;
}

function errors(err: unknown): string | null {
  if (err instanceof RingnityApiError) {
    const status: number = err.status;
    const id: string | null = err.requestId;
    return `${status} ${err.code} ${id} ${err.details.length} ${err.attempts}`;
  }
  return null;
}

void shapes;
void errors;
