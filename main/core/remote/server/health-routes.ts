import { Router } from 'express';
import type { SharedStore } from '../store/shared-store.ts';

/** Seconds a load balancer is told to wait before asking `/readyz` again. */
export const READY_RETRY_AFTER_SECONDS = 5;

/** What readiness depends on. */
export interface ReadinessDeps {
  store: Pick<SharedStore, 'ping'>;
  /** Whether the authority's metadata is loaded (sign-ins cannot start without it). */
  authorityLoaded: () => boolean;
}

/**
 * `/healthz`: the process answers (liveness; never restarts a server for a dependency's
 * fault). `/readyz`: the shared store answers and the authority's metadata is loaded, else 503
 * with Retry-After, so a load balancer sends calls elsewhere meanwhile.
 */
export function healthRoutes(deps: ReadinessDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const waiting: string[] = [];
    try {
      await deps.store.ping();
    } catch {
      waiting.push('store');
    }
    if (!deps.authorityLoaded()) waiting.push('authority');
    if (waiting.length === 0) {
      res.json({ status: 'ready' });
      return;
    }
    res
      .status(503)
      .set('retry-after', String(READY_RETRY_AFTER_SECONDS))
      .json({ status: 'not ready', waiting });
  });
  return router;
}
