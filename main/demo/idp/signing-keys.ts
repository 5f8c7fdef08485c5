import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

type PrivateJwk = JWK & { kid: string };

function newKey(): PrivateJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...(privateKey.export({ format: 'jwk' }) as JWK),
    kid: randomUUID(),
    alg: 'RS256',
    use: 'sig',
  };
}

function publicPart(key: PrivateJwk): JWK {
  const { kty, n, e, kid, alg, use } = key;
  return { kty, n, e, kid, alg, use };
}

/**
 * The IdP's token signing keys, newest first. Entra rolls its keys with an overlap: a new
 * key signs while the JWKS still lists the previous one, so tokens issued before the
 * rollover stay valid. Only the newest key signs (oidc-provider signs with the first).
 */
export class SigningKeys {
  #keys: PrivateJwk[] = [newKey()];

  /** The private keys, for oidc-provider's `jwks` configuration. */
  get privateJwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((key) => ({ ...key })) };
  }

  /** The public keys the JWKS endpoint lists, for verifying the IdP's own tokens. */
  get publicJwks(): JSONWebKeySet {
    return { keys: this.#keys.map(publicPart) };
  }

  /** The `kid` of the key that signs now. */
  get currentKid(): string {
    return this.#keys[0]?.kid ?? '';
  }

  /** Makes a new key the signing one, keeps the previous one listed; returns the new `kid`. */
  rotate(): string {
    const [current] = this.#keys;
    this.#keys = current ? [newKey(), current] : [newKey()];
    return this.currentKid;
  }
}
