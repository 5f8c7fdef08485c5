import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { htmlToText, tidyLines, truncate } from '../../../main/core/mcp/tools/html-text.ts';

// What get_message shows of an HTML mail, and what the approval prompt shows of one being
// sent: readable text, whatever markup a sender wrote.

describe('htmlToText reads mail as a person sees it', () => {
  it('keeps paragraphs, headings, line breaks, list items and table rows', () => {
    expect(htmlToText('<h1>Title</h1><p>One</p><p>Two<br>lines</p><hr>After')).toBe(
      'Title\n\nOne\n\nTwo\nlines\n\nAfter',
    );
    expect(htmlToText('<ul><li>One</li><li>Two</li></ul>')).toBe('• One\n• Two');
    expect(
      htmlToText('<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>'),
    ).toBe('a b\nc d');
  });

  it('shows a link’s target after its text, unless the text is the target or it is no web or mail link', () => {
    expect(htmlToText('<a href="https://x.example/?a=1&amp;b=2">the plan</a>')).toBe(
      'the plan (https://x.example/?a=1&b=2)',
    );
    expect(
      htmlToText(
        '<a href="https://x.example/">https://x.example/</a> <a href="mailto:a@b.example">a@b.example</a> <a href="javascript:alert(1)">js</a>',
      ),
    ).toBe('https://x.example/ a@b.example js');
  });

  it('drops scripts, styles, comments and what templates hold; shows images by their alt text', () => {
    expect(
      htmlToText(
        '<style>p{}</style><script>x()</script><!-- note --><template>t</template><img src="a.png" alt="logo">Hi',
      ),
    ).toBe('[logo]Hi');
  });

  it('breaks the line once where blocks meet, as a browser does (Outlook writes a div per line)', () => {
    expect(htmlToText('<div>Hi Adele,</div><div><br></div><div>See you</div><div>Ben</div>')).toBe(
      'Hi Adele,\n\nSee you\nBen',
    );
    expect(htmlToText('<div><div>nested</div></div><div>next</div>')).toBe('nested\nnext');
    expect(htmlToText('<div>line<br></div><div>next</div>')).toBe('line\nnext');
  });

  it('keeps the lines of a <pre> block', () => {
    expect(htmlToText('<p>Log:</p><pre>\nline one\n  line two\n\nline four</pre>After')).toBe(
      'Log:\n\nline one\nline two\n\nline four\nAfter',
    );
  });
});

describe('htmlToText with hostile nesting', () => {
  it('reads deep and mis-nested elements as text in document order', () => {
    expect(htmlToText(`${'<div>'.repeat(500)}Deep${'</div>'.repeat(500)}after`)).toBe(
      'Deep\nafter',
    );
    expect(htmlToText(`${'<div><p>'.repeat(500)}Deep`)).toBe('Deep');
    expect(htmlToText('<b><i>bold italic</b> still</i> text')).toBe('bold italic still text');
    expect(htmlToText('<p>One<div>Two</p>Three</div>')).toBe('One\nTwo\n\nThree');
  });

  it('hides nested hidden elements up to the end tag that closes the outermost', () => {
    expect(htmlToText('<template>a<template>b</template>c</template>d')).toBe('d');
    expect(htmlToText('<xml><xml>x</xml>y</xml>z')).toBe('z');
    // A self-closed one opens nothing.
    expect(htmlToText('<xml/>shown')).toBe('shown');
  });

  it('names each target of nested links, and at most eight of them however deep they go', () => {
    expect(
      htmlToText(
        '<a href="https://a.example/">outer <a href="https://b.example/">inner</a> tail</a>',
      ),
    ).toBe('outer inner (https://b.example/) tail (https://a.example/)');
    const deep = Array.from({ length: 12 }, (_, i) => `<a href="https://${i}.example/">`).join('');
    const text = htmlToText(`${deep}x${'</a>'.repeat(12)}`);
    expect(text.match(/\(https:\/\/\d+\.example\/\)/g)).toHaveLength(8);
    expect(text).toMatch(/^x \(https:\/\/7\.example\/\)/);
  });
});

describe('htmlToText with unclosed and cut-off markup', () => {
  it('shows the text of elements that are never closed', () => {
    expect(htmlToText('<p>unclosed paragraph')).toBe('unclosed paragraph');
    expect(htmlToText('<a href="https://x.example/">never closed')).toBe('never closed');
    expect(htmlToText('<textarea>typed <b>and</b> unclosed')).toBe('typed <b>and</b> unclosed');
  });

  it('hides the rest after an unclosed script, hidden element or comment, as a browser does', () => {
    expect(htmlToText('before<script>alert(1)<p>after')).toBe('before');
    expect(htmlToText('before<xml>hidden and never closed')).toBe('before');
    expect(htmlToText('before<!-- never closed <p>after')).toBe('before');
  });

  it('drops a tag cut off by the end, or by an attribute quote that never closes', () => {
    expect(htmlToText('Hi <b')).toBe('Hi');
    expect(htmlToText('Hi <img alt="unclosed quote>rest')).toBe('Hi');
    expect(htmlToText('1 < 2 and </> or </ 3>')).toBe('1 < 2 and or');
  });
});

