import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';
import { htmlToText, tidyLines, truncate } from './html-text.ts';
import { addressesOf, addressOf, mailAddressOutput, type GraphRecipient } from './mail-address.ts';

/** Recipients listed per field; a message to a whole distribution list stays readable. */
const MAX_RECIPIENTS = 100;

interface GraphFullMessage {
  id: string;
  subject?: string | null;
  from?: GraphRecipient | null;
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  bccRecipients?: GraphRecipient[];
  receivedDateTime?: string | null;
  sentDateTime?: string | null;
  importance?: string | null;
  isRead?: boolean;
  hasAttachments?: boolean;
  conversationId?: string | null;
  webLink?: string | null;
  body?: { contentType?: string; content?: string | null } | null;
}

const SELECT =
  'id,subject,from,toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,importance,isRead,hasAttachments,conversationId,webLink,body';

/** `get_message`: one message with its body as text (`GET /me/messages/{id}`). */
export const getMessage = defineTool({
  name: 'get_message',
  title: 'Read a message',
  description:
    "Reads one message from the signed-in user's mailbox by id (from list_messages): subject, sender, To/Cc/Bcc recipients, sent and received times, importance, read state, and the body as plain text (HTML is converted to readable text). The body is cut at maxBodyChars (default 10000); `truncated` says whether it was, and bodyLength gives the full length. Attachments are not returned, only hasAttachments.",
  kind: 'read',
  scopes: ['Mail.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.strictObject({
    id: z
      .string()
      .min(1)
      .max(1024)
      // Exchange ids are base64; anything else (such as "..") could reach another resource.
      .regex(/^[A-Za-z0-9+/=_-]+$/, 'must be a message id as list_messages returns it')
      .describe('Message id, as list_messages returns it'),
    maxBodyChars: z
      .number()
      .int()
      .min(100)
      .max(50_000)
      .default(10_000)
      .describe('Longest body text to return, 100–50000 characters (default 10000)'),
  }),
  output: z.object({
    id: z.string(),
    subject: z.string(),
    from: mailAddressOutput.nullable().describe('Sender'),
    to: z.array(mailAddressOutput),
    cc: z.array(mailAddressOutput),
    bcc: z.array(mailAddressOutput).describe('Only known for mail the user sent'),
    receivedDateTime: z.string().nullable().describe('ISO 8601 UTC'),
    sentDateTime: z.string().nullable().describe('ISO 8601 UTC'),
    importance: z.string().describe('low, normal or high'),
    isRead: z.boolean(),
    hasAttachments: z.boolean(),
    conversationId: z.string().nullable().describe('Shared by the messages of one thread'),
    webLink: z.string().nullable().describe('Opens the message in Outlook on the web'),
    body: z.string().describe('The body as plain text'),
    truncated: z.boolean().describe('True when body was cut at maxBodyChars'),
    bodyLength: z.number().int().describe('Length of the whole body text, in characters'),
  }),
  async run(input, ctx) {
    const { data: m } = await ctx.graph<GraphFullMessage>({
      path: `/me/messages/${encodeURIComponent(input.id)}`,
      query: { $select: SELECT },
      // Graph can convert the body itself; the local conversion covers servers that do not.
      headers: { prefer: 'outlook.body-content-type="text"' },
    });
    const content = m.body?.content ?? '';
    const text =
      m.body?.contentType?.toLowerCase() === 'html' ? htmlToText(content) : tidyLines(content);
    const body = truncate(text, input.maxBodyChars);
    return {
      id: m.id,
      subject: m.subject ?? '',
      from: addressOf(m.from),
      to: addressesOf(m.toRecipients, MAX_RECIPIENTS),
      cc: addressesOf(m.ccRecipients, MAX_RECIPIENTS),
      bcc: addressesOf(m.bccRecipients, MAX_RECIPIENTS),
      receivedDateTime: m.receivedDateTime ?? null,
      sentDateTime: m.sentDateTime ?? null,
      importance: m.importance ?? 'normal',
      isRead: m.isRead ?? false,
      hasAttachments: m.hasAttachments ?? false,
      conversationId: m.conversationId ?? null,
      webLink: m.webLink ?? null,
      body: body.text,
      truncated: body.truncated,
      bodyLength: text.length,
    };
  },
});
