import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../../config/load-config.ts';
import { ValetError } from '../../util/valet-error.ts';
import { LOOPBACK_HOSTS } from '../remote-settings.ts';

/** How long requests in flight may finish once the server stops, before their connections close. */
export const STOP_GRACE_MS = 5000;

/** What the listener needs from the configuration. */
export interface ListenerConfig {
  publicUrl: string;
  listen: { host: string; port: number };
  tls: { certFile: string; keyFile: string } | undefined;
  trustProxy: number | string[];
}

/** A listening remote server. */
export interface RemoteListener {
  /** Where it listens, with the real port: `http://127.0.0.1:8080`, `https://[::]:8443`. */
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Refuses plain http where nothing else provides TLS: without a certificate the server must sit
 * behind a TLS proxy (`--trust-proxy`), unless its public URL is on this machine's loopback.
 */
export function checkTransport(config: ListenerConfig): void {
  if (config.tls) return;
  const behindProxy = config.trustProxy !== 0;
  if (behindProxy || LOOPBACK_HOSTS.has(new URL(config.publicUrl).hostname)) return;
  throw new ConfigError(
    'tlsCert',
    `Plain http is only served behind a TLS proxy or on localhost: give --tls-cert and --tls-key (VALET_TLS_CERT_FILE, VALET_TLS_KEY_FILE) to serve https, or put the server behind a TLS proxy and pass --trust-proxy with its hop count`,
  );
}

/** Starts the HTTP(S) server for `handler` on the configured address. */
export async function listenRemote(
  handler: RequestListener,
  config: ListenerConfig,
): Promise<RemoteListener> {
  checkTransport(config);
  const server = config.tls
    ? createHttpsServer(await readTls(config.tls), handler)
    : createHttpServer(handler);
  const { host, port } = config.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err as NodeJS.ErrnoException, host, port)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${config.tls ? 'https' : 'http'}://${shownHost}:${bound}`,
    port: bound,
    close: (graceMs = STOP_GRACE_MS) => closeServer(server, graceMs),
  };
}

async function readTls(tls: { certFile: string; keyFile: string }) {
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  try {
    // Parsed here, so that a bad pair is reported at start rather than at the first handshake.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(
      'tlsCert',
      `The TLS certificate ${tls.certFile} and key ${tls.keyFile} cannot be used together (${(err as NodeJS.ErrnoException).code ?? 'not PEM'}): give the PEM certificate and its own private key`,
    );
  }
  return { cert, key };
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): ValetError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const fix =
    err.code === 'EADDRINUSE'
      ? 'is in use by another program: stop it or choose another port in --listen'
      : err.code === 'EACCES'
        ? 'needs privileges this user does not have: choose a port above 1023 in --listen'
        : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
          ? 'is not an address of this machine: use 0.0.0.0, [::] or one of its own addresses in --listen'
          : `cannot be listened on (${err.code ?? err.message})`;
  return new ValetError('listen_failed', `--listen ${where} ${fix}`, { cause: err });
}

function closeServer(server: Server | HttpsServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs).unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