describe('htmlToText with entities', () => {
  it('decodes the named entities mail uses and every numeric one, in text and attributes', () => {
    expect(
      htmlToText('&lt;b&gt; &amp; &quot;q&quot; &ndash; &euro;5 &#65;&#x42;&#X43; &#x1F600;'),
    ).toBe('<b> & "q" – €5 ABC 😀');
    expect(htmlToText('<img alt="&lt;logo&gt; &amp; co">')).toBe('[<logo> & co]');
    expect(htmlToText('&AMP; &Lt;')).toBe('& <');
  });

  it('decodes once: double-encoded text stays encoded, and unknown or unterminated references stay as written', () => {
    expect(htmlToText('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
    expect(htmlToText('&bogus; &amp AT&T')).toBe('&bogus; &amp AT&T');
  });

  it('turns references to no character (NUL, surrogates, beyond U+10FFFF) into U+FFFD', () => {
    expect(htmlToText('a&#0;b&#xD800;c&#x110000;d')).toBe('a\uFFFDb\uFFFDc\uFFFDd');
  });

  it('collapses no-break spaces like any other space', () => {
    expect(htmlToText('<p>a&nbsp;&nbsp; b</p>')).toBe('a b');
  });
});

describe('htmlToText on comments, raw-text elements, quoted attributes and invisible characters', () => {
  it('shows text a browser shows: after "<!-->", in Outlook conditional comments, in head, noscript and textarea', () => {
    expect(htmlToText('<p>A</p><!-->Visible<!-- hidden -->')).toBe('A\n\nVisible');
    expect(htmlToText('<!--[if mso]><p>Only Outlook</p><![endif]--><p>All</p>')).toBe(
      'Only Outlook\n\nAll',
    );
    expect(htmlToText('<head><title>T</title>In head</head><noscript>No script</noscript>')).toBe(
      'In headNo script',
    );
    expect(htmlToText('<textarea>Typed &amp; <b>shown</b></textarea>')).toBe(
      'Typed & <b>shown</b>',
    );
    expect(htmlToText('<!-- a --!>After bang')).toBe('After bang');
  });

  it('reads a ">" inside a quoted attribute as part of the tag, and drops a tag cut off by the end', () => {
    expect(htmlToText('<img title="1>2" alt="logo">Hi')).toBe('[logo]Hi');
    expect(htmlToText('Hi <img src="x" alt="never closed')).toBe('Hi');
  });

  it('keeps zero-width, soft-hyphen and byte-order-mark characters, so the prompt can mark them', () => {
    expect(htmlToText('Pay&shy;Pal&zwnj;&zwj;&#8203;')).toBe('Pay\u00adPal\u200c\u200d\u200b');
    expect(htmlToText('<p>\uFEFFHi\u2028</p><p>&#xFEFF;</p>')).toBe('\uFEFFHi\u2028\n\n\uFEFF');
  });
});

describe('tidyLines and truncate', () => {
  it('tidyLines trims lines, collapses spaces and blank lines, and keeps Windows line ends as lines', () => {
    expect(tidyLines('  a  \t b \r\n\r\n\r\n\r\nc\u00a0\u00a0d\n\n')).toBe('a b\n\nc d');
  });

  it('truncate never splits a surrogate pair', () => {
    expect(truncate('ab😀c', 3)).toEqual({ text: 'ab', truncated: true });
    expect(truncate('ab😀c', 4)).toEqual({ text: 'ab😀', truncated: true });
    expect(truncate('abc', 3)).toEqual({ text: 'abc', truncated: false });
  });
});

/**
 * Converts `html` in a worker and says whether it finished within `deadlineMs`; a worker can
 * be stopped, so an input that would take minutes fails the test in seconds.
 */
function finishesWithin(html: string, deadlineMs: number): Promise<boolean> {
  const module = new URL('../../../main/core/mcp/tools/html-text.ts', import.meta.url).href;
  const worker = new Worker(
    `import { workerData, parentPort } from 'node:worker_threads';
     const { htmlToText } = await import(${JSON.stringify(module)});
     parentPort.postMessage(htmlToText(workerData).length);`,
    { eval: true, workerData: html },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(false);
    }, deadlineMs);
    worker.once('message', () => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(true);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('htmlToText on hostile input', () => {
  // Half a million repetitions: linear work takes well under a second here, quadratic work
  // (each piece rescanning what follows it) would take hours.
  const n = 500_000;
  it.each([
    ['empty comments', '<!---->'],
    ['unclosed comments', '<!--'],
    ['conditional comments', '<!--[if x]>'],
    ['unclosed tags', '<a '],
    ['unclosed quotes', '<p title="x'],
    ['bogus end tags', '</'],
    ['open divs', '<div>'],
    ['open links', '<a href="https://x.example/">y'],
    ['open hidden elements', '<xml>'],
    ['open scripts', '<script>'],
    ['open textareas', '<textarea>'],
    ['entities', '&amp;'],
    ['entity-like text', '&#x1'],
    ['blank lines', '<p></p>\n'],
    ['open pre blocks', '<pre>\n\n x'],
    ['meeting block edges', '</div><div><br>'],
  ])('reads %s in linear time', async (_name, piece) => {
    expect(await finishesWithin(piece.repeat(n), 10_000)).toBe(true);
  });
});
