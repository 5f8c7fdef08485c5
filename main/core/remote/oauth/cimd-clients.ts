import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidClientError, OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import {
  OAuthClientMetadataSchema,
  type OAuthClientInformationFull,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Logger } from '../../util/logger.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { nonPublicKind } from './address-policy.ts';
import { checkClientMetadata } from './client-metadata.ts';
import { sha256Hex } from './opaque-token.ts';
import { FetchRefused, pinnedGet, type FetchLimits } from './pinned-fetch.ts';

/** Resolves a host name to its addresses (dns.lookup with `all`); tests pass their own. */
export type ResolveHost = (host: string) => Promise<Array<{ address: string; family: number }>>;

/** Which hosts' documents may be fetched (RemoteConfig.cimdHosts). */
export interface CimdHosts {
  /** Any host whose addresses are all public. */
  anyPublic: boolean;
  /** Hosts fetched whatever their addresses (lower case). */
  hosts: readonly string[];
}

/** How a CimdClients is made. */
export interface CimdClientsOptions {
  store: SharedStore;
  hosts: CimdHosts;
  logger: Logger;
  resolve?: ResolveHost;
  limits?: Partial<FetchLimits>;
}

/** Cached documents live at most an hour, refusals a minute, and nothing less than a minute. */
const MAX_CACHE_S = 3600;
const MIN_CACHE_S = 60;
const REFUSAL_CACHE_MS = 60_000;
const MAX_URL_LENGTH = 2000;

type CacheEntry = { client: OAuthClientInformationFull } | { refused: string };

/**
 * Clients whose client ID is an https URL: the client ID metadata document there is the
 * registration. It is fetched with care, since the URL comes from whoever calls /authorize:
 * only from public addresses unless VALET_CIMD_HOSTS names the host, from the address that was
 * checked, over https, without redirects, at most 5 KB within 5 s. A valid document is cached
 * at `cimd:{sha256(url)}` for its max-age (at most an hour), a refusal for a minute; a refusal
 * is thrown as InvalidClientError saying why in one line, and logged without the document.
 */
export class CimdClients {
  readonly #store: SharedStore;
  readonly #hosts: CimdHosts;
  readonly #logger: Logger;
  readonly #resolve: ResolveHost;
  readonly #limits: FetchLimits;

  constructor(options: CimdClientsOptions) {
    this.#store = options.store;
    this.#hosts = options.hosts;
    this.#logger = options.logger;
    this.#resolve = options.resolve ?? ((host) => lookup(host, { all: true, verbatim: true }));
    this.#limits = { timeoutMs: 5000, maxBytes: 5 * 1024, ...options.limits };
  }

  /** The client registered by the document at `clientId`, or InvalidClientError with why not. */
  async client(clientId: string): Promise<OAuthClientInformationFull> {
    const cacheKey = `cimd:${sha256Hex(clientId)}`;
    const cached = await this.#store.get(cacheKey);
    const entry = cached === null ? await this.#fetchAndCache(clientId, cacheKey) : parse(cached);
    if ('refused' in entry) throw new InvalidClientError(entry.refused);
    return entry.client;
  }

