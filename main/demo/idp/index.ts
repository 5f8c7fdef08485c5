// Public API of the Entra-like test identity provider.
export { createCertificateAuthority } from './ca.ts';
export {
  DEMO_APP_NAME,
  DEMO_CLIENT_ID,
  DEMO_TENANT_ID,
  DEMO_USERS,
  GRAPH_RESOURCE,
  GRAPH_SCOPES,
} from './directory.ts';
export { IDP_HOST, startIdp } from './server.ts';
export type {
  CertificateAuthority,
  IdpOptions,
  IdpUser,
  RunningIdp,
  TokenRequestRecord,
} from './types.ts';
