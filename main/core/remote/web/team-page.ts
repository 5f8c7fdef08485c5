import type { Response } from 'express';
import { CONTENT_SECURITY_POLICY } from '../../web/csp.ts';
import { readWindowFile } from '../../web/static-files.ts';
import { escapeHtml } from './pages.ts';

/** The `<meta>` that tells the window it is a team server's page (renderer/src/main.tsx reads it). */
export const REMOTE_MODE_META = '<meta name="mcp-valet-mode" content="remote">';

/**
 * The built window's index.html, marked as a team server's page: a `<meta>` says remote mode
 * and another the public path its API is under (no inline script, which the CSP would refuse).
 * Undefined when the window is not built in `dir`.
 */
export async function teamPageHtml(dir: string, basePath: string): Promise<string | undefined> {
  const file = await readWindowFile(dir, '/');
  if (!file) return undefined;
  const html = file.body.toString('utf8');
  const marks = `${REMOTE_MODE_META}<meta name="mcp-valet-base" content="${escapeHtml(basePath)}">`;
  return html.includes('<head>') ? html.replace('<head>', `<head>${marks}`) : undefined;
}

/**
 * Sends the team page: the window's own CSP (its scripts, styles and API only, no inline
 * script or style, no frames, no form posts), never cached.
 */
export function sendTeamPage(res: Response, html: string): void {
  res
    .status(200)
    .set({
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
    })
    .type('html')
    .send(html);
}

/**
 * Sends a file of the built window under `<public>/assets/`: what the desktop's app:// scheme
 * and the web bridge send, with the same headers. Resolves to false when there is no such file.
 */
export async function sendWindowAsset(res: Response, dir: string, path: string): Promise<boolean> {
  const file = await readWindowFile(dir, path);
  if (!file) return false;
  res.status(200).set(file.headers).send(file.body);
  return true;
}
