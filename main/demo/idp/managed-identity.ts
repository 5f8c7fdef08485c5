import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FederatedTokenIssuer } from './federated-issuer.ts';
import { isGuid } from './users.ts';

/** The API version of App Service's identity endpoint that MSAL speaks. */
export const APP_SERVICE_API_VERSION = '2019-08-01';
/** The path of the endpoint, as App Service's IDENTITY_ENDPOINT names it. */
const TOKEN_PATH = '/msi/token';

/** A managed identity assigned to the host. */
export interface ManagedIdentity {
  /** Client (application) ID, a GUID: how a user-assigned identity is chosen (`client_id`). */
  clientId: string;
  /** Object (principal) ID, a GUID: the `sub` and `oid` of its tokens. */
  objectId: string;
  /** Whether it is the host's system-assigned identity, chosen when the request names none. */
  systemAssigned?: boolean;
}

/** Settings for `startManagedIdentityEndpoint`. */
export interface ManagedIdentityOptions {
  /** Signs the identities' tokens; the app's federated credentials trust its issuer. */
  issuer: FederatedTokenIssuer;
  identities: readonly ManagedIdentity[];
  /** Lifetime of issued tokens in seconds (an hour by default). */
  tokenTtlSeconds?: number;
}

/** One request the endpoint answered, for tests to inspect. */
export interface ManagedIdentityRequestRecord {
  at: number;
  status: number;
  /** The `resource` query parameter. */
  resource?: string;
  /** The identity the token was issued for, when one was. */
  objectId?: string;
}

/** A running identity endpoint. */
export interface RunningManagedIdentityEndpoint {
  /** `http://127.0.0.1:<port>/msi/token`: App Service's IDENTITY_ENDPOINT. */
  readonly endpoint: string;
  /** The value IDENTITY_HEADER must hold; `setHeader` changes it. */
  readonly header: string;
  /** The environment App Service gives the app: IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  environment(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  /** Every request, oldest first. */
  readonly requests: ManagedIdentityRequestRecord[];
  /** Makes the endpoint expect another header value, as the platform does when it rotates it. */
  setHeader(value: string): void;
  close(): Promise<void>;
}

function checkIdentities(identities: readonly ManagedIdentity[]): void {
  for (const identity of identities) {
    if (!isGuid(identity.clientId) || !isGuid(identity.objectId)) {
      throw new Error(
        `Managed identity ${identity.clientId}: the client ID and object ID must be GUIDs.`,
      );
    }
  }
  if (identities.filter((i) => i.systemAssigned).length > 1) {
    throw new Error('A host has at most one system-assigned managed identity.');
  }
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** App Service's error shape, which MSAL reads through `message`. */
function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ statusCode: status, message }));
}

/**
 * Starts a stand-in for App Service's managed identity endpoint on 127.0.0.1 over plain
 * http, as the platform serves it to the app. It answers what MSAL's AppService source
 * sends, which MSAL picks when IDENTITY_ENDPOINT and IDENTITY_HEADER are both set in
 * `process.env`: `GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=<resource>`
 * (plus `client_id`, `object_id` or `mi_res_id` for a user-assigned identity) with the
 * `X-IDENTITY-HEADER` header, and it answers `{access_token, expires_on, resource,
 * token_type, client_id}` with `expires_on` in epoch seconds as a string, like the platform.
 * A missing or wrong header is refused with 401, before anything else is looked at.
 */
export async function startManagedIdentityEndpoint(
  options: ManagedIdentityOptions,
): Promise<RunningManagedIdentityEndpoint> {
  checkIdentities(options.identities);
  const ttl = options.tokenTtlSeconds ?? 3600;
  let header = randomBytes(16).toString('hex');
  const requests: ManagedIdentityRequestRecord[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: ManagedIdentityRequestRecord = { at: Date.now(), status: 0 };
    requests.push(record);
    const answer = (status: number, message: string) => {
      record.status = status;
      sendError(res, status, message);
    };
    if (url.pathname.toLowerCase() !== TOKEN_PATH || req.method !== 'GET') {
      answer(404, 'Not found.');
      return;
    }
    if (!sameSecret(req.headers['x-identity-header'], header)) {
      answer(401, 'X-IDENTITY-HEADER is missing or invalid.');
      return;
    }
    const apiVersion = url.searchParams.get('api-version');
    if (apiVersion !== APP_SERVICE_API_VERSION) {
      answer(
        400,
        `The api-version '${apiVersion ?? ''}' is not supported; use ${APP_SERVICE_API_VERSION}.`,
      );
      return;
    }
    const resource = url.searchParams.get('resource');
    if (!resource) {
      answer(400, "The 'resource' query parameter is required.");
      return;
    }
    record.resource = resource;
    const clientId = url.searchParams.get('client_id');
    const objectId = url.searchParams.get('object_id') ?? url.searchParams.get('principal_id');
    const identity = options.identities.find((i) =>
      clientId !== null
        ? i.clientId === clientId
        : objectId !== null
          ? i.objectId === objectId
          : i.systemAssigned === true,
    );
    if (!identity || url.searchParams.has('mi_res_id')) {
      answer(400, 'Unable to load the proper Managed Identity.');
      return;
    }
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + ttl * 1000);
    const accessToken = await options.issuer.sign({
      subject: identity.objectId,
      audience: resource,
      issuedAt,
      expiresAt,
      extra: { oid: identity.objectId, appid: identity.clientId },
    });
    record.status = 200;
    record.objectId = identity.objectId;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({
        access_token: accessToken,
        expires_on: String(Math.floor(expiresAt.getTime() / 1000)),
        resource,
        token_type: 'Bearer',
        client_id: identity.clientId,
      }),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('Managed identity endpoint failed:', error);
      if (!res.headersSent) sendError(res, 500, 'Internal error.');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}${TOKEN_PATH}`;
  return {
    endpoint,
    get header() {
      return header;
    },
    environment: () => ({ IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header }),
    requests,
    setHeader(value) {
      if (!value) throw new Error('The identity header must not be empty.');
      header = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
