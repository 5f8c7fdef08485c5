import { expect, it } from 'vitest';
import { getMessage } from '../../../../main/core/mcp/tools/get-message.ts';
import { plainText } from '../../../../main/demo/graph/mail-items.ts';
import { adele, seed, ok, refused, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it('get_message returns the HTML body as readable text, capped with a truncated flag', async () => {
  const html = seed.messages.find(
    (m) => m.body.contentType === 'html' && m.ccRecipients.length === 0,
  )!;
  const message = await ok(getMessage, { id: html.id });
  expect(message).toMatchObject({
    id: html.id,
    subject: html.subject,
    from: { name: html.from.emailAddress.name, address: html.from.emailAddress.address },
    to: [{ name: adele.name, address: adele.username }],
    cc: [],
    receivedDateTime: html.receivedDateTime,
    hasAttachments: html.hasAttachments,
    truncated: false,
  });
  expect(message.body).not.toMatch(/<\/?[a-z]+[^>]*>|&(amp|lt|gt|quot);/i);
  // The stand-in's own flattening joins paragraphs with spaces; ours keeps them as lines.
  expect(message.body.replace(/\s+/g, ' ')).toBe(plainText(html.body));
  expect(message.body).toMatch(/^Hi Adele,\n\n/);
  expect(message.bodyLength).toBe(message.body.length);

  expect(message.body.length).toBeGreaterThan(100);
  const short = await ok(getMessage, { id: html.id, maxBodyChars: 100 });
  expect(short.truncated).toBe(true);
  expect(short.body).toBe(message.body.slice(0, 100));
  expect(short.bodyLength).toBe(message.bodyLength);

  const text = seed.messages.find((m) => m.body.contentType === 'text')!;
  const plain = await ok(getMessage, { id: text.id });
  expect(plain.body).toBe(text.body.content);
});

it('get_message refuses ids that are not message ids and explains one that does not exist', async () => {
  for (const id of ['..', '../../me', 'a b', '']) {
    expect(await refused(getMessage, { id })).toMatch(/^Invalid arguments for get_message: id: /);
  }
  expect(await refused(getMessage, { id: 'AAMkAGone=' })).toBe(
    'Not found in Microsoft Graph (ErrorItemNotFound): The specified object was not found in the store.',
  );
});
