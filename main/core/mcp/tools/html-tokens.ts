import { decodeEntities } from './html-entities.ts';

/** An attribute of a start tag: the name in lower case, the value with its entities decoded. */
export interface HtmlAttribute {
  name: string;
  value: string;
}

/** What a scan of HTML reports, in document order. */
export interface HtmlVisitor {
  /** Text between tags, entities not yet decoded. */
  text?(raw: string): void;
  startTag?(name: string, attributes: HtmlAttribute[], selfClosing: boolean): void;
  endTag?(name: string): void;
  /** The content of an element that holds no markup (`style`, `script`, `title`…). */
  rawText?(name: string, content: string): void;
}

/** Elements whose content a browser reads as text up to their end tag, not as markup. */
const RAW_TEXT = new Set([
  'script',
  'style',
  'textarea',
  'title',
  'xmp',
  'iframe',
  'noembed',
  'noframes',
  'plaintext',
]);

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f']);
const endTagOf = new Map<string, RegExp>();

/**
 * Tokenises HTML the way a browser's parser splits it, as far as what is shown and what is
 * loaded depends on it: attribute values in quotes may hold `>`, comments end at `-->` or
 * `--!>` (`<!-->` is a whole one), a tag cut off by the end is dropped, and raw-text
 * elements end only at their own end tag. Outlook's conditional comments (`<!--[if mso]>`)
 * are opened, since Outlook renders what they hold. Every character is looked at a bounded
 * number of times, so hostile markup (mail comes from anyone) costs linear time.
 */
export function scanHtml(html: string, visitor: HtmlVisitor): void {
  const n = html.length;
  const find = forwardFinder(html);
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      visitor.text?.(html.slice(i));
      return;
    }
    if (lt > i) visitor.text?.(html.slice(i, lt));
    const next = html.charAt(lt + 1);
    if (html.startsWith('<!--', lt)) {
      i = commentEnd(html, lt, find);
    } else if (next === '!' || next === '?') {
      // <!DOCTYPE …>, <![endif]>, <?xml …?>: nothing shown.
      const gt = html.indexOf('>', lt);
      i = gt === -1 ? n : gt + 1;
    } else if (next === '/' || isLetter(next)) {
      const closing = next === '/';
      const nameStart = closing ? lt + 2 : lt + 1;
      if (!isLetter(html.charAt(nameStart))) {
        // "</>" or "</ 1>": a bogus comment to the next '>'.
        const gt = html.indexOf('>', lt);
        i = gt === -1 ? n : gt + 1;
        continue;
      }
      let p = nameStart;
      while (p < n && !WHITESPACE.has(html.charAt(p)) && html[p] !== '/' && html[p] !== '>') p++;
      const name = html.slice(nameStart, p).toLowerCase();
      const tag = readAttributes(html, p);
      if (tag === undefined) return; // cut off by the end: a browser drops it
      i = tag.end;
      if (closing) {
        visitor.endTag?.(name);
        continue;
      }
      visitor.startTag?.(name, tag.attributes, tag.selfClosing);
      if (RAW_TEXT.has(name)) i = rawTextEnd(html, i, name, visitor);
    } else {
      visitor.text?.('<'); // not a tag, as in "a < b"
      i = lt + 1;
    }
  }
}

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/**
 * `indexOf` for searches whose start only moves forward: each needle's last hit is kept, so
 * a needle that is far away or absent is not searched for again from every comment.
 */
function forwardFinder(html: string): (needle: string, from: number) => number {
  const last = new Map<string, number>();
  return (needle, from) => {
    const known = last.get(needle);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const found = html.indexOf(needle, from);
    last.set(needle, found);
    return found;
  };
}

/** Where the comment (or conditional-comment opening) at `lt` ends. */
function commentEnd(
  html: string,
  lt: number,
  find: (needle: string, from: number) => number,
): number {
  if (html.startsWith('<!--[if', lt)) {
    const open = find(']>', lt);
    return open === -1 ? html.length : open + 2;
  }
  if (html.startsWith('<!-->', lt)) return lt + 5;
  if (html.startsWith('<!--->', lt)) return lt + 6;
  const dashes = find('-->', lt + 4);
  const bang = find('--!>', lt + 4);
  if (dashes === -1 && bang === -1) return html.length;
  if (bang === -1 || (dashes !== -1 && dashes < bang)) return dashes + 3;
  return bang + 4;
}

/** The attributes of the tag whose name ends at `p`, and where the tag ends; undefined when it never does. */
function readAttributes(
  html: string,
  start: number,
): { attributes: HtmlAttribute[]; selfClosing: boolean; end: number } | undefined {
  const n = html.length;
  const attributes: HtmlAttribute[] = [];
  let p = start;
  let selfClosing = false;
  for (;;) {
    while (p < n && (WHITESPACE.has(html.charAt(p)) || html[p] === '/')) {
      selfClosing = html[p] === '/';
      p++;
    }
    if (p >= n) return undefined;
    if (html[p] === '>') return { attributes, selfClosing, end: p + 1 };
    selfClosing = false;
    const nameStart = p++;
    while (p < n && !WHITESPACE.has(html.charAt(p)) && !'/>='.includes(html.charAt(p))) p++;
    const name = html.slice(nameStart, p).toLowerCase();
    while (p < n && WHITESPACE.has(html.charAt(p))) p++;
    let value = '';
    if (html[p] === '=') {
      p++;
      while (p < n && WHITESPACE.has(html.charAt(p))) p++;
      const quote = html[p];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, p + 1);
        if (close === -1) return undefined;
        value = html.slice(p + 1, close);
        p = close + 1;
      } else {
        const valueStart = p;
        while (p < n && !WHITESPACE.has(html.charAt(p)) && html[p] !== '>') p++;
        value = html.slice(valueStart, p);
      }
    }
    attributes.push({ name, value: decodeEntities(value) });
  }
}

/** Reports the content of a raw-text element that starts at `from`, and returns where its end tag ends. */
function rawTextEnd(html: string, from: number, name: string, visitor: HtmlVisitor): number {
  if (name === 'plaintext') {
    visitor.rawText?.(name, html.slice(from));
    return html.length;
  }
  let endTag = endTagOf.get(name);
  if (!endTag) {
    endTag = new RegExp(`</${name}[\\s/>]`, 'gi');
    endTagOf.set(name, endTag);
  }
  endTag.lastIndex = from;
  const match = endTag.exec(html);
  const stop = match ? match.index : html.length;
  visitor.rawText?.(name, html.slice(from, stop));
  if (!match) return html.length;
  const gt = html.indexOf('>', stop);
  return gt === -1 ? html.length : gt + 1;
}
