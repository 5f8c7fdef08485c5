import { X509Certificate, createHash } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import type { JWK } from 'jose';
import { errors } from 'oidc-provider';
import type { ClientMetadata, KoaContextWithOIDC } from 'oidc-provider';
import type { IdpConfidentialClient } from './types.ts';

/** The grant type of on-behalf-of (RFC 7523), which Entra uses for OBO. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A registered certificate: its SHA-256 thumbprint (base64url, as in `x5t#S256`) and public key. */
export interface CertificateKey {
  thumbprint: string;
  jwk: JWK;
}

/** Reads a PEM certificate into the public JWK a client's `jwks` lists. */
export function certificateKey(pem: string): CertificateKey {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (cause) {
    throw new Error('A confidential client certificate is not a PEM X.509 certificate.', {
      cause,
    });
  }
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
    throw new Error(
      'Confidential client certificates must hold RSA keys, as MSAL signs with PS256.',
    );
  }
  const thumbprint = createHash('sha256').update(certificate.raw).digest('base64url');
  const jwk = {
    ...(certificate.publicKey.export({ format: 'jwk' }) as JWK),
    use: 'sig',
    'x5t#S256': thumbprint,
    x5c: [certificate.raw.toString('base64')],
  };
  return { thumbprint, jwk };
}

/**
 * The oidc-provider metadata of a web app registration. A client with federated
 * credentials is registered with `internalSecret`, which the front door puts in place of a
 * verified assertion (see FederatedCredentials).
 */
export function confidentialClientMetadata(
  client: IdpConfidentialClient,
  keys: readonly CertificateKey[],
  internalSecret?: string,
): ClientMetadata {
  const secret = client.secret ?? internalSecret;
  return {
    client_id: client.clientId,
    client_name: client.name ?? client.clientId,
    application_type: 'web',
    redirect_uris: [...client.redirectUris],
    grant_types: ['authorization_code', 'refresh_token', JWT_BEARER_GRANT],
    response_types: ['code'],
    ...(secret !== undefined
      ? { token_endpoint_auth_method: 'client_secret_post', client_secret: secret }
      : { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: keys.map((k) => k.jwk) } }),
  };
}

/** Entra's wording when an assertion names a certificate the app does not have. */
export function unknownCertificateMessage(clientId: string, thumbprint: string): string {
  return `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`;
}

/**
 * Binds a client assertion to the certificate its header names. MSAL's certificate
 * assertion carries the certificate's SHA-256 thumbprint in `x5t#S256` (base64url) and no
 * `kid`, and Entra picks the key by that thumbprint. oidc-provider picks keys by `kid`
 * and, with none, tries every key the client registered, so the signature has already
 * passed with one of them; this looks the key up by the thumbprint and verifies the
 * signature with that key alone, so the header cannot name one certificate while
 * another signed.
 */
export function assertionCertificateCheck(
  keysOf: (clientId: string) => readonly CertificateKey[],
): (
  ctx: KoaContextWithOIDC,
  claims: Record<string, unknown>,
  header: Record<string, unknown>,
  client: { clientId: string },
) => Promise<void> {
  return async (ctx, _claims, header, client) => {
    const keys = keysOf(client.clientId);
    if (keys.length === 0) return;
    const thumbprint = header['x5t#S256'];
    const key = keys.find((k) => k.thumbprint === thumbprint);
    const assertion = String(ctx.oidc.params?.client_assertion ?? '');
    if (!key || typeof thumbprint !== 'string') {
      throw new errors.InvalidClientAuth(
        unknownCertificateMessage(client.clientId, String(thumbprint ?? '')),
      );
    }
    try {
      const { alg } = decodeProtectedHeader(assertion);
      await compactVerify(assertion, await importJWK(key.jwk, alg));
    } catch (cause) {
      throw new errors.InvalidClientAuth({ cause });
    }
  };
}
