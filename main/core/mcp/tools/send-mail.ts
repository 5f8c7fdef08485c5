import { z } from 'zod';
import { defineTool, WRITE_GRAPH_HINTS } from '../tool-definition.ts';
import { preview, urlLines, visible } from './approval-text.ts';
import { htmlToText } from './html-text.ts';
import { htmlUrls, textUrls } from './mail-urls.ts';
import { toRecipients } from './mail-address.ts';
import { emailInput, invalidArguments } from './tool-input.ts';

/** Recipients in all (To, Cc and Bcc); more looks like a mass mailing, not an assistant's errand. */
const MAX_RECIPIENTS = 50;
/** How much of the body the approval prompt shows before it says what it cut. */
const BODY_SHOWN = { lines: 20, chars: 2_000 };

const recipientList = (what: string) =>
  z
    .array(emailInput)
    .max(MAX_RECIPIENTS)
    .describe(`${what}: email addresses (use search_people to find one)`);

/** `send_mail`: sends a message as the signed-in user (`POST /me/sendMail`). */
export const sendMail = defineTool({
  name: 'send_mail',
  title: 'Send mail',
  description: `Sends an email as the signed-in user, from their own mailbox, and keeps a copy in Sent Items. This sends real mail that cannot be recalled: only call it when the user asked for this message to be sent, and check recipients and text first. It may wait until the user approves it in MCP Valet. Recipients are email addresses (at most ${MAX_RECIPIENTS} in all); use search_people to turn a name into an address. The body is plain text unless bodyType is html.`,
  kind: 'write',
  scopes: ['Mail.Send'],
  annotations: WRITE_GRAPH_HINTS,
  // Unknown arguments are dropped, not refused: a client adding "approved": true gains nothing.
  input: z.object({
    to: recipientList('To recipients').min(1),
    cc: recipientList('Cc recipients').optional(),
    bcc: recipientList('Bcc recipients, hidden from the others').optional(),
    subject: z.string().trim().min(1).max(255).describe('Subject line'),
    body: z.string().min(1).max(100_000).describe('Message text'),
    bodyType: z.enum(['text', 'html']).default('text').describe('text (default) or html'),
    importance: z
      .enum(['low', 'normal', 'high'])
      .default('normal')
      .describe('low, normal (default) or high'),
  }),
  output: z.object({
    sent: z.literal(true),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    bcc: z.array(z.string()),
    subject: z.string(),
    savedToSentItems: z.boolean(),
  }),
  describe: (input) => {
    const html = input.bodyType === 'html';
    return {
      action: 'Send an email',
      summary: [
        { label: 'To', value: visible(input.to.join(', ')) },
        ...(input.cc?.length ? [{ label: 'Cc', value: visible(input.cc.join(', ')) }] : []),
        ...(input.bcc?.length ? [{ label: 'Bcc', value: visible(input.bcc.join(', ')) }] : []),
        { label: 'Subject', value: visible(input.subject) },
        ...(html ? [{ label: 'Format', value: 'HTML, shown below as text' }] : []),
        { label: 'Body', value: preview(html ? htmlToText(input.body) : input.body, BODY_SHOWN) },
        ...urlLines(html ? htmlUrls(input.body) : textUrls(input.body)),
        ...(input.importance !== 'normal'
          ? [{ label: 'Importance', value: input.importance }]
          : []),
      ],
    };
  },
  auditArgs: (input) => ({
    to: input.to,
    cc: input.cc ?? [],
    bcc: input.bcc?.length ?? 0,
    subjectChars: input.subject.length,
    bodyChars: input.body.length,
  }),
  async run(input, ctx) {
    const cc = input.cc ?? [];
    const bcc = input.bcc ?? [];
    if (input.to.length + cc.length + bcc.length > MAX_RECIPIENTS) {
      throw invalidArguments(
        'send_mail',
        `at most ${MAX_RECIPIENTS} recipients in all (to, cc and bcc)`,
      );
    }
    await ctx.graph({
      method: 'POST',
      path: '/me/sendMail',
      body: {
        message: {
          subject: input.subject,
          body: { contentType: input.bodyType, content: input.body },
          toRecipients: toRecipients(input.to),
          ...(cc.length ? { ccRecipients: toRecipients(cc) } : {}),
          ...(bcc.length ? { bccRecipients: toRecipients(bcc) } : {}),
          importance: input.importance,
        },
        saveToSentItems: true,
      },
      // Graph may have sent the mail before a 5xx: never send it twice.
      idempotent: false,
    });
    return {
      sent: true as const,
      to: input.to,
      cc,
      bcc,
      subject: input.subject,
      savedToSentItems: true,
    };
  },
});
