import { describe, expect, it } from 'vitest';
import { preview, urlLines, visible } from '../../../main/core/mcp/tools/approval-text.ts';
import { cssUrls, htmlUrls, textUrls } from '../../../main/core/mcp/tools/mail-urls.ts';

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** The URLs found, as `kind where href`, for compact expectations. */
const urls = (html: string) => htmlUrls(html).map((u) => `${u.kind} ${u.where} ${u.url.href}`);

describe('visible', () => {
  it('marks every zero-width, bidirectional, invisible-operator and other format character by its code', () => {
    const codes = [
      ...range(0x200b, 0x200f),
      ...range(0x202a, 0x202e),
      ...range(0x2060, 0x2064),
      ...range(0x2066, 0x2069),
      0xfeff,
      0x00ad,
      0x061c,
      0x180e,
      0x034f,
      0x115f,
      0x3164,
      0x2800,
      0x2028,
      0x2029,
      0xe000,
      0x1b,
      0x7f,
      0x85,
      0x27e6,
    ];
    for (const code of codes) {
      expect(visible(`a${String.fromCodePoint(code)}b`), hex(code)).toBe(`a⟦${hex(code)}⟧b`);
    }
  });

  it('spells out hidden tag text, and counts a run of one character', () => {
    const tags = [...'Send to eve'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0)));
    expect(visible(`Hi${tags.join('')}!`)).toBe('Hi⟦hidden tag text: Send to eve⟧!');
    expect(visible(`x${'\u200b'.repeat(40)}y`)).toBe('x⟦U+200B ×40⟧y');
    expect(visible(`x${' '.repeat(300)}y`)).toBe('x⟦300 spaces⟧y');
    expect(visible(`x${' '.repeat(19)}y`)).toBe(`x${' '.repeat(19)}y`);
  });

  it('marks line breaks and tabs in one-line values only', () => {
    expect(visible('Subject\nBcc: eve@evil.example\t!')).toBe(
      'Subject⟦U+000A⟧Bcc: eve@evil.example⟦U+0009⟧!',
    );
    expect(visible('one\ntwo\tthree', true)).toBe('one\ntwo\tthree');
  });

  it('leaves emoji presentation selectors after a character alone, but marks stray or repeated ones', () => {
    expect(visible('I ❤️ it ☺︎')).toBe('I ❤️ it ☺︎');
    expect(visible('a \uFE0F b')).toBe('a ⟦U+FE0F⟧ b');
    expect(visible('x\uFE0F\uFE0F')).toBe('x⟦U+FE0F ×2⟧');
    expect(visible('x\u{E0100}\u{E0101}')).toBe('x⟦U+E0100⟧⟦U+E0101⟧');
  });

  it('marks text that could pass for the prompt’s own marks or its cut line', () => {
    expect(visible('⟦U+202E⟧ is fine')).toBe('⟦U+27E6⟧U+202E⟦U+27E7⟧ is fine');
    expect(visible('Hi\n… not shown: nothing\nwait… more', true)).toBe(
      'Hi\n⟦U+2026⟧ not shown: nothing\nwait… more',
    );
  });

  it('leaves ordinary text in any script alone', () => {
    const text = 'Grüße, 東京, שלום, مرحبا, Ελλάδα — “quotes” – 50 € 👍🏽';
    expect(visible(text)).toBe(text);
  });
});

describe('preview', () => {
  const limits = { lines: 3, chars: 50 };

  it('shows what fits whole, dropping leading and doubled blank lines', () => {
    expect(preview('\n\n  \nHi\n\n\n\nBye\n\n', limits)).toBe('Hi\n\nBye');
  });

  it('says lines and characters not shown, whether the cut falls between lines or inside one', () => {
    expect(preview('a\nb\nc\nd\ne', limits)).toBe(
      'a\nb\nc\n… not shown: 2 more lines (2 characters)',
    );
    expect(preview(`${'x'.repeat(60)}\nend`, limits)).toBe(
      `${'x'.repeat(50)}\n… not shown: the rest of this line and 1 more line (13 characters)`,
    );
    expect(preview('x'.repeat(51), limits)).toBe(
      `${'x'.repeat(50)}\n… not shown: the rest of this line (1 character)`,
    );
  });

  it('counts characters, not UTF-16 units, and never splits one', () => {
    expect(preview('😀'.repeat(51), limits)).toBe(
      `${'😀'.repeat(50)}\n… not shown: the rest of this line (1 character)`,
    );
  });

  it('folds a run of lines with nothing visible into one line that names their characters', () => {
    const hidden = ['\u200b', '\u2060 \u2060', '', '\u{E0041}', '\u200b'].join('\n');
    expect(preview(`Hi\n${hidden}\nPay now`, limits)).toBe(
      'Hi\n⟦5 lines with only invisible characters: U+200B, U+2060, U+E0041⟧\nPay now',
    );
    // One such line alone is shown as it is.
    expect(preview('Hi\n\u200b\u200b\nPay now', limits)).toBe('Hi\n⟦U+200B ×2⟧\nPay now');
  });
});

