/**
 * Whether a URL path, once decoded, could climb out of where it starts: a `.` or `..`
 * segment between slashes or backslashes, or an escape still left after one decoding (a
 * server that decodes twice would see `%2e%2e` as `..`). `pathname` is as `URL` gives it,
 * so plain and `%2e` dot segments are already resolved; what remains is the encoded kind.
 */
export function climbsOut(pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return true; // a broken escape: no telling what a server makes of it
  }
  if (/%(2e|2f|5c)/i.test(decoded) || /\p{Cc}/u.test(decoded)) return true;
  return decoded.split(/[/\\]/).some((part) => part === '.' || part === '..');
}

/**
 * The path of `link` below `base`, decoded (`/me/messages`), when the link is on the same
 * origin, under the base path, carries no user name or password and cannot climb out of
 * the base path; else undefined. The URL is parsed first, so the check sees what fetch sends.
 */
export function pathBelow(link: string, base: URL): string | undefined {
  if (!URL.canParse(link)) return undefined;
  const url = new URL(link);
  const prefix = base.pathname.replace(/\/+$/, '');
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') return undefined;
  if (!url.pathname.startsWith(`${prefix}/`) || climbsOut(url.pathname)) return undefined;
  return decodeURIComponent(url.pathname.slice(prefix.length));
}
