import { randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import type { JWTPayload } from 'jose';
import { addEntraErrorFields, invalidSecretMessage } from './entra-responses.ts';
import type {
  IdpConfidentialClient,
  IdpFederatedCredential,
  IdpFederatedIssuer,
  TokenRequestRecord,
} from './types.ts';

/** `client_assertion_type` of a JWT client assertion (RFC 7523). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra's tolerance for clock skew on assertion times. */
const CLOCK_SKEW_SECONDS = 300;
const FIC_HINT =
  'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

/** What became of a token request's client authentication at the front door. */
export type FederatedOutcome =
  /** Not a federated client: oidc-provider authenticates it as registered. */
  | { kind: 'not-federated' }
  /** The assertion is verified and swapped for the client's internal secret. */
  | { kind: 'accepted'; assertion: NonNullable<TokenRequestRecord['federatedAssertion']> }
  /** Answer this, in Entra's words, instead of passing the request on. */
  | { kind: 'refused'; status: number; body: Record<string, unknown> };

function refused(
  error: string,
  description: string,
  correlationId: string | undefined,
  status = 401,
): FederatedOutcome {
  const body: Record<string, unknown> = { error, error_description: description };
  const code = Number(/^AADSTS(\d+):/.exec(description)?.[1]);
  addEntraErrorFields(body, code, correlationId);
  return { kind: 'refused', status, body };
}

function entraTime(seconds: number | undefined): string {
  return seconds === undefined ? 'unknown' : new Date(seconds * 1000).toISOString();
}

function audiencesOf(payload: JWTPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  return Array.isArray(payload.aud) ? payload.aud.filter((a) => typeof a === 'string') : [];
}

/**
 * Federated identity credentials, checked as Entra checks them: a client assertion issued
 * by a trusted external issuer, signed with one of its keys, within its time range, whose
 * `iss`, `sub` and `aud` match one of the app's credentials.
 *
 * oidc-provider cannot take such an assertion itself: its `private_key_jwt` wants
 * `iss` = `sub` = the client ID, its own token endpoint as `aud`, and the client's own keys.
 * So a federated client is registered with oidc-provider as `client_secret_post`, with a
 * random secret that never leaves the IdP, and the front door calls `authenticate` on each
 * token request: a verified assertion is swapped for that secret, and oidc-provider sees an
 * ordinary authenticated client; anything else is answered here in Entra's words.
 */
export class FederatedCredentials {
  #credentials = new Map<string, readonly IdpFederatedCredential[]>();
  #secrets = new Map<string, string>();
  #keys = new Map<string, ReturnType<typeof createLocalJWKSet>>();

  constructor(clients: readonly IdpConfidentialClient[], issuers: readonly IdpFederatedIssuer[]) {
    for (const { issuer, jwks } of issuers) {
      if (this.#keys.has(issuer))
        throw new Error(`The federated issuer ${issuer} is listed twice.`);
      this.#keys.set(issuer, createLocalJWKSet(jwks));
    }
    for (const client of clients) {
      const credentials = client.federatedCredentials ?? [];
      if (credentials.length === 0) continue;
      for (const { issuer } of credentials) {
        if (!this.#keys.has(issuer)) {
          throw new Error(
            `Confidential client ${client.clientId}: the IdP has no keys for the federated credential issuer ${issuer}; list it in federatedIssuers.`,
          );
        }
      }
      this.#credentials.set(client.clientId, credentials);
      this.#secrets.set(client.clientId, randomBytes(32).toString('base64url'));
    }
  }

  /** The secret oidc-provider knows a federated client by; undefined for other clients. */
  internalSecret(clientId: string): string | undefined {
    return this.#secrets.get(clientId);
  }

  /**
   * Authenticates a federated client's token request from its form, which it rewrites
   * when the assertion is good. Messages quote the assertion's issuer, subject and
   * audience, as Entra's do, never the assertion.
   */
  async authenticate(
    form: URLSearchParams,
    correlationId: string | undefined,
    now: Date = new Date(),
  ): Promise<FederatedOutcome> {
    const clientId = form.get('client_id') ?? '';
    const credentials = this.#credentials.get(clientId);
    const secret = this.#secrets.get(clientId);
    if (!credentials || !secret) return { kind: 'not-federated' };
    if (form.has('client_secret'))
      return refused('invalid_client', invalidSecretMessage(clientId), correlationId);
    const assertion = form.get('client_assertion');
    if (assertion === null) return { kind: 'not-federated' };
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      return refused(
        'invalid_request',
        `AADSTS900144: The request body must contain the following parameter: 'client_assertion_type' (${CLIENT_ASSERTION_TYPE}).`,
        correlationId,
        400,
      );
    }

    let payload: JWTPayload;
    try {
      payload = decodeJwt(assertion);
    } catch {
      return refused(
        'invalid_client',
        'AADSTS50027: JWT token is invalid or malformed.',
        correlationId,
      );
    }
    const issuer = typeof payload.iss === 'string' ? payload.iss : '';
    const subject = typeof payload.sub === 'string' ? payload.sub : '';
    const audiences = audiencesOf(payload);
    const fromIssuer = credentials.filter((c) => c.issuer === issuer);
    const keys = this.#keys.get(issuer);
    if (fromIssuer.length === 0 || !keys) {
      return refused(
        'invalid_client',
        `AADSTS700211: No matching federated identity record found for presented assertion issuer '${issuer}'. ${FIC_HINT}`,
        correlationId,
      );
    }
    try {
      await compactVerify(assertion, keys, { algorithms: ['RS256', 'PS256', 'ES256'] });
    } catch {
      return refused(
        'invalid_client',
        'AADSTS700027: Client assertion failed signature validation.',
        correlationId,
      );
    }
    if (typeof payload.exp !== 'number') {
      return refused(
        'invalid_client',
        'AADSTS50027: JWT token is invalid or malformed.',
        correlationId,
      );
    }
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const validFrom = typeof payload.nbf === 'number' ? payload.nbf : payload.iat;
    if (
      payload.exp + CLOCK_SKEW_SECONDS < nowSeconds ||
      (validFrom !== undefined && validFrom - CLOCK_SKEW_SECONDS > nowSeconds)
    ) {
      return refused(
        'invalid_client',
        `AADSTS700024: Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${entraTime(validFrom)}, expiry time of assertion ${entraTime(payload.exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
        correlationId,
      );
    }
    if (!fromIssuer.some((c) => c.audiences.some((a) => audiences.includes(a)))) {
      return refused(
        'invalid_client',
        `AADSTS700212: No matching federated identity record found for presented assertion audience '${audiences.join(', ')}'. ${FIC_HINT}`,
        correlationId,
      );
    }
    const match = fromIssuer.find(
      (c) => c.subject === subject && c.audiences.some((a) => audiences.includes(a)),
    );
    if (!match) {
      return refused(
        'invalid_client',
        `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audiences.join(', ')}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
        correlationId,
      );
    }

    form.delete('client_assertion');
    form.delete('client_assertion_type');
    form.set('client_secret', secret);
    return {
      kind: 'accepted',
      assertion: {
        issuer,
        subject,
        ...(typeof payload.jti === 'string' ? { tokenId: payload.jti } : {}),
      },
    };
  }
}
