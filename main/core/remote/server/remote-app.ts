import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { describeError, isValetError } from '../../util/valet-error.ts';
import type { Logger } from '../../util/logger.ts';
import {
  limitBody,
  MAX_BODY_BYTES,
  refuse,
  refuseForeignOrigin,
  requirePublicHost,
  securityHeaders,
} from './guards.ts';

/**
 * One part of the remote server, mounted under the public URL's path in list order: health,
 * the authorization server, web sign-in, MCP. New parts are added to the list the composition
 * root builds; none of them repeats the guards, which run before every part.
 */
export interface RemoteRoute {
  /** What the part serves, for the start log. */
  name: string;
  handler: express.RequestHandler;
}

/** How the remote app is put together. */
export interface RemoteAppOptions {
  /** The canonical public URL; Host, Origin and every URL the server writes come from it. */
  publicUrl: string;
  /** Express's `trust proxy`: hops or the proxies' addresses, for X-Forwarded-For. */
  trustProxy: number | string[];
  /** Origins allowed besides the public one (none by default). */
  extraOrigins?: readonly string[];
  maxBodyBytes?: number;
  routes: readonly RemoteRoute[];
  logger: Logger;
}

/** How long a client is told to wait while the shared store cannot be reached. */
const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * The remote server's express app: the guards on every request (security headers, Host,
 * Origin, body size), then the routes in order, then a 404, and a 500 that says nothing of the
 * failure to the caller (the log has its one-line cause).
 */
export function createRemoteApp(options: RemoteAppOptions): Express {
  const { publicUrl, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy === 0 ? false : options.trustProxy);
  app.use(securityHeaders(publicUrl));
  app.use(requirePublicHost(publicUrl));
  app.use(refuseForeignOrigin([new URL(publicUrl).origin, ...(options.extraOrigins ?? [])]));
  app.use(limitBody(options.maxBodyBytes ?? MAX_BODY_BYTES));
  const basePath = new URL(publicUrl).pathname.replace(/\/+$/, '') || '/';
  if (basePath !== '/') app.use(wellKnownAtHostRoot(basePath));
  for (const route of options.routes) app.use(basePath, route.handler);
  app.use((_req: Request, res: Response) => refuse(res, 404, 'Not found'));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    // Body parsers mark what the caller got wrong (too large, not parseable) with a 4xx status.
    if (typeof status === 'number' && status >= 400 && status < 500) {
      refuse(res, status, status === 413 ? 'The request body is too large' : 'Bad request');
      return;
    }
    if (isValetError(err) && err.code === 'store-unavailable') {
      // Redis is away or slow: nothing was done, and the client may retry shortly.
      logger.warn(`${req.method} ${req.path} refused: ${err.message}`);
      if (res.headersSent) res.end();
      else {
        res.set('retry-after', String(STORE_RETRY_AFTER_SECONDS));
        refuse(res, 503, 'The server cannot reach its shared store; retry shortly');
      }
      return;
    }
    logger.error(`${req.method} ${req.path} failed: ${describeError(err)}`);
    if (res.headersSent) res.end();
    else refuse(res, 500, 'The server failed to answer this request; the failure is logged');
  });
  return app;
}

const WELL_KNOWN =
  /^\/\.well-known\/(oauth-authorization-server|oauth-protected-resource)(\/[^?]*)?(\?.*)?$/;

/**
 * Under a path of its host (`https://host/team`), the metadata documents are where the specs
 * put them, at the host's root with the path after the well-known name (RFC 8414 §3.1,
 * RFC 9728 §3.1): `/.well-known/oauth-authorization-server/team` and
 * `/.well-known/oauth-protected-resource/team/mcp` are served as `/team/.well-known/…`, which a
 * proxy forwarding only `/team` reaches too. Another path's documents are not ours.
 */
function wellKnownAtHostRoot(basePath: string) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const match = WELL_KNOWN.exec(req.url);
    const rest = match?.[2] ?? '';
    if (match && (rest === basePath || rest.startsWith(`${basePath}/`)))
      req.url = `${basePath}/.well-known/${match[1]}${rest.slice(basePath.length)}${match[3] ?? ''}`;
    next();
  };
}
