/**
 * The window's Content-Security-Policy, the same in the Electron window and in the browser:
 * nothing but the app's own scripts, styles and API; no inline script or style, no frames.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
