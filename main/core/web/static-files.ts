import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY } from './csp.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** A file of the built window, with the headers every response of it carries. */
export interface WindowFile {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads a file of the built window for a URL path ('/' is index.html). Paths that leave
 * `dir` and files that do not exist give undefined. The CSP travels as a header on every file,
 * for the web bridge and the desktop's app:// scheme alike.
 */
export async function readWindowFile(
  dir: string,
  urlPath: string,
): Promise<WindowFile | undefined> {
  const root = resolve(dir);
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
  if (!file.startsWith(root + sep)) return undefined;
  const body = await readFile(file).catch(() => undefined);
  if (!body) return undefined;
  return {
    body,
    headers: {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
  };
}
