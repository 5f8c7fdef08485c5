const BLOCK = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'div',
  'dl',
  'dt',
  'dd',
  'fieldset',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tr',
  'ul',
]);
/** Elements whose content is not text a reader sees. */
const HIDDEN = new Set(['head', 'script', 'style', 'title', 'template', 'noscript', 'xml']);

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
  divide: '÷',
  laquo: '«',
  raquo: '»',
  zwnj: '',
  zwj: '',
  shy: '',
};

/** Decodes the character references of HTML text (named ones of mail, and all numeric ones). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,9});/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : '\uFFFD';
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  const value = match?.[1] ?? match?.[2] ?? match?.[3];
  return value === undefined ? undefined : decodeEntities(value);
}

/** Open links tracked for their targets; deeper nesting is not real mail and is ignored. */
const MAX_OPEN_LINKS = 8;
/** Attributes are read from at most this much of a tag, so a hostile tag cannot cost more. */
const MAX_TAG_READ = 2048;

/**
 * Readable text from an HTML mail body: paragraphs and line breaks kept, list items
 * bulleted, link targets shown after their text, scripts, styles and comments dropped.
 * One forward scan with indexOf, so hostile markup (mail comes from anyone) costs linear time.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  const links: Array<{ href: string | undefined; at: number }> = [];
  let hiddenUntil: string | undefined;
  let i = 0;
  let gt = -1;
  const text = (raw: string) => {
    if (hiddenUntil === undefined && raw !== '') out.push(decodeEntities(raw).replace(/\s+/g, ' '));
  };
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      text(html.slice(i));
      break;
    }
    text(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    // The next '>' only moves forward, so many stray '<' before it are not rescanned.
    if (gt <= lt) gt = html.indexOf('>', lt + 1);
    if (gt === -1) {
      text(html.slice(lt));
      break;
    }
    const name = /^<(\/?)([a-z][a-z0-9]*)/i.exec(html.slice(lt, lt + 16));
    if (!name && !/^<[!?]/.test(html.slice(lt, lt + 2))) {
      text('<'); // not a tag, as in "a < b"
      i = lt + 1;
      continue;
    }
    const tagText = html.slice(lt, Math.min(gt, lt + MAX_TAG_READ));
    i = gt + 1;
    if (!name) continue; // <!DOCTYPE …>, <?xml …?>
    const closing = name[1] === '/';
    const tag = (name[2] ?? '').toLowerCase();
    if (hiddenUntil !== undefined) {
      if (closing && tag === hiddenUntil) hiddenUntil = undefined;
    } else if (HIDDEN.has(tag)) {
      if (!closing && !tagText.endsWith('/')) hiddenUntil = tag;
    } else if (tag === 'br') {
      out.push('\n');
    } else if (tag === 'li') {
      if (!closing) out.push('\n• ');
    } else if (tag === 'td' || tag === 'th') {
      if (closing) out.push('\t');
    } else if (tag === 'img') {
      const alt = closing ? undefined : attribute(tagText, 'alt');
      if (alt) out.push(`[${alt}]`);
    } else if (tag === 'a') {
      if (!closing && links.length < MAX_OPEN_LINKS)
        links.push({ href: attribute(tagText, 'href'), at: out.length });
      else if (closing) out.push(linkTarget(links.pop(), out));
    } else if (BLOCK.has(tag)) {
      out.push(tag === 'p' || /^h\d$/.test(tag) ? '\n\n' : '\n');
    }
  }
  return tidyLines(out.join(''));
}

/** " (https://…)" after a link's text, unless the text already is the target. */
function linkTarget(
  link: { href: string | undefined; at: number } | undefined,
  out: string[],
): string {
  const href = link?.href?.trim();
  if (!link || !href || !/^(https?|mailto):/i.test(href)) return '';
  const label = out.slice(link.at).join('').trim();
  return label === href || `mailto:${label}` === href ? '' : ` (${href})`;
}

/** Trims every line, collapses runs of spaces and of blank lines, and trims the whole. */
export function tidyLines(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Cuts text to at most `max` characters without splitting a surrogate pair. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const cut = /[\uDC00-\uDFFF]/.test(text.charAt(max)) ? max - 1 : max;
  return { text: text.slice(0, cut), truncated: true };
}
