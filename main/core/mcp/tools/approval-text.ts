import { domainToUnicode } from 'node:url';
import type { SummaryLine } from '../../approvals/approval-service.ts';
import type { FoundUrl } from './mail-urls.ts';

/**
 * Characters that show as nothing, or change how the text around them shows: controls,
 * format characters (zero-width, bidirectional overrides and isolates, soft hyphen, BOM,
 * tags), private-use, unassigned and lone surrogates, line and paragraph separators, the
 * default-ignorable ones (blank fillers, variation selectors), the braille blank, and the
 * mark brackets themselves, so that no text can pass for a mark (nor, at the start of a
 * line, for the prompt's "… not shown" line).
 */
const INVISIBLE =
  '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cn}\\p{Cs}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}\\u2800\\u27E6\\u27E7';
/** Tag characters (U+E0000–U+E007F) mirror ASCII: a run of them spells hidden text. */
const MARKED = new RegExp(`([\\u{E0000}-\\u{E007F}]+)|(\\p{Zs}{20,})|([${INVISIBLE}])\\3*`, 'gu');
const BLANK = /^[\p{Zs}\t]*$/u;
const NOTHING_VISIBLE = new RegExp(`^[\\p{Zs}\\t${INVISIBLE}]*$`, 'u');
const SHOWS_ON_ITS_OWN = /^[\p{L}\p{N}\p{P}\p{S}\p{M}]$/u;
/** URLs listed one by one per kind; the hosts of any more are still all named. */
const MAX_URLS = 40;
/** Characters of one URL shown. */
const MAX_URL_CHARS = 200;

/**
 * A value as the approving person should see it: every invisible or direction-changing
 * character as a visible mark (`⟦U+202E⟧`, `⟦U+200B ×40⟧`, `⟦hidden tag text: …⟧`), long
 * runs of spaces counted. `multiline` keeps line breaks and tabs; otherwise they are marked
 * too, so that a one-line field (a subject, a recipient) cannot pass for several lines.
 */
export function visible(text: string, multiline = false): string {
  const marked = text.replace(
    MARKED,
    (run, tags?: string, spaces?: string, char?: string, ...rest) => {
      if (tags !== undefined) return tagMark(tags);
      if (spaces !== undefined) return `⟦${codePoints(spaces)} spaces⟧`;
      const c = char ?? '';
      if (multiline && (c === '\n' || c === '\t')) return run;
      const offset = rest[rest.length - 2] as number;
      // U+FE0E/U+FE0F after an emoji or a letter only choose how it is drawn.
      if ((c === '\uFE0E' || c === '\uFE0F') && run.length === 1 && drawnBefore(text, offset))
        return run;
      const n = codePoints(run) / codePoints(c);
      return `⟦${codeName(c)}${n > 1 ? ` ×${n}` : ''}⟧`;
    },
  );
  // A line of the message that starts like the prompt's own "… not shown" line is marked.
  return marked.replace(/(^|\n)…/g, '$1⟦U+2026⟧');
}

/**
 * The start of a long text for the prompt, made `visible`, with at most `lines` lines and
 * `chars` characters of it. Runs of lines with nothing visible count as one line and show
 * as one mark; blank runs as one blank line. A cut ends in a line saying how much is not
 * shown, in lines and characters.
 */
export function preview(text: string, limits: { lines: number; chars: number }): string {
  const all = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let used = 0;
  let i = 0;
  let cut = 0;
  while (i < all.length && BLANK.test(all[i]!)) i++;
  while (i < all.length && out.length < limits.lines && used < limits.chars) {
    const line = all[i]!;
    if (BLANK.test(line)) {
      const end = runEnd(all, i, BLANK);
      if (end < all.length) out.push('');
      i = end;
      continue;
    }
    const end = runEnd(all, i, NOTHING_VISIBLE);
    if (end - i > 1) {
      out.push(
        `⟦${count(end - i, 'line')} with only invisible characters: ${charsIn(all, i, end)}⟧`,
      );
      i = end;
      continue;
    }
    i++;
    const length = codePoints(line);
    const room = limits.chars - used;
    if (length > room) {
      out.push(visible(firstCodePoints(line, room), true));
      cut = length - room;
      break;
    }
    out.push(visible(line, true));
    used += length;
  }
  const rest = all.slice(i).filter((l) => !BLANK.test(l));
  if (cut === 0 && rest.length === 0) return out.join('\n');
  const chars = cut + rest.reduce((sum, l) => sum + codePoints(l), 0);
  const what = [
    ...(cut ? ['the rest of this line'] : []),
    ...(rest.length ? [`${rest.length} more line${rest.length === 1 ? '' : 's'}`] : []),
  ].join(' and ');
  out.push(`… not shown: ${what} (${count(chars, 'character')})`);
  return out.join('\n');
}

/**
 * The prompt's lines for the URLs of some content: `Loads when opened` and `Links to`, one
 * URL a line with its host first, repeats counted, and a warning where the URL is not what
 * it seems (a link's text that shows another host, a user name before the host, an
 * international name, a file share, a scheme that starts an app or runs code).
 */
