import { decodeEntities } from './html-entities.ts';
import { scanHtml, type HtmlAttribute } from './html-tokens.ts';

/** A URL a mail loads when it is opened, or links to. */
export interface FoundUrl {
  kind: 'load' | 'link';
  url: URL;
  /** Where it is: `img src`, `CSS`, `in the text`… */
  where: string;
  /** A link's own text, to compare with where it goes. */
  text?: string;
}

/** Characters of a link's text kept for the comparison with its target. */
const MAX_LINK_TEXT = 300;
/** How deep `<iframe srcdoc>` documents are read, each within the one before. */
const MAX_SRCDOC_DEPTH = 2;
/** Attributes that load what they name whatever the element (`<img src>`, `<td background>`…). */
const LOAD_ATTRIBUTES = new Set(['src', 'lowsrc', 'dynsrc', 'poster', 'background', 'manifest']);
/** Attributes that hold a list of URLs with sizes (`a.png 1x, b.png 2x`). */
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset']);
/** Attributes that go somewhere when the reader clicks or submits. */
const LINK_ATTRIBUTES = new Set(['action', 'formaction']);
/** Schemes whose URLs carry their content or point inside the mail: nothing leaves the machine. */
const INNER_SCHEMES = new Set(['cid:', 'mid:', 'data:', 'about:', 'blob:']);

/**
 * Every external URL an HTML mail would load when opened (images, styles, backgrounds,
 * frames, CSS `url()` and `@import`, `srcset`, a refresh) or link to (links, forms, and URLs
 * in its text, which mail programs turn into links), in document order. Commented-out markup
 * is skipped, but Outlook's conditional comments are read. Relative URLs count only under a
 * `<base href>`. Linear time, like the tokeniser it runs on.
 */
export function htmlUrls(html: string): FoundUrl[] {
  const raw = rawHtmlUrls(html, 0);
  const base = raw.base === undefined ? undefined : absolute(raw.base, undefined);
  return raw.found.flatMap((r) => {
    const url = absolute(r.url, base);
    return url ? [{ kind: r.kind, url, where: r.where, ...(r.text ? { text: r.text } : {}) }] : [];
  });
}

/** URLs in plain text that a mail program would turn into links: `scheme://…` and `www.…`. */
export function textUrls(text: string): FoundUrl[] {
  return urlsInText(text).flatMap((written) => {
    const url = absolute(written, undefined);
    return url ? [{ kind: 'link' as const, url, where: 'in the text' }] : [];
  });
}

interface RawUrl {
  kind: 'load' | 'link';
  url: string;
  where: string;
  text?: string;
}

function rawHtmlUrls(html: string, depth: number): { found: RawUrl[]; base?: string } {
  const found: RawUrl[] = [];
  let base: string | undefined;
  let link: RawUrl | undefined;
  const add = (kind: RawUrl['kind'], url: string, where: string) =>
    found.push({ kind, url, where });
  scanHtml(html, {
    text(rawText) {
      const text = decodeEntities(rawText);
      if (link) link.text = `${link.text ?? ''}${text}`.slice(0, MAX_LINK_TEXT);
      else for (const url of urlsInText(text)) add('link', url, 'in the text');
    },
    rawText(tag, content) {
      if (tag === 'style') for (const url of cssUrls(content)) add('load', url, 'CSS');
    },
    endTag(tag) {
      if (tag === 'a') link = undefined;
    },
    startTag(tag, attributes) {
      if (tag === 'a') link = undefined;
      for (const attribute of attributes) {
        const target = linkTarget(tag, attribute);
        if (target !== undefined) {
          const entry: RawUrl = { kind: 'link', url: target, where: `${tag} ${attribute.name}` };
          found.push(entry);
          if (tag === 'a') link = entry;
        } else if (tag === 'base' && attribute.name === 'href') {
          base ??= attribute.value;
        } else if (attribute.name === 'srcdoc' && depth < MAX_SRCDOC_DEPTH) {
          for (const inner of rawHtmlUrls(attribute.value, depth + 1).found)
            found.push({ ...inner, where: `${tag} srcdoc, ${inner.where}` });
        } else {
          for (const url of loadedBy(tag, attribute, attributes))
            add('load', url, `${tag} ${attribute.name}`);
        }
      }
    },
  });
  return { found, ...(base !== undefined ? { base } : {}) };
}

/** Where a link attribute goes, or undefined when the attribute is not a link. */
function linkTarget(tag: string, { name, value }: HtmlAttribute): string | undefined {
  if ((tag === 'a' || tag === 'area') && (name === 'href' || name === 'xlink:href')) return value;
  return LINK_ATTRIBUTES.has(name) ? value : undefined;
}

