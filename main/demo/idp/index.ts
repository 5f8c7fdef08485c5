// Public API of the Entra-like test identity provider.
export { createAppCertificate, createCertificateAuthority, issueServerCertificate } from './ca.ts';
export type { AppCertificate, ServerCertificate } from './ca.ts';
export { JWT_BEARER_GRANT } from './client-auth.ts';
export {
  DEMO_APP_NAME,
  DEMO_CLIENT_ID,
  DEMO_TENANT_ID,
  DEMO_USERS,
  GRAPH_RESOURCE,
  GRAPH_SCOPES,
} from './directory.ts';
export { CLIENT_ASSERTION_TYPE } from './federated-credentials.ts';
export { TOKEN_EXCHANGE_AUDIENCE, createFederatedIssuer } from './federated-issuer.ts';
export type { FederatedTokenClaims, FederatedTokenIssuer } from './federated-issuer.ts';
export { APP_SERVICE_API_VERSION, startManagedIdentityEndpoint } from './managed-identity.ts';
export type {
  ManagedIdentity,
  ManagedIdentityOptions,
  ManagedIdentityRequestRecord,
  RunningManagedIdentityEndpoint,
} from './managed-identity.ts';
export { IDP_HOST, startIdp } from './server.ts';
export type {
  CertificateAuthority,
  IdpApi,
  IdpConfidentialClient,
  IdpFederatedCredential,
  IdpFederatedIssuer,
  IdpOptions,
  IdpUser,
  RunningIdp,
  TokenRequestRecord,
} from './types.ts';
