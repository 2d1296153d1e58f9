// @ringnity/server-api — the Node.js backend helper for the Ringnity Server API.
export { RingnityServerApi } from './client.js';
export { RingnityApiError } from './errors.js';
export {
  verifyWebhookSignature,
  checkWebhookSignature,
  DEFAULT_TOLERANCE_SECONDS,
} from './webhook-signature.js';
export { VERSION } from './transport.js';
