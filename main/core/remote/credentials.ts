import { readFile } from 'node:fs/promises';
import {
  ManagedIdentityApplication,
  type ManagedIdentityConfiguration,
  type NodeAuthOptions,
  type NodeSystemOptions,
} from '@azure/msal-node';
import { ValetError } from '../util/valet-error.ts';
import type { ClientCredential } from './client-credential.ts';
import { readClientCertificate } from './client-certificate.ts';

/** The audience of a managed identity's token when it stands in as a federated credential. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** The credential part of a ConfidentialClientApplication's `auth` options. */
export type MsalCredential = Pick<
  NodeAuthOptions,
  'clientSecret' | 'clientAssertion' | 'clientCertificate'
>;

/** The MSAL credential, and a line saying which one it is (no secret in it) for the start log. */
export interface BuiltCredential {
  auth: MsalCredential;
  description: string;
}

/** Something that gets managed identity tokens: ManagedIdentityApplication's one method we use. */
export interface ManagedIdentitySource {
  acquireToken(request: { resource: string }): Promise<{ accessToken: string }>;
}

/** What building a credential may be given. */
export interface CredentialDeps {
  /** Builds the managed identity client; the real one by default. Called on first use only. */
  createManagedIdentity?: (config: ManagedIdentityConfiguration) => ManagedIdentitySource;
  /** MSAL system options (logger, network client) for the managed identity client. */
  system?: NodeSystemOptions;
  now?: () => Date;
}

/**
 * Turns the configured credential into MSAL's `clientSecret`, `clientAssertion` or
 * `clientCertificate`. A certificate is checked now (key matches, not expired); an assertion
 * is read on every token request, since the platform rotates it; a managed identity is not
 * contacted until the first token request. No message carries a secret, key or assertion.
 */
export async function buildMsalCredential(
  credential: ClientCredential,
  deps: CredentialDeps = {},
): Promise<BuiltCredential> {
  switch (credential.kind) {
    case 'secret':
      return {
        auth: { clientSecret: credential.secret.reveal() },
        description: `client secret (${credential.setting})`,
      };
    case 'certificate': {
      const cert = await readClientCertificate(credential, deps.now?.() ?? new Date());
      return {
        auth: {
          clientCertificate: {
            thumbprintSha256: cert.thumbprintSha256,
            privateKey: cert.privateKeyPem,
            x5c: cert.chainPem,
          },
        },
        description: `certificate ${cert.subject} (SHA-256 thumbprint ${cert.thumbprintSha256}, valid until ${cert.validTo.toISOString()})`,
      };
    }
    case 'assertion-file':
      return {
        auth: { clientAssertion: () => readAssertionFile(credential.file, credential.setting) },
        description: `federated token file ${credential.file} (${credential.setting})`,
      };
    case 'managed-identity':
      return {
        auth: { clientAssertion: managedIdentityAssertion(credential.userAssignedClientId, deps) },
        description: credential.userAssignedClientId
          ? `user-assigned managed identity ${credential.userAssignedClientId}`
          : 'system-assigned managed identity',
      };
  }
}

/** Reads the federated token afresh: the platform replaces the file before the token expires. */
async function readAssertionFile(file: string, setting: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw new ValetError(
      'credential_unavailable',
      `The federated token file ${file} (${setting}) cannot be read (${code}): check that the platform still mounts the workload identity token there`,
    );
  }
  const token = text.trim();
  if (token === '')
    throw new ValetError(
      'credential_unavailable',
      `The federated token file ${file} (${setting}) is empty: check that the platform writes the workload identity token there`,
    );
  return token;
}

function managedIdentityAssertion(
  userAssignedClientId: string | undefined,
  deps: CredentialDeps,
): () => Promise<string> {
  let source: ManagedIdentitySource | undefined;
  return async () => {
    source ??= (deps.createManagedIdentity ?? ((c) => new ManagedIdentityApplication(c)))({
      ...(userAssignedClientId && { managedIdentityIdParams: { userAssignedClientId } }),
      ...(deps.system && { system: deps.system }),
    });
    try {
      return (await source.acquireToken({ resource: TOKEN_EXCHANGE_AUDIENCE })).accessToken;
    } catch (err) {
      // MSAL's error codes name the cause without carrying a token.
      const code = (err as { errorCode?: unknown }).errorCode;
      // The identity endpoint's own words (a refused X-IDENTITY-HEADER, say): never a token.
      const said = /Description: (.*?) - Correlation ID/.exec(
        String((err as { errorMessage?: unknown }).errorMessage ?? ''),
      )?.[1];
      throw new ValetError(
        'credential_unavailable',
        `The ${userAssignedClientId ? `user-assigned managed identity ${userAssignedClientId}` : 'managed identity'} gave no token for ${TOKEN_EXCHANGE_AUDIENCE}${typeof code === 'string' && code ? ` (${code})` : ''}${said ? ` (the endpoint said: ${said.slice(0, 200)})` : ''}: check that the identity is assigned to this host and has a federated credential on the app registration`,
        { cause: err },
      );
    }
  };
}
