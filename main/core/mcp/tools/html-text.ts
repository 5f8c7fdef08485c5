import { decodeEntities } from './html-entities.ts';
import { scanHtml } from './html-tokens.ts';

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
/**
 * Elements whose content is not text a reader sees. Not `head` or `noscript`: a browser
 * shows text put there (text in `head` starts the body; mail runs no scripts).
 */
const HIDDEN = new Set(['template', 'xml']);

/** Open links tracked for their targets; deeper nesting is not real mail and is ignored. */
const MAX_OPEN_LINKS = 8;

/**
 * Readable text from an HTML mail body: paragraphs and line breaks kept, list items
 * bulleted, link targets shown after their text, scripts, styles and comments dropped.
 * What Outlook's conditional comments hold is shown, as Outlook shows it. The tokeniser
 * reads hostile markup (mail comes from anyone) in linear time.
 */
export function htmlToText(html: string): string {
  const out = new TextOut();
  const links: Array<{ href: string | undefined; at: number }> = [];
  let hidden: { tag: string; depth: number } | undefined;
  let pre = 0;
  // As a browser does, a block ends the line, a paragraph or heading leaves a blank one, and
  // edges of blocks that meet make one break, not one each.
  const blockEdge = (tag: string) => out.breakLines(tag === 'p' || /^h\d$/.test(tag) ? 2 : 1);
  scanHtml(html, {
    text(raw) {
      if (hidden !== undefined) return;
      // HTML collapses ASCII whitespace only: a BOM or a line separator stays, to be marked.
      if (pre > 0) out.preformatted(decodeEntities(raw));
      else out.text(decodeEntities(raw).replace(/[ \t\n\f\r]+/g, ' '));
    },
    rawText(tag, content) {
      // Of the elements that hold no markup, these are shown (textarea in its box).
      if (hidden !== undefined) return;
      if (tag === 'textarea') out.text(decodeEntities(content));
      else if (tag === 'xmp' || tag === 'plaintext') out.text(content);
    },
    endTag(tag) {
      if (hidden !== undefined) {
        if (tag === hidden.tag && --hidden.depth === 0) hidden = undefined;
      } else if (tag === 'td' || tag === 'th') {
        out.text('\t');
      } else if (tag === 'a') {
        out.text(linkTarget(links.pop(), out.parts));
      } else if (tag === 'br') {
        out.newline(); // a browser reads </br> as <br>
      } else if (BLOCK.has(tag)) {
        if (tag === 'pre') pre = Math.max(0, pre - 1);
        blockEdge(tag);
      }
    },
    startTag(tag, attributes, selfClosing) {
      if (hidden !== undefined) {
        if (tag === hidden.tag && !selfClosing) hidden.depth++;
      } else if (HIDDEN.has(tag)) {
        if (!selfClosing) hidden = { tag, depth: 1 };
      } else if (tag === 'br') {
        out.newline();
      } else if (tag === 'li') {
        out.breakLines(1);
        out.text('• ');
      } else if (tag === 'img') {
        const alt = attributes.find((a) => a.name === 'alt')?.value;
        if (alt) out.text(`[${alt}]`);
      } else if (tag === 'a') {
        if (links.length < MAX_OPEN_LINKS)
          links.push({
            href: attributes.find((a) => a.name === 'href')?.value,
            at: out.parts.length,
          });
      } else if (BLOCK.has(tag)) {
        blockEdge(tag);
        if (tag === 'pre' && !selfClosing) {
          pre++;
          out.skipNewline = true; // a newline right after <pre> is not shown
        }
      }
    },
  });
  return tidyLines(out.parts.join(''));
}

/** The text being written, and how many line breaks it ends with (spaces aside). */
class TextOut {
  readonly parts: string[] = [];
  #trailingBreaks = 0;
  skipNewline = false;

  text(text: string): void {
    this.skipNewline = false;
    if (text === '') return;
    this.parts.push(text);
    if (/[^ \t]/.test(text)) this.#trailingBreaks = 0;
  }

  newline(): void {
    this.skipNewline = false;
    this.parts.push('\n');
    this.#trailingBreaks++;
  }

  /** Ends the line with at least `count` line breaks in all; none before any text. */
  breakLines(count: number): void {
    if (this.parts.length === 0) return;
    for (; this.#trailingBreaks < count; this.#trailingBreaks++) this.parts.push('\n');
  }

  /** Text of a <pre>: its line breaks are kept. */
  preformatted(text: string): void {
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    if (this.skipNewline && lines[0] === '') lines.shift();
    lines.forEach((line, i) => {
      if (i > 0) this.newline();
      this.text(line);
    });
  }
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

/**
 * Trims every line, collapses runs of spaces and of blank lines, and trims the whole. Only
 * spaces, tabs and no-break spaces go: invisible characters stay, for the prompt to mark.
 */
export function tidyLines(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').replace(/^ | $/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

/** Cuts text to at most `max` characters without splitting a surrogate pair. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const cut = /[\uDC00-\uDFFF]/.test(text.charAt(max)) ? max - 1 : max;
  return { text: text.slice(0, cut), truncated: true };
}
