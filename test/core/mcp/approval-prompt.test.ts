import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approvalSummary } from '../../../main/core/mcp/call-summary.ts';
import { defineTool, type ToolDefinition } from '../../../main/core/mcp/tool-definition.ts';
import { createEvent } from '../../../main/core/mcp/tools/create-event.ts';
import { sendMail } from '../../../main/core/mcp/tools/send-mail.ts';

// What the person approving a call reads, for the tricks a hostile sender or a misled client
// would use to get a mail past them: text past the cut, beacons and links the text does not
// show, and characters that cannot be seen or that turn text around.

type Line = { label: string; value: string };

function prompt(tool: ToolDefinition, args: Record<string, unknown>): Line[] {
  return approvalSummary(tool, tool.input.parse(args) as Record<string, unknown>).summary;
}

function valueOf(lines: Line[], label: string): string {
  const line = lines.find((l) => l.label === label);
  expect(line, `a "${label}" line in ${JSON.stringify(lines)}`).toBeDefined();
  return line!.value;
}

const mail = (args: Record<string, unknown>) =>
  prompt(sendMail as ToolDefinition, {
    to: ['alex@contoso.test'],
    subject: 'Quarterly numbers',
    body: 'Hi',
    ...args,
  });

describe('send_mail approval prompt', () => {
  it('shows a short plain mail whole, with no cut mark and no URL lines', () => {
    expect(mail({ body: 'Hi Alex,\nthe numbers are in.\nAdele' })).toEqual([
      { label: 'To', value: 'alex@contoso.test' },
      { label: 'Subject', value: 'Quarterly numbers' },
      { label: 'Body', value: 'Hi Alex,\nthe numbers are in.\nAdele' },
    ]);
  });

  it('marks a single long line as cut and says how many characters are not shown', () => {
    const body = `${'a'.repeat(1_990)}SECRET${'b'.repeat(3_004)}`;
    const value = valueOf(mail({ body }), 'Body');
    expect(value).toBe(
      `${'a'.repeat(1_990)}SECRET${'b'.repeat(4)}\n… not shown: the rest of this line (3,000 characters)`,
    );
  });

  it('says how many lines and characters are not shown after the last line shown', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
    const value = valueOf(mail({ body: lines.join('\n') }), 'Body');
    const shown = value.split('\n');
    expect(shown.slice(0, 20)).toEqual(lines.slice(0, 20));
    // "line 21" … "line 25": 7 characters each.
    expect(shown[20]).toBe('… not shown: 5 more lines (35 characters)');
    expect(shown).toHaveLength(21);
  });

  it('folds lines of zero-width characters into one mark, so they cannot push the text out of view', () => {
    const filler = Array.from({ length: 40 }, () => '\u200b\u200b\u200b').join('\n');
    const body = `${filler}\n\u2060\n\nWire 9,000 EUR to the account below today.\nIBAN DE00 1234`;
    const value = valueOf(mail({ body }), 'Body');
    expect(value).toBe(
      '⟦42 lines with only invisible characters: U+200B, U+2060⟧\nWire 9,000 EUR to the account below today.\nIBAN DE00 1234',
    );
  });

  it('shows invisible and direction-changing characters as marks in recipients, subject and body', () => {
    const lines = mail({
      to: ['alex@contoso.test'],
      subject: 'Invoice \u202Efdp.exe\u202C for \u200Bpayment',
      body: 'Pay\u00ADment\u2066 due\u2069\uFEFF\nTag: \u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E0065} me',
    });
    expect(valueOf(lines, 'Subject')).toBe('Invoice ⟦U+202E⟧fdp.exe⟦U+202C⟧ for ⟦U+200B⟧payment');
    expect(valueOf(lines, 'Body')).toBe(
      'Pay⟦U+00AD⟧ment⟦U+2066⟧ due⟦U+2069⟧⟦U+FEFF⟧\nTag: ⟦hidden tag text: ignore⟧ me',
    );
  });

  it('lists every URL an HTML mail loads when opened, with its host, beacons included', () => {
    const html = [
      '<html><head><style>@import "https://css.example/a.css"; body{background:url(//bg.example/b.png)}</style>',
      '<link rel="stylesheet" href="https://link.example/s.css"></head>',
      '<body background="https://body.example/bg.jpg"><p>Hi Alex,</p>',
      '<img width="1" height="1" title="a>b" src="https://track.example/open.gif?u=adele">',
      '<div style="background-image: u\\72l(&quot;https://styleattr.example/x.png&quot;)">numbers attached</div>',
      '<img srcset="https://set.example/1x.png 1x, https://set.example/2x.png 2x" src="cid:logo@mail">',
      '<!--[if mso]><img src="https://mso.example/o.gif"><![endif]-->',
      '<!-- <img src="https://commented.example/never.gif"> -->',
      '<img src="data:image/png;base64,AAAA"><img src="images/relative.png">',
      '</body></html>',
    ].join('');
    const lines = mail({ body: html, bodyType: 'html' });
    expect(valueOf(lines, 'Format')).toBe('HTML, shown below as text');
    expect(valueOf(lines, 'Body')).toBe('Hi Alex,\n\nnumbers attached');
    expect(valueOf(lines, 'Loads when opened').split('\n')).toEqual([
      'css.example — https://css.example/a.css (CSS)',
      'bg.example — https://bg.example/b.png (CSS)',
      'link.example — https://link.example/s.css (link href)',
      'body.example — https://body.example/bg.jpg (body background)',
      'track.example — https://track.example/open.gif?u=adele (img src)',
      'styleattr.example — https://styleattr.example/x.png (div style)',
      'set.example — https://set.example/1x.png (img srcset)',
      'set.example — https://set.example/2x.png (img srcset)',
      'mso.example — https://mso.example/o.gif (img src)',
    ]);
    expect(lines.find((l) => l.label === 'Links to')).toBeUndefined();
  });

  it('lists links apart from loads, and flags a link whose text shows another host', () => {
    const html =
      '<p>Please <a href="https://paypal.com.evil.example/login">https://www.paypal.com/signin</a> today.</p>' +
      '<p><a href="https://contoso.test/plan">the plan</a>, <a href="https://www.contoso.test/">contoso.test</a></p>' +
      '<p><a href="https://paypal.com@evil.example/x">account</a> <a href="javascript:alert(1)">go</a></p>' +
      '<p><a href="https://xn--pypal-4ve.com/">here</a> <a href="\\\\files.example\\share\\doc.lnk">doc</a></p>' +
      '<p>Also see https://text.example/page.</p>';
    const lines = mail({ body: html, bodyType: 'html' });
    expect(valueOf(lines, 'Links to').split('\n')).toEqual([
      'paypal.com.evil.example — https://paypal.com.evil.example/login ⚠ the link text shows www.paypal.com',
      'contoso.test — https://contoso.test/plan',
      'www.contoso.test — https://www.contoso.test/',
      'evil.example — https://paypal.com@evil.example/x ⚠ starts with "paypal.com@", which is not its host',
      '(no host) — javascript:alert(1) ⚠ opens an app or runs code, not a web page',
      'xn--pypal-4ve.com — https://xn--pypal-4ve.com/ ⚠ an international name that shows as "pаypal.com"',
      'files.example — file://files.example/share/doc.lnk ⚠ a file share',
      'text.example — https://text.example/page (in the text)',
    ]);
    expect(lines.find((l) => l.label === 'Loads when opened')).toBeUndefined();
  });

  it('lists the links of a plain-text mail, including those past the cut', () => {
    const body = `See https://intranet.contoso.test/q3 for the numbers.\n${'x'.repeat(3_000)}\nhttps://later.example/pay`;
    const lines = mail({ body });
    expect(valueOf(lines, 'Body')).toContain('… not shown: the rest of this line and 1 more line');
    expect(valueOf(lines, 'Links to').split('\n')).toEqual([
      'intranet.contoso.test — https://intranet.contoso.test/q3 (in the text)',
      'later.example — https://later.example/pay (in the text)',
    ]);
  });

  it('counts a repeated URL once, and names the hosts of URLs past the list', () => {
    const imgs = Array.from(
      { length: 45 },
      (_, i) => `<img src="https://h${i % 3}.example/p${i}.gif">`,
    );
    const html = `<p>Hi</p>${imgs.join('')}${'<img src="https://h0.example/p0.gif">'.repeat(4)}`;
    const value = valueOf(mail({ body: html, bodyType: 'html' }), 'Loads when opened').split('\n');
    expect(value[0]).toBe('h0.example — https://h0.example/p0.gif (img src) ×5');
    expect(value).toHaveLength(41);
    expect(value[40]).toBe('… and 5 more URLs on h0.example, h1.example, h2.example');
  });
});