/** The URLs an attribute makes the mail load. */
function loadedBy(tag: string, { name, value }: HtmlAttribute, all: HtmlAttribute[]): string[] {
  if (LOAD_ATTRIBUTES.has(name)) return [value];
  if (SRCSET_ATTRIBUTES.has(name)) return srcsetUrls(value);
  if (name === 'style') return cssUrls(value);
  if (name === 'ping') return value.split(/\s+/).filter(Boolean);
  // <link href>, SVG <image href> and <use href>: anything but a link's href loads.
  if (name === 'href' || name === 'xlink:href') return [value];
  if ((tag === 'object' && name === 'data') || (tag === 'applet' && name === 'codebase'))
    return [value];
  if (tag === 'meta' && name === 'content') {
    const refresh = all.some(
      (a) => a.name === 'http-equiv' && a.value.trim().toLowerCase() === 'refresh',
    );
    const target = /^[^;,]*[;,]\s*(?:url\s*=\s*)?["']?([^"'\s]+)/i.exec(value)?.[1];
    return refresh && target ? [target] : [];
  }
  return [];
}

/** The URLs of a `srcset`: candidates split at commas, each a URL then optional sizes. */
function srcsetUrls(value: string): string[] {
  const urls: string[] = [];
  let p = 0;
  while (p < value.length) {
    while (p < value.length && /[\s,]/.test(value.charAt(p))) p++;
    const start = p;
    while (p < value.length && !/\s/.test(value.charAt(p))) p++;
    let url = value.slice(start, p);
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      const comma = value.indexOf(',', p);
      p = comma === -1 ? value.length : comma + 1;
    }
    if (url) urls.push(url);
  }
  return urls;
}

/**
 * URLs in CSS: `url(…)`, and quoted strings that name a URL (`@import "…"`, `image-set("…")`).
 * Comments go first and escapes are decoded next, as CSS reads them, so `u\72l(` counts.
 */
export function cssUrls(css: string): string[] {
  let plain = '';
  for (let i = 0; i < css.length;) {
    const open = css.indexOf('/*', i);
    if (open === -1) {
      plain += css.slice(i);
      break;
    }
    plain += `${css.slice(i, open)} `;
    const close = css.indexOf('*/', open + 2);
    i = close === -1 ? css.length : close + 2;
  }
  plain = plain.replace(/\\([0-9a-f]{1,6})[ \t\n\r\f]?|\\([^\n\r\f0-9a-f])/gi, (_, hex, char) => {
    if (char !== undefined) return char as string;
    const code = parseInt(hex as string, 16);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
      ? String.fromCodePoint(code)
      : '\uFFFD';
  });
  const urls: string[] = [];
  const pattern = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))|"([^"]*)"|'([^']*)'/gi;
  for (const m of plain.matchAll(pattern)) {
    const inUrl = m[1] ?? m[2] ?? m[3];
    if (inUrl !== undefined) {
      if (inUrl.trim()) urls.push(inUrl.trim());
      continue;
    }
    const quoted = (m[4] ?? m[5] ?? '').trim();
    if (/^(?:[a-z][a-z0-9+.-]*:|\/\/|\\\\)/i.test(quoted)) urls.push(quoted);
  }
  return urls;
}

/**
 * `scheme://…` and `www.…` runs in text, without the punctuation that ends a sentence;
 * `www.…` as mail programs link it, with http.
 */
function urlsInText(text: string): string[] {
  const urls: string[] = [];
  for (const m of text.matchAll(/\b(?:[a-z][a-z0-9+.-]{0,30}:\/\/|www\.)[^\s<>"]+/gi)) {
    let url = m[0].replace(/[.,;:!?'"»”’]+$/, '');
    if (url.endsWith(')') && !url.includes('(')) url = url.replace(/\)+$/, '');
    if (url.length > 4) urls.push(/^www\./i.test(url) ? `http://${url}` : url);
  }
  return urls;
}

/**
 * A URL as a mail program would reach it, or undefined when it reaches nothing outside the
 * mail: relative without a base, a fragment, or an inline or in-mail scheme (`cid:`, `data:`).
 * `//host/…` is taken as https, and a Windows share path (`\\host\share`) as a file URL.
 */
function absolute(written: string, base: URL | undefined): URL | undefined {
  // eslint-disable-next-line no-control-regex -- what the URL parser trims, so do we
  const value = written.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  if (value === '') return undefined;
  let url: URL | undefined;
  if (/^\\\\[^\\]/.test(value) || /^\/\/\\/.test(value)) {
    url = parse(`file:${value.replace(/\\/g, '/')}`);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    url = parse(value);
  } else if (base) {
    url = parse(value, base);
  } else if (/^[/\\]{2}/.test(value)) {
    url = parse(`https:${value}`);
  }
  return url && !INNER_SCHEMES.has(url.protocol) ? url : undefined;
}

function parse(value: string, base?: URL): URL | undefined {
  return URL.canParse(value, base?.href) ? new URL(value, base) : undefined;
}
