import { expect, it } from 'vitest';
import { listMessages } from '../../../../main/core/mcp/tools/list-messages.ts';
import { getMessage } from '../../../../main/core/mcp/tools/get-message.ts';
import { sendMail } from '../../../../main/core/mcp/tools/send-mail.ts';
import { adele, alex, ok, refused, graphCalls, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it('send_mail sends exactly one message with the right recipients and subject', async () => {
  const subject = `Valet test ${Date.now()}`;
  const sent = await ok(sendMail, {
    to: [alex.username],
    cc: ['megan@contoso.test'],
    subject,
    body: 'Hello Alex,\n\nThe numbers are in.',
  });
  expect(sent).toEqual({
    sent: true,
    to: [alex.username],
    cc: ['megan@contoso.test'],
    bcc: [],
    subject,
    savedToSentItems: true,
  });
  const posts = graphCalls('POST', '/v1.0/me/sendMail');
  expect(posts).toHaveLength(1);
  expect(posts[0]).toMatchObject({
    status: 202,
    userId: adele.id,
    body: {
      message: {
        subject,
        body: { contentType: 'text', content: 'Hello Alex,\n\nThe numbers are in.' },
        toRecipients: [{ emailAddress: { address: alex.username } }],
        ccRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
      },
      saveToSentItems: true,
    },
  });
  // The copy in Sent Items is now the newest message.
  const newest = await ok(listMessages, { top: 1 });
  expect(newest.messages[0]).toMatchObject({
    subject,
    from: { address: adele.username },
    to: [{ address: alex.username }],
  });
});

it('send_mail sends HTML that get_message reads back as text', async () => {
  const html =
    '<html><head><style>p{color:red}</style></head><body><!-- tracking --><p>Hi&nbsp;Alex &amp; team,</p>' +
    '<p>See <a href="https://contoso.test/plan?a=1&amp;b=2">the plan</a>:</p><ul><li>One</li><li>Two &lt;3</li></ul>' +
    '<script>alert(1)</script><p>Best,<br>Adele &#x1F600;</p></body></html>';
  await ok(sendMail, {
    to: [alex.username],
    subject: 'HTML round trip',
    body: html,
    bodyType: 'html',
  });
  const [copy] = (await ok(listMessages, { top: 1 })).messages;
  expect(copy?.subject).toBe('HTML round trip');
  const read = await ok(getMessage, { id: copy!.id });
  expect(read.body).toBe(
    'Hi Alex & team,\n\nSee the plan (https://contoso.test/plan?a=1&b=2):\n\n• One\n• Two <3\n\nBest,\nAdele 😀',
  );
});

it('send_mail refuses bad recipients and empty mail without sending anything', async () => {
  const before = graphCalls('POST', '/v1.0/me/sendMail').length;
  for (const args of [
    { to: [], subject: 'x', body: 'y' },
    { to: ['alex'], subject: 'x', body: 'y' },
    { to: ['alex@contoso.test; eve@evil.example'], subject: 'x', body: 'y' },
    { to: [alex.username], subject: '', body: 'y' },
    { to: [alex.username], subject: 'x'.repeat(256), body: 'y' },
    { to: [alex.username], subject: 'x' },
    { to: [alex.username], subject: 'x', body: 'y', bodyType: 'rtf' },
    {
      to: Array.from({ length: 30 }, (_, i) => `p${i}@contoso.test`),
      bcc: Array.from({ length: 30 }, (_, i) => `q${i}@contoso.test`),
      subject: 'x',
      body: 'y',
    },
  ]) {
    expect(await refused(sendMail, args)).toMatch(/^Invalid arguments for send_mail: /);
  }
  expect(graphCalls('POST', '/v1.0/me/sendMail')).toHaveLength(before);
});
