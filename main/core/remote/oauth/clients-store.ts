import { randomUUID } from 'node:crypto';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidClientError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { SharedStore } from '../store/shared-store.ts';
import { isMetadataDocumentUrl, type CimdClients } from './cimd-clients.ts';
import { checkClientMetadata } from './client-metadata.ts';

/** A registered client is forgotten after 90 days without use. */
export const CLIENT_TTL_MS = 90 * 24 * 60 * 60 * 1000;
const MAX_CLIENT_ID_LENGTH = 200;

/** How the clients store is made. */
export interface ClientsStoreOptions {
  store: SharedStore;
  /** Dynamic client registration (VALET_DCR); off: no /register endpoint. */
  dcr: boolean;
  /** Client ID metadata documents (VALET_CIMD); undefined: URL client IDs are refused. */
  cimd: CimdClients | undefined;
  now?: () => number;
}

/**
 * The clients valet mode knows, behind the SDK's OAuthRegisteredClientsStore: clients registered
 * by DCR at `client:{client_id}` (public clients only, kept 90 days after their last use), and
 * clients whose ID is an https URL, read from their metadata document. Without DCR the store
 * has no `registerClient`, so the SDK mounts no /register and advertises none.
 */
export function createClientsStore(options: ClientsStoreOptions): OAuthRegisteredClientsStore {
  const { store, cimd } = options;
  const now = options.now ?? Date.now;
  const getClient = async (clientId: string): Promise<OAuthClientInformationFull | undefined> => {
    if (isMetadataDocumentUrl(clientId)) {
      if (!cimd)
        throw new InvalidClientError(
          'Client IDs that are URLs (client ID metadata documents) are turned off on this server (VALET_CIMD); register the client instead',
        );
      return cimd.client(clientId);
    }
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return undefined;
    const key = `client:${clientId}`;
    const record = await store.get(key);
    if (record === null) return undefined;
    // Sliding: a client in use is never forgotten.
    await store.expire(key, CLIENT_TTL_MS);
    return JSON.parse(record) as OAuthClientInformationFull;
  };
  if (!options.dcr) return { getClient };
  const registerClient = async (
    request: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>,
  ): Promise<OAuthClientInformationFull> => {
    const metadata = checkClientMetadata(request, 'The registration');
    // The SDK issues a secret unless the method was "none"; a public client never gets one.
    const client: OAuthClientInformationFull = {
      ...metadata,
      client_id: randomUUID(),
      client_id_issued_at: Math.floor(now() / 1000),
    };
    await store.set(`client:${client.client_id}`, JSON.stringify(client), { ttlMs: CLIENT_TTL_MS });
    return client;
  };
  return { getClient, registerClient };
}
