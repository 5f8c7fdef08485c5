import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { issueServerCertificate } from '../../main/demo/idp/index.ts';

/** An https server on loopback that serves client ID metadata documents, signed by the run's CA. */
export interface CimdHost {
  port: number;
  /** Requests it answered, by path, with the Host header they carried. */
  requests: Array<{ path: string; host: string }>;
  close(): Promise<void>;
}

/** Starts the host; `handle` answers each request; its certificate names `dns` and 127.0.0.1. */
export async function startCimdHost(
  handle: (req: IncomingMessage, res: ServerResponse, port: number) => void,
  dns: string[] = ['localhost'],
): Promise<CimdHost> {
  const cert = await issueServerCertificate(inject('idpCa'), { dns, ips: ['127.0.0.1'] });
  const requests: CimdHost['requests'] = [];
  let port = 0;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    requests.push({ path: req.url ?? '', host: req.headers.host ?? '' });
    handle(req, res, port);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
