import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientsStore } from '../../../../main/core/remote/oauth/clients-store.ts';
import { consentRouter } from '../../../../main/core/remote/oauth/consent-router.ts';
import { PendingRequests } from '../../../../main/core/remote/oauth/pending-requests.ts';
import { RemoteKeys } from '../../../../main/core/remote/oauth/remote-keys.ts';
import { ValetTokens } from '../../../../main/core/remote/oauth/valet-tokens.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';

describe('the consent page sends a browser that is not signed in to the web sign-in', () => {
  const store = new MemoryStore();
  let http: Server;
  let origin: string;

  beforeAll(async () => {
    const app = express();
    http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const keys = new RemoteKeys(store);
    // Published under a path, as behind a proxy that serves several apps on one host.
    app.use(
      '/valet',
      consentRouter({
        store,
        pending: new PendingRequests(store),
        clientsStore: createClientsStore({ store, dcr: true, cimd: undefined }),
        keys,
        tokens: new ValetTokens({
          store,
          keys,
          logger: silentLogger,
          tokenTtlSeconds: 3600,
          refreshTtlSeconds: 7200,
        }),
        currentUser: () => null,
        issuer: `${origin}/valet`,
        consentTtlDays: 90,
        logger: silentLogger,
      }),
    );
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await store.close();
  });

  it('under the public URL path, and back to the same consent page afterwards', async () => {
    const id = `mvq_${'a'.repeat(43)}`;
    const response = await fetch(`${origin}/valet/consent/${id}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(
      `/valet/auth/login?returnTo=${encodeURIComponent(`/valet/consent/${id}`)}`,
    );
  });
});
