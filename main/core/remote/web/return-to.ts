/**
 * The page to go to after sign-in, if `raw` is a path on the public origin: `//evil.example`,
 * `https://evil.example`, `/\evil.example` and anything that resolves elsewhere is refused, so
 * the sign-in cannot be used to send a user to another site. Returns the path, query and
 * fragment, or undefined.
 */
export function safeReturnTo(raw: unknown, publicUrl: string): string | undefined {
  if (typeof raw !== 'string' || raw.length > 2000) return undefined;
  // Browsers read a backslash as a slash and drop tabs and newlines: such paths are refused whole.
  if (!raw.startsWith('/') || raw.startsWith('//') || hasBackslashOrControl(raw)) return undefined;
  const origin = new URL(publicUrl).origin;
  const parsed = URL.parse(raw, origin);
  if (!parsed || parsed.origin !== origin) return undefined;
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

function hasBackslashOrControl(text: string): boolean {
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\\' || code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
