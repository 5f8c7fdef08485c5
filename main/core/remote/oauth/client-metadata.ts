import { InvalidClientMetadataError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  OAuthClientInformationFull,
  OAuthClientMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { MAX_REDIRECT_URIS, redirectUriProblem } from './redirect-uris.ts';

/** The longest client name kept; the consent page shows it, so it stays short. */
export const MAX_CLIENT_NAME_LENGTH = 100;

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/**
 * Checks a client's metadata (a registration request or a client ID metadata document) and keeps
 * only what valet mode uses, so that a stored record stays small. Clients are public: a secret
 * would be compared in plaintext by the SDK's token endpoint, so a secret-based
 * `token_endpoint_auth_method` is refused and PKCE protects the code instead. A missing method
 * is taken as `none`. Throws InvalidClientMetadataError naming the field and the fix.
 */
export function checkClientMetadata(
  metadata: OAuthClientMetadata,
  what: string,
): Omit<OAuthClientInformationFull, 'client_id'> {
  const method = metadata.token_endpoint_auth_method ?? 'none';
  if (method !== 'none')
    throw invalid(
      `${what} asks for token_endpoint_auth_method ${clip(method)}: MCP Valet registers public clients only and protects their codes with PKCE; use token_endpoint_auth_method "none"`,
    );
  const uris = metadata.redirect_uris;
  if (uris.length === 0) throw invalid(`${what} has no redirect_uris: list at least one`);
  if (uris.length > MAX_REDIRECT_URIS)
    throw invalid(
      `${what} lists ${uris.length} redirect_uris; at most ${MAX_REDIRECT_URIS} are accepted`,
    );
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw invalid(`${what} has a redirect URI that ${problem}`);
  }
  const grants = metadata.grant_types ?? ['authorization_code', 'refresh_token'];
  const unknownGrant = grants.find((g) => !GRANT_TYPES.has(g));
  if (unknownGrant)
    throw invalid(
      `${what} asks for the grant type ${clip(unknownGrant)}: only authorization_code and refresh_token are supported`,
    );
  const responses = metadata.response_types ?? ['code'];
  if (responses.some((r) => r !== 'code'))
    throw invalid(`${what} asks for a response type other than code, the only one supported`);
  const name = metadata.client_name?.trim();
  if (name !== undefined && name.length > MAX_CLIENT_NAME_LENGTH)
    throw invalid(
      `${what} has a client_name longer than ${MAX_CLIENT_NAME_LENGTH} characters; shorten it`,
    );
  // Control characters could disguise the name on the consent page.
  // eslint-disable-next-line no-control-regex
  if (name !== undefined && /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name))
    throw invalid(`${what} has a client_name with control characters; use plain text`);
  return {
    redirect_uris: [...uris],
    token_endpoint_auth_method: 'none',
    grant_types: [...grants],
    response_types: ['code'],
    ...(name ? { client_name: name } : {}),
    ...(metadata.scope !== undefined ? { scope: clip(metadata.scope, 500) } : {}),
  };
}

function invalid(message: string): InvalidClientMetadataError {
  return new InvalidClientMetadataError(message);
}

/** A client-supplied value cut short for a message. */
function clip(value: string, max = 60): string {
  const oneLine = value.replace(/\s+/g, ' ');
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine);
}
