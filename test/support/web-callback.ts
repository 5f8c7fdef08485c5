import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { issueServerCertificate } from '../../main/demo/idp/index.ts';

/** A web app's redirect endpoint over the run's CA: it records what the IdP sent back. */
export interface WebCallback {
  /** `https://localhost:<port>/auth/callback`, to register as the app's redirect URI. */
  readonly redirectUri: string;
  /** Waits for the next redirect to arrive and returns its query parameters. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

/**
 * Starts an https endpoint on 127.0.0.1 that plays a web app's `/auth/callback`: it keeps
 * the query of each redirect and answers a page with a status line, which is where the
 * browser helpers consider the IdP done.
 */
export async function startWebCallback(): Promise<WebCallback> {
  const certificate = await issueServerCertificate(inject('idpCa'), {
    dns: ['localhost'],
    ips: ['127.0.0.1'],
  });
  const arrived: URLSearchParams[] = [];
  const waiting: Array<(query: URLSearchParams) => void> = [];
  const server = createServer(
    { cert: certificate.certPem, key: certificate.keyPem },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      if (url.pathname !== '/auth/callback') {
        res.writeHead(404).end();
        return;
      }
      const wake = waiting.shift();
      if (wake) wake(url.searchParams);
      else arrived.push(url.searchParams);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Signed in</title><p role="status">Signed in.</p>');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `https://localhost:${port}/auth/callback`,
    next: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
