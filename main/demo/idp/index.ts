// Public API of the Entra-like test identity provider.
export { createCertificateAuthority, issueServerCertificate } from './ca.ts';
export type { ServerCertificate } from './ca.ts';
export { JWT_BEARER_GRANT } from './client-auth.ts';
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
  IdpApi,
  IdpConfidentialClient,
  IdpOptions,
  IdpUser,
  RunningIdp,
  TokenRequestRecord,
} from './types.ts';