  async #fetchAndCache(clientId: string, cacheKey: string): Promise<CacheEntry> {
    try {
      const { client, maxAgeS } = await this.#load(clientId);
      const entry: CacheEntry = { client };
      await this.#store.set(cacheKey, JSON.stringify(entry), { ttlMs: maxAgeS * 1000 });
      return entry;
    } catch (err) {
      // FetchRefused says what "it" (the document) does; checkClientMetadata names "it" itself.
      const reason =
        err instanceof FetchRefused
          ? `it ${err.message}`
          : err instanceof OAuthError
            ? err.message
            : undefined;
      if (reason === undefined) throw err;
      const refused = `The client ID metadata document ${shown(clientId)} was refused: ${reason}.`;
      this.#logger.warn(refused);
      const entry: CacheEntry = { refused };
      await this.#store.set(cacheKey, JSON.stringify(entry), { ttlMs: REFUSAL_CACHE_MS });
      return entry;
    }
  }

  async #load(clientId: string): Promise<{ client: OAuthClientInformationFull; maxAgeS: number }> {
    const url = checkUrl(clientId);
    const pin = await this.#pin(url);
    const res = await pinnedGet(url, pin, this.#limits);
    if (res.status !== 200) throw new FetchRefused(`answered HTTP ${res.status} instead of 200`);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new FetchRefused('is not JSON');
    }
    const doc = json as Record<string, unknown> | null;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new FetchRefused('is not a JSON object');
    if (doc.client_id !== clientId)
      throw new FetchRefused('names another client_id than its own URL');
    if ('client_secret' in doc)
      throw new FetchRefused('carries a client_secret, which a public document must never hold');
    const parsed = OAuthClientMetadataSchema.safeParse(doc);
    if (!parsed.success)
      throw new FetchRefused('is not client metadata (redirect_uris must be a list of URLs)');
    const metadata = checkClientMetadata(parsed.data, 'it');
    return {
      client: { ...metadata, client_id: clientId },
      maxAgeS: cacheSeconds(res.cacheControl),
    };
  }

  /** The address to connect to, after checking every address the host has. */
  async #pin(url: URL): Promise<{ address: string; family: 4 | 6 }> {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const listed = this.#hosts.hosts.includes(host);
    if (!listed && !this.#hosts.anyPublic)
      throw new FetchRefused(`is on ${host}, a host VALET_CIMD_HOSTS does not name`);
    let addresses: Array<{ address: string; family: number }>;
    const literal = isIP(host);
    if (literal) addresses = [{ address: host, family: literal }];
    else {
      try {
        addresses = await this.#resolve(host);
      } catch {
        throw new FetchRefused(`is on ${host}, which does not resolve`);
      }
    }
    const first = addresses[0];
    if (!first) throw new FetchRefused(`is on ${host}, which does not resolve`);
    if (!listed)
      for (const { address } of addresses) {
        const kind = nonPublicKind(address);
        if (kind)
          throw new FetchRefused(
            `is on ${host}, which is a ${kind} address (${address}); only public addresses are fetched unless VALET_CIMD_HOSTS names the host`,
          );
      }
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  }
}

/** True when `clientId` is meant as a client ID metadata document URL. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

function checkUrl(clientId: string): URL {
  if (clientId.length > MAX_URL_LENGTH)
    throw new FetchRefused(`has a URL longer than ${MAX_URL_LENGTH} characters`);
  if (!URL.canParse(clientId)) throw new FetchRefused('has no valid URL');
  const url = new URL(clientId);
  if (url.protocol !== 'https:') throw new FetchRefused('is not on https');
  if (url.pathname === '/') throw new FetchRefused('has a URL without a path');
  if (clientId.includes('#')) throw new FetchRefused('has a URL with a fragment');
  if (url.username || url.password)
    throw new FetchRefused('has a URL with a user name or password');
  return url;
}

/** min(max-age, an hour), and at least a minute so that one client cannot make us fetch on every request. */
function cacheSeconds(cacheControl: string | undefined): number {
  const maxAge = /(?:^|[,\s])max-age=(\d+)/i.exec(cacheControl ?? '')?.[1];
  const noStore = /no-store|no-cache/i.test(cacheControl ?? '');
  const seconds = noStore ? 0 : maxAge === undefined ? MAX_CACHE_S : Number(maxAge);
  return Math.min(MAX_CACHE_S, Math.max(MIN_CACHE_S, seconds));
}

function parse(text: string): CacheEntry {
  return JSON.parse(text) as CacheEntry;
}

/** The URL for a message: one line, not too long. */
function shown(clientId: string): string {
  // eslint-disable-next-line no-control-regex -- a client-supplied URL must stay on one line
  const oneLine = clientId.replace(/[\s\u0000-\u001f]+/g, ' ');
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
