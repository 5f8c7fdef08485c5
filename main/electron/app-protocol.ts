import { protocol } from 'electron';
import { readWindowFile } from '../core/web/static-files.ts';
import { APP_SCHEME } from './window-security.ts';

/** Declares app:// as a standard, secure scheme. Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/**
 * Serves the built window from `dir` on app://valet/, with the CSP as a header: unlike
 * file://, the scheme reaches nothing but those files.
 */
export function serveAppScheme(dir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = await readWindowFile(dir, new URL(request.url).pathname);
    if (!file) return new Response('Not found', { status: 404 });
    return new Response(new Uint8Array(file.body), { headers: file.headers });
  });
}
