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

/** Settings for `startIdp`; everything but the CA has a demo default. */
export interface IdpOptions {
  ca: CertificateAuthority;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Directory (tenant) ID, a GUID. */
  tenantId?: string;
  /** Public client IDs that may sign in (loopback redirect, device code, refresh tokens). */
  clientIds?: readonly string[];
  users?: readonly IdpUser[];
  /** Access-token lifetime in seconds; adjustable later with `setAccessTokenTtl`. */
  accessTokenTtlSeconds?: number;
  /** Poll interval announced in device code responses, in seconds (Entra says 5). */
  deviceCodeIntervalSeconds?: number;
}

/** One POST to the token endpoint, recorded when it arrives. */
export interface TokenRequestRecord {
  /** `grant_type` as the client sent it, e.g. `refresh_token` or `device_code`. */
  grantType: string;
  /** Arrival time, `Date.now()`. */
  at: number;
  clientId?: string;
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
  close(): Promise<void>;
}
