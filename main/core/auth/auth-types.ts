import type { BrokerMode } from '../config/config-schema.ts';

/** How an interactive sign-in was (or should be) done. */
export type SignInMethod = 'broker' | 'browser' | 'device-code';

/** A cached account as the UI, CLI and audit see it: no tokens, no raw MSAL objects. */
export interface AccountSummary {
  homeAccountId: string;
  username: string;
  name: string | undefined;
  tenantId: string;
  /** Entra app roles from the ID token (`roles` claim). */
  roles: string[];
  /** True when the OS broker holds this account. */
  viaBroker: boolean;
  active: boolean;
}

/** A cached access token's freshness, never the token. */
export interface TokenFreshness {
  scopes: string[];
  expiresOn: string;
  expired: boolean;
}

/** The OS broker: whether it is used, and why (not). */
export interface BrokerState {
  mode: BrokerMode;
  available: boolean;
  reason: string;
  /** The last time the broker failed and sign-in fell back to the browser. */
  lastFallback?: { at: string; reason: string };
}

/** Details of a device code sign-in for the person to complete. */
export interface DeviceCodePrompt {
  verificationUri: string;
  userCode: string;
  message: string;
  expiresInSeconds: number;
}

/** A token for one call: handed to the Graph client only, never logged or returned to clients. */
export interface AccessToken {
  accessToken: string;
  expiresOn: Date;
  scopes: string[];
  account: AccountSummary;
  fromCache: boolean;
}

/** Events the auth service emits so that the UI, the tray and the audit log can follow. */
export interface AuthEventMap {
  'signed-in': [{ account: AccountSummary; method: SignInMethod }];
  'signed-out': [{ account: AccountSummary }];
  'active-changed': [{ account: AccountSummary | undefined }];
  'token-refreshed': [{ account: AccountSummary; scopes: string[]; expiresOn: string }];
  'interaction-required': [
    { account: AccountSummary | undefined; scopes: string[]; reason: string },
  ];
  'broker-fallback': [{ reason: string }];
  /** Named `failed`, not `error`, so that an unobserved failure never throws from emit. */
  failed: [{ operation: string; code: string; message: string }];
}

/** Every event AuthService emits that tells of a change of who is signed in, or of their tokens. */
export const AUTH_CHANGE_EVENTS = [
  'signed-in',
  'signed-out',
  'active-changed',
  'token-refreshed',
  'interaction-required',
  'broker-fallback',
] as const satisfies ReadonlyArray<keyof AuthEventMap>;

// Every event but `failed` is a change: a new event must be placed on one side or the other.
const _everyChangeListed: (typeof AUTH_CHANGE_EVENTS)[number] = null as unknown as Exclude<
  keyof AuthEventMap,
  'failed'
>;
