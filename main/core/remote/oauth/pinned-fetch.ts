import { request } from 'node:https';
import type { LookupFunction } from 'node:net';

/** How far a fetch of a client-supplied URL may go. */
export interface FetchLimits {
  /** The whole request, connection to last byte. */
  timeoutMs: number;
  /** The most body bytes read; a larger body is refused. */
  maxBytes: number;
}

/** A fetch refused or failed, with why in a few words that finish "the document … ". */
export class FetchRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'FetchRefused';
  }
}

/** What a pinned fetch got: the status, the Cache-Control header and the body as text. */
export interface PinnedResponse {
  status: number;
  cacheControl: string | undefined;
  body: string;
}

/**
 * GETs an https URL from the one address given, already checked by the caller: the socket
 * connects there and nowhere else (no second DNS lookup that could answer differently), while
 * TLS still checks the certificate against the URL's host. No redirect is followed, no proxy is
 * used, and the body is cut off at `maxBytes` and the whole exchange at `timeoutMs`.
 */
export function pinnedGet(
  url: URL,
  pin: { address: string; family: 4 | 6 },
  limits: FetchLimits,
): Promise<PinnedResponse> {
  if (url.protocol !== 'https:') return Promise.reject(new FetchRefused('is not https'));
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [pin]);
    else callback(null, pin.address, pin.family);
  };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port: url.port || 443,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'mcp-valet' },
      lookup,
      agent: false,
      // SNI names a host; an address literal is checked against the certificate's IP names.
      ...(pin.address === host ? {} : { servername: host }),
    });
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(
        err instanceof FetchRefused ? err : new FetchRefused(`could not be fetched (${why(err)})`),
      );
    };
    const timer = setTimeout(
      () => fail(new FetchRefused(`did not arrive within ${limits.timeoutMs / 1000} s`)),
      limits.timeoutMs,
    );
    req.on('error', fail);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400)
        return fail(
          new FetchRefused(`answered with a redirect (HTTP ${status}), which is not followed`),
        );
      if (Number(res.headers['content-length']) > limits.maxBytes) return fail(tooLarge(limits));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) fail(tooLarge(limits));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status,
          cacheControl: res.headers['cache-control'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end();
  });
}

function tooLarge(limits: FetchLimits): FetchRefused {
  return new FetchRefused(`is larger than ${limits.maxBytes} bytes`);
}

/** The cause of a network or TLS failure, without anything the server sent. */
function why(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'network error';
}
