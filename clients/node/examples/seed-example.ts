import { RingnityServerApi } from '@ringnity/server-api';

const ringnity = RingnityServerApi.create({
  baseUrl: process.env.RINGNITY_API_BASE_URL,
  apiKey: process.env.RINGNITY_SERVER_API_KEY!
});

const health = await ringnity.system.health();
const account = await ringnity.account.get();
const readiness = await ringnity.account.sdkReadiness();

const reportExport = await ringnity.reports.export({
  period: '30days',
  format: 'csv'
});

const visitorContext = await ringnity.tokens.visitorContext({
  visitor: {
    externalId: 'crm-1001',
    name: 'Budi Santoso',
    phone: '+62 812-3456-789'
  },
  metadata: {
    tier: 'priority'
  },
  expiresIn: 900
});

const agentToken = await ringnity.tokens.agent({
  username: 'agent.one',
  scopes: [
    'agent:profile:read',
    'agent:presence:read',
    'agent:presence:write',
    'agent:conversations:read',
    'agent:conversations:write',
    'agent:messages:read',
    'agent:messages:write',
    'agent:media:delete',
    'agent:calls:read',
    'agent:calls:write'
  ],
  expiresIn: 900
});

const adminToken = await ringnity.tokens.admin({
  username: 'admin.one',
  expiresIn: 900
});

await ringnity.contacts.delete('contact_id');
