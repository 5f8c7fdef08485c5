import type { JSONWebKeySet } from 'jose';

/** A person who can sign in at the IdP; `id` becomes the Entra object ID (`oid`). */
export interface IdpUser {
  /** Object ID (`oid`), a GUID; also the OpenID `sub` and the MSAL `localAccountId`. */
  id: string;
  /** Sign-in name and `preferred_username`, e.g. adele@contoso.test. */
  username: string;
  /** Display name (`name` claim). */
  name: string;
  password: string;
  /** Entra app roles assigned to the user (`roles` claim), e.g. Valet.Mail.Send. */
  roles?: string[];
}

/** PEM certificate and PKCS#8 private key of the CA that signs the IdP's server certificate. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

/**
 * A federated identity credential of an app registration: a token from `issuer` about
 * `subject`, for one of `audiences`, stands in for the app's secret.
 */
export interface IdpFederatedCredential {
  /** `iss` of the external tokens; its keys must be among `IdpOptions.federatedIssuers`. */
  issuer: string;
  /** `sub` they must carry, e.g. `system:serviceaccount:valet:mcp-valet` or an identity's object ID. */
  subject: string;
  /** `aud` they may carry; Entra's credentials have `['api://AzureADTokenExchange']`. */
  audiences: readonly string[];
}

/** An external token issuer the tenant trusts, with the public keys that verify its tokens. */
export interface IdpFederatedIssuer {
  issuer: string;
  jwks: JSONWebKeySet;
}

/**
 * A web app registration that authenticates itself at the token endpoint (Entra's
 * confidential client): with a client secret, with certificates whose public keys it
 * holds (MSAL's certificate assertion, `private_key_jwt`), or with federated credentials
 * (a client assertion issued by a trusted workload or managed identity issuer).
 */
export interface IdpConfidentialClient {
  /** Application (client) ID, a GUID. */
  clientId: string;
  /** Display name, shown on the consent page. */
  name?: string;
  /** Exact redirect URIs of the web app, e.g. `https://localhost:8443/auth/callback`. */
  redirectUris: readonly string[];
  /** The client secret (`client_secret_post`); give this or `certificates`, not both. */
  secret?: string;
  /** PEM certificates whose keys may sign the client assertion (`private_key_jwt`). */
  certificates?: readonly string[];
  /** Federated identity credentials; one credential kind per client. */
  federatedCredentials?: readonly IdpFederatedCredential[];
  /** Graph scopes an admin consented to for every user, e.g. `['User.Read']`. */
  adminConsentedScopes?: readonly string[];
}

/** An app registration that exposes an API: delegated scopes under its identifier URIs. */
export interface IdpApi {
  /** Application (client) ID, a GUID; the `aud` of its v2 access tokens. */
  appId: string;
  /** Display name, shown on the consent page. */
  name?: string;
  /** Identifier URIs (App ID URIs), e.g. `api://<appId>` and `https://valet.contoso.test/mcp`. */
  identifierUris: readonly string[];
  /** Delegated scope names, e.g. `['Valet.Use']`; clients ask for `<identifier URI>/<name>`. */
  scopes: readonly string[];
  /** Client IDs that get every scope of the API without a user's consent. */
  preAuthorizedClients?: readonly string[];
  /** Access token version, `api.requestedAccessTokenVersion` (Entra's default for new apps is 2). */
  accessTokenVersion?: 1 | 2;
}

/** Settings for `startIdp`; everything but the CA has a demo default. */
export interface IdpOptions {
  ca: CertificateAuthority;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Directory (tenant) ID, a GUID. */
  tenantId?: string;
  /** Public client IDs that may sign in (loopback redirect, device code, refresh tokens). */
  clientIds?: readonly string[];
  /** Web apps that authenticate at the token endpoint; they may also use on-behalf-of. */
  confidentialClients?: readonly IdpConfidentialClient[];
  /** Apps that expose APIs, whose scopes clients ask for. */
  apis?: readonly IdpApi[];
  /** External issuers whose tokens federated credentials accept, with their keys. */
  federatedIssuers?: readonly IdpFederatedIssuer[];
  users?: readonly IdpUser[];
  /** Access-token lifetime in seconds; adjustable later with `setAccessTokenTtl`. */
  accessTokenTtlSeconds?: number;
  /** Poll interval announced in device code responses, in seconds (Entra says 5). */
  deviceCodeIntervalSeconds?: number;
}

/** One POST to the token endpoint, recorded when it arrives. */
export interface TokenRequestRecord {
  /**
   * `grant_type` as the client sent it, e.g. `refresh_token`, `device_code`, or
   * `urn:ietf:params:oauth:grant-type:jwt-bearer` for on-behalf-of.
   */
  grantType: string;
  /** Arrival time, `Date.now()`. */
  at: number;
  clientId?: string;
  /** The federated token that authenticated the client, once verified (never the token itself). */
  federatedAssertion?: { issuer: string; subject: string; tokenId?: string };
}

/** A started IdP: where it lives, what it has seen, and the knobs tests turn. */
export interface RunningIdp {
  /** `https://localhost:<port>`. */
  origin: string;
  /** `${origin}/${tenantId}`: exactly what MSAL's `auth.authority` gets. */
  authority: string;
  /** Host and port to list in MSAL's `knownAuthorities`. */
  host: string;
  tenantId: string;
  port: number;
  clientIds: readonly string[];
  users: readonly IdpUser[];
  /** `${authority}/v2.0`, the `iss` of every token. */
  issuer: string;
  jwksUri: string;
  /** Every POST to the token endpoint, oldest first. */
  tokenRequests: TokenRequestRecord[];
  /** Changes the lifetime of access tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  /** Revokes every grant, session and token of the user, so the next refresh gets invalid_grant. */
  revokeUser(username: string): Promise<void>;
  /** Approves a pending device code as the user, granting the scopes it requested (no browser). */
  approveDeviceCode(userCode: string, username: string): Promise<void>;
  /**
   * Sets what the user has consented to for a client, replacing what was there: OpenID
   * scopes, Graph scopes (short names) and API scopes (`<identifier URI>/<name>`).
   * An empty list withdraws every consent; tokens already issued stay valid.
   */
  setConsent(username: string, clientId: string, scopes: readonly string[]): Promise<void>;
  /** Chooses the access token version of an API (`IdpApi.accessTokenVersion`) from now on. */
  setApiTokenVersion(appId: string, version: 1 | 2): void;
  /**
   * Signs every token from now on with a new key that the JWKS publishes next to the
   * previous one, as Entra rolls its keys; returns the new key's `kid`.
   */
  rotateSigningKey(): Promise<string>;
  close(): Promise<void>;
}