export function urlLines(found: readonly FoundUrl[]): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const [kind, label] of [
    ['load', 'Loads when opened'],
    ['link', 'Links to'],
  ] as const) {
    const entries = new Map<string, { url: URL; where: string; times: number; notes: string[] }>();
    for (const f of found) {
      if (f.kind !== kind) continue;
      const known = entries.get(f.url.href);
      const notes = f.text === undefined ? [] : textNotes(f.url, f.text);
      if (known) {
        known.times++;
        for (const note of notes) if (!known.notes.includes(note)) known.notes.push(note);
      } else {
        entries.set(f.url.href, { url: f.url, where: f.where, times: 1, notes });
      }
    }
    if (entries.size === 0) continue;
    const all = [...entries.values()];
    const shown = all.slice(0, MAX_URLS).map((e) => {
      const where = e.where === 'a href' ? '' : ` (${e.where})`;
      const notes = [...e.notes, ...urlNotes(e.url)].map((n) => ` ⚠ ${n}`).join('');
      return `${hostOf(e.url)} — ${shortUrl(e.url.href)}${visible(where)}${e.times > 1 ? ` ×${e.times}` : ''}${notes}`;
    });
    const more = all.slice(MAX_URLS);
    if (more.length) {
      const hosts = [...new Set(more.map((e) => hostOf(e.url)))].sort();
      shown.push(`… and ${count(more.length, 'more URL')} on ${hosts.join(', ')}`);
    }
    lines.push({ label, value: shown.join('\n') });
  }
  return lines;
}

/** The index after the run of lines from `from` that all match `pattern`. */
function runEnd(lines: readonly string[], from: number, pattern: RegExp): number {
  let end = from;
  while (end < lines.length && pattern.test(lines[end]!)) end++;
  return end;
}

function tagMark(tags: string): string {
  let spelled = '';
  for (const c of tags) {
    const code = c.codePointAt(0)! - 0xe0000;
    if (code >= 0x20 && code <= 0x7e) spelled += String.fromCharCode(code);
  }
  return spelled
    ? `⟦hidden tag text: ${spelled}⟧`
    : `⟦${count(codePoints(tags), 'tag character')}⟧`;
}

function drawnBefore(text: string, offset: number): boolean {
  const before = text.slice(Math.max(0, offset - 2), offset);
  const last = /[\uD800-\uDBFF][\uDC00-\uDFFF]$/.test(before) ? before : before.slice(-1);
  return SHOWS_ON_ITS_OWN.test(last);
}

function codeName(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The invisible characters in lines `from`…`to`, named, at most five. */
function charsIn(lines: readonly string[], from: number, to: number): string {
  const names = new Set<string>();
  for (let i = from; i < to && names.size <= 5; i++)
    for (const c of lines[i]!) if (!BLANK.test(c)) names.add(codeName(c));
  const listed = [...names];
  return listed.length > 5 ? `${listed.slice(0, 5).join(', ')}, …` : listed.join(', ');
}

function codePoints(text: string): number {
  let surrogates = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        surrogates++;
        i++;
      }
    }
  }
  return text.length - surrogates;
}

function firstCodePoints(text: string, n: number): string {
  let i = 0;
  for (let taken = 0; taken < n && i < text.length; taken++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && /[\uDC00-\uDFFF]/.test(text.charAt(i + 1));
    i += pair ? 2 : 1;
  }
  return text.slice(0, i);
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

function shortUrl(href: string): string {
  const length = codePoints(href);
  if (length <= MAX_URL_CHARS) return visible(href);
  return `${visible(firstCodePoints(href, MAX_URL_CHARS))}… (${count(length - MAX_URL_CHARS, 'more character')})`;
}

function hostOf(url: URL): string {
  if (url.protocol === 'mailto:') {
    const domains = url.pathname
      .split(',')
      .map((address) => address.slice(address.lastIndexOf('@') + 1).trim())
      .filter(Boolean);
    return domains.length ? visible(decode(domains.join(', '))) : '(no host)';
  }
  if (url.protocol === 'file:') return url.host || '(this computer)';
  return url.host || '(no host)';
}

/** Warnings that the URL itself calls for. */
function urlNotes(url: URL): string[] {
  const notes: string[] = [];
  if (url.username || url.password) {
    const user = `${decode(url.username)}${url.password ? ':…' : ''}`;
    notes.push(`starts with "${visible(user)}@", which is not its host`);
  }
  if (url.hostname.split('.').some((label) => label.startsWith('xn--')))
    notes.push(`an international name that shows as "${visible(domainToUnicode(url.hostname))}"`);
  if (url.protocol === 'file:') notes.push(url.host ? 'a file share' : 'a file on this computer');
  else if (!['http:', 'https:', 'ftp:', 'mailto:'].includes(url.protocol))
    notes.push('opens an app or runs code, not a web page');
  return notes;
}

/** A warning when a link's text shows a host that is not where the link goes. */
function textNotes(url: URL, text: string): string[] {
  const plain = (host: string) => host.toLowerCase().replace(/^www\./, '');
  for (const word of text.split(/\s+/)) {
    const token = word.replace(/^[<(["'“‘]+|[>)\]"'”’.,;:!?]+$/g, '');
    if (!token.includes('.') || token.includes('@')) continue;
    const written = /^[a-z][a-z0-9+.-]*:\/\//i.test(token) ? token : `http://${token}`;
    if (!URL.canParse(written)) continue;
    const shown = new URL(written);
    if (!/\.[\p{L}]{2,}$/u.test(domainToUnicode(shown.hostname))) continue;
    if (plain(shown.hostname) === plain(url.hostname)) return [];
    return [`the link text shows ${visible(domainToUnicode(shown.hostname))}`];
  }
  return [];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
