import type { IdpUser } from './types.ts';

/** Tenant (directory) ID of the demo tenant, contoso.test. */
export const DEMO_TENANT_ID = '6f1d2c3b-8a7e-4d5c-9b0a-1e2f3a4b5c6d';

/** Application (client) ID of the demo app registration, a public client. */
export const DEMO_CLIENT_ID = '0b7c4e2a-5d1f-4a8b-b3c6-9e0d1f2a3b4c';

/** Display name of the demo app registration, shown on consent and device pages. */
export const DEMO_APP_NAME = 'MCP Valet';

/** Demo users; the passwords are public by design (printed by `npm run idp`). */
export const DEMO_USERS: readonly IdpUser[] = Object.freeze([
  {
    id: '3c9a8b7d-2e1f-4a0b-8c6d-5e4f3a2b1c0d',
    username: 'adele@contoso.test',
    name: 'Adele Vance',
    password: 'adele-demo-password',
    roles: ['Valet.Mail.Send'],
  },
  {
    id: '7e6d5c4b-3a2f-4e1d-9c0b-8a7f6e5d4c3b',
    username: 'alex@contoso.test',
    name: 'Alex Wilber',
    password: 'alex-demo-password',
  },
]);

/** Audience of Microsoft Graph access tokens. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

/** Delegated Graph permissions the IdP knows, with the wording of Entra's consent screen. */
export const GRAPH_SCOPES: ReadonlyMap<string, string> = new Map([
  ['User.Read', 'Sign you in and read your profile'],
  ['Mail.Read', 'Read your mail'],
  ['Mail.Send', 'Send mail as you'],
  ['Calendars.Read', 'Read your calendars'],
  ['Calendars.ReadWrite', 'Have full access to your calendars'],
  ['Files.Read', 'Read your files'],
  ['People.Read', 'Read your relevant people list'],
]);

/** OpenID scopes, with the wording of Entra's consent screen. */
export const OIDC_SCOPES: ReadonlyMap<string, string> = new Map([
  ['openid', 'Sign you in'],
  ['profile', 'View your basic profile'],
  ['email', 'View your email address'],
  ['offline_access', 'Maintain access to data you have given it access to'],
]);

/** Whether the IdP knows a scope; anything else is refused, as Entra does. */
export function isKnownScope(scope: string): boolean {
  return GRAPH_SCOPES.has(scope) || OIDC_SCOPES.has(scope);
}