describe('create_event approval prompt', () => {
  it('marks invisible characters in subject, location and attendees, and lists links of the description', () => {
    const lines = prompt(createEvent as ToolDefinition, {
      subject: 'Sync\u200F',
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T11:00:00',
      location: 'Room 1\u202E2 https://meet.example/j/1',
      attendees: ['alex@contoso.test'],
      body: `Agenda\n${'\u200B\n'.repeat(12)}Bring your password: https://login.example/form`,
    });
    expect(lines).toEqual([
      { label: 'Subject', value: 'Sync⟦U+200F⟧' },
      { label: 'When', value: '2031-01-15T10:00:00 → 2031-01-15T11:00:00 (UTC)' },
      { label: 'Where', value: 'Room 1⟦U+202E⟧2 https://meet.example/j/1' },
      { label: 'Invites', value: 'alex@contoso.test' },
      {
        label: 'Description',
        value:
          'Agenda\n⟦12 lines with only invisible characters: U+200B⟧\nBring your password: https://login.example/form',
      },
      {
        label: 'Links to',
        value: [
          'meet.example — https://meet.example/j/1 (in the text)',
          'login.example — https://login.example/form (in the text)',
        ].join('\n'),
      },
    ]);
  });
});

describe('approval prompt of a tool without its own description', () => {
  const echo = defineTool({
    name: 'search_files',
    title: 'Echo',
    description: 'A tool with no describe(): the prompt shows its arguments as given.',
    kind: 'write',
    scopes: [],
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    input: z.object({ note: z.string(), tags: z.array(z.string()).optional(), n: z.number() }),
    output: z.object({}),
    run: () => Promise.resolve({}),
  }) as unknown as ToolDefinition;

  it('marks invisible characters, marks the cut and lists URLs in the arguments', () => {
    const lines = prompt(echo, {
      note: `Ship it\u202E now https://x.example/a ${'z'.repeat(2_000)}`,
      tags: ['a\u200Bb'],
      n: 3,
    });
    expect(lines[0]!.label).toBe('note');
    expect(lines[0]!.value).toMatch(
      /^Ship it⟦U\+202E⟧ now https:\/\/x\.example\/a z+\n… not shown: the rest of this line \(1,\d{3} characters\)$/,
    );
    expect(lines.slice(1)).toEqual([
      { label: 'tags', value: '["a⟦U+200B⟧b"]' },
      { label: 'n', value: '3' },
      { label: 'Links to', value: 'x.example — https://x.example/a (in the text)' },
    ]);
  });
});