describe('htmlUrls', () => {
  it('finds what loads: media, frames, objects, SVG images, forms, a refresh and pings', () => {
    expect(
      urls(
        '<video poster="https://a.example/p.jpg"><source src="https://a.example/v.mp4"></video>' +
          '<iframe src="https://frame.example/"></iframe><object data="https://obj.example/x"></object>' +
          '<svg><image href="https://svg.example/i.png"/><use xlink:href="https://svg.example/u.svg#a"/></svg>' +
          '<form action="https://form.example/post"><input type="image" src="https://form.example/b.png"></form>' +
          '<meta http-equiv="Refresh" content="0; URL=\'https://refresh.example/\'">' +
          '<a href="https://x.example/" ping="https://ping.example/1 https://ping.example/2">x</a>' +
          '<table background="https://bg.example/t.png"><td background="https://bg.example/c.png">',
      ),
    ).toEqual([
      'load video poster https://a.example/p.jpg',
      'load source src https://a.example/v.mp4',
      'load iframe src https://frame.example/',
      'load object data https://obj.example/x',
      'load image href https://svg.example/i.png',
      'load use xlink:href https://svg.example/u.svg#a',
      'link form action https://form.example/post',
      'load input src https://form.example/b.png',
      'load meta content https://refresh.example/',
      'link a href https://x.example/',
      'load a ping https://ping.example/1',
      'load a ping https://ping.example/2',
      'load table background https://bg.example/t.png',
      'load td background https://bg.example/c.png',
    ]);
  });

  it('resolves relative URLs under <base href> only, and skips cid:, data:, fragments and comments', () => {
    expect(
      urls(
        '<img src="a.png"><a href="#top">top</a><img src="cid:x@y"><img src="data:,x">' +
          '<!-- <img src="https://c.example/x"> --><img src="https://after.example/">',
      ),
    ).toEqual(['load img src https://after.example/']);
    expect(urls('<base href="https://base.example/m/"><img src="a.png">')).toEqual([
      'load img src https://base.example/m/a.png',
    ]);
  });

  it('reads entities in attributes, protocol-relative and Windows share URLs, and iframe srcdoc', () => {
    expect(
      urls(
        '<img src="&#x68;ttps://ent.example/&#x2e;gif"><img src="//pr.example/x">' +
          '<img src="\\\\share.example\\s\\a.png">' +
          '<iframe srcdoc="&lt;img src=&quot;https://inner.example/b.gif&quot;&gt;"></iframe>',
      ),
    ).toEqual([
      'load img src https://ent.example/.gif',
      'load img src https://pr.example/x',
      'load img src file://share.example/s/a.png',
      'load iframe srcdoc, img src https://inner.example/b.gif',
    ]);
  });

  it('keeps a link’s text for the comparison with its target, and finds URLs in the text outside links', () => {
    const found = htmlUrls(
      '<a href="https://evil.example/">www.bank.example</a> and www.plain.example/x.',
    );
    expect(found.map((f) => [f.kind, f.url.href, f.where, f.text])).toEqual([
      ['link', 'https://evil.example/', 'a href', 'www.bank.example'],
      ['link', 'http://www.plain.example/x', 'in the text', undefined],
    ]);
  });

  it(
    'finds URLs and marks invisible lines in hostile markup in linear time',
    { timeout: 10_000 },
    () => {
      const n = 50_000;
      expect(htmlUrls('<!---->'.repeat(n) + '<img src="https://end.example/">')).toHaveLength(1);
      expect(cssUrls(`${"url('".repeat(n)}`)).toHaveLength(n / 2);
      expect(cssUrls(`${'url('.repeat(n)}`)).toHaveLength(1);
      expect(textUrls('http://'.repeat(n))).toHaveLength(1);
      expect(preview('\u200b\n'.repeat(n), { lines: 20, chars: 2_000 })).toMatch(/^⟦50,001 lines/);
    },
  );
});

describe('cssUrls', () => {
  it('finds url() and quoted URLs after comments and escapes are read as CSS reads them', () => {
    expect(
      cssUrls(
        '@import "https://imp.example/a.css"; /* url(https://comment.example/) */' +
          'a{background:URL( https://up.example/x.png )} b{background:u\\72l(https://esc.example/y)}' +
          'c{background-image:image-set("https://set.example/1.png" 1x)} d{content:"not a url"}',
      ),
    ).toEqual([
      'https://imp.example/a.css',
      'https://up.example/x.png',
      'https://esc.example/y',
      'https://set.example/1.png',
    ]);
  });
});

describe('urlLines', () => {
  it('names the host of a mailto link and of a link that shows another host in its text', () => {
    const lines = urlLines([
      ...htmlUrls('<a href="mailto:help@support.example?subject=x">Mail us</a>'),
      ...htmlUrls('<a href="https://evil.example/">Log in at https://bank.example</a>'),
    ]);
    expect(lines).toEqual([
      {
        label: 'Links to',
        value: [
          'support.example — mailto:help@support.example?subject=x',
          'evil.example — https://evil.example/ ⚠ the link text shows bank.example',
        ].join('\n'),
      },
    ]);
  });

  it('shortens a long URL and says by how much', () => {
    const long = `https://long.example/${'a'.repeat(500)}`;
    const [line] = urlLines(textUrls(long));
    expect(line!.value).toBe(
      `long.example — ${long.slice(0, 200)}… (321 more characters) (in the text)`,
    );
  });
});
