import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HandlerContext } from './endpoint.ts';
import { GraphError } from './errors.ts';
import type { Reply } from './http.ts';
import { buildMessage } from './mail-items.ts';
import type { EmailAddress, ItemBody } from './model.ts';
import { exchangeId } from './seed/random.ts';
import { bodyError, isMailAddress } from './validation.ts';

const emailAddress = z.strictObject({
  address: z.string().optional(),
  name: z.string().optional(),
});
const recipient = z.strictObject({
  emailAddress: emailAddress.optional(),
  '@odata.type': z.string().optional(),
});
const recipients = z.array(recipient).optional();
const itemBody = z.strictObject({
  contentType: z.string().optional(),
  content: z.string().optional(),
});

/** The writable properties of Graph's `message`; anything else is refused, as Graph does. */
const message = z.strictObject({
  '@odata.type': z.string().optional(),
  subject: z.string().optional(),
  body: itemBody.optional(),
  toRecipients: recipients,
  ccRecipients: recipients,
  bccRecipients: recipients,
  replyTo: recipients,
  from: recipient.optional(),
  sender: recipient.optional(),
  importance: z.string().optional(),
  categories: z.array(z.string()).optional(),
  attachments: z.array(z.object({}).passthrough()).optional(),
  flag: z.unknown().optional(),
  inferenceClassification: z.string().optional(),
  internetMessageHeaders: z.unknown().optional(),
  internetMessageId: z.string().optional(),
  isDeliveryReceiptRequested: z.boolean().optional(),
  isReadReceiptRequested: z.boolean().optional(),
  singleValueExtendedProperties: z.unknown().optional(),
  multiValueExtendedProperties: z.unknown().optional(),
  extensions: z.unknown().optional(),
});

const payload = z.strictObject({
  message: message.optional(),
  saveToSentItems: z.boolean().optional(),
});

function typeAt(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'microsoft.graph.sendMail';
  if (path.at(-1) === 'emailAddress' || path.includes('emailAddress'))
    return 'microsoft.graph.emailAddress';
  if (path.at(-1) === 'body') return 'microsoft.graph.itemBody';
  if (typeof path.at(-1) === 'number' || path.at(-1) === 'from' || path.at(-1) === 'sender') {
    return 'microsoft.graph.recipient';
  }
  return 'microsoft.graph.message';
}

function invalidRecipients(detail: string): GraphError {
  return new GraphError(
    400,
    'ErrorInvalidRecipients',
    `At least one recipient isn't valid., ${detail}`,
  );
}

function addresses(list: z.infer<typeof recipients>): EmailAddress[] {
  return (list ?? []).map(({ emailAddress: email }) => {
    const address = email?.address?.trim() ?? '';
    if (!isMailAddress(address)) {
      throw invalidRecipients(
        `Recipient '${address}' is not resolved. All recipients must be resolved before a message can be submitted.`,
      );
    }
    return { name: email?.name ?? address, address };
  });
}

function bodyOf(body: z.infer<typeof itemBody> | undefined): ItemBody {
  const type = (body?.contentType ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html') {
    throw new GraphError(
      400,
      'RequestBodyRead',
      `Cannot convert the literal '${body?.contentType}' to the expected type 'microsoft.graph.bodyType'.`,
    );
  }
  return { contentType: type, content: body?.content ?? '' };
}

/** `POST /me/sendMail`: validates like Graph, files a copy in Sent Items and delivers to stand-in users. */
export function sendMail(ctx: HandlerContext): Reply {
  const parsed = payload.safeParse(ctx.body);
  if (!parsed.success) throw bodyError(parsed.error, typeAt);
  const { message: mail, saveToSentItems } = parsed.data;
  if (!mail)
    throw new GraphError(
      400,
      'ErrorInvalidParameter',
      "The value of the parameter 'Message' is empty.",
    );
  // Graph itself tolerates a missing subject or body; MCP Valet always sends both, so their absence is a bug worth failing on.
  if (mail.subject === undefined)
    throw new GraphError(400, 'BadRequest', "The message has no 'subject'.");
  if (mail.body?.content === undefined)
    throw new GraphError(400, 'BadRequest', "The message has no 'body' with 'content'.");
  const body = bodyOf(mail.body);
  const to = addresses(mail.toRecipients);
  const cc = addresses(mail.ccRecipients);
  const bcc = addresses(mail.bccRecipients);
  if (to.length === 0)
    throw invalidRecipients("A message can't be sent because it contains no recipients.");
  const importance = (mail.importance ?? 'normal').toLowerCase();
  if (importance !== 'low' && importance !== 'normal' && importance !== 'high') {
    throw new GraphError(
      400,
      'RequestBodyRead',
      `Cannot convert the literal '${mail.importance}' to the expected type 'microsoft.graph.importance'.`,
    );
  }
  const { profile } = ctx.data;
  const common = {
    sentMs: ctx.now().getTime(),
    subject: mail.subject,
    body,
    from: { name: profile.displayName, address: profile.mail },
    to,
    cc,
    importance,
    hasAttachments: (mail.attachments?.length ?? 0) > 0,
  } as const;
  if (saveToSentItems !== false) {
    ctx.data.messages.unshift(
      buildMessage({
        ...common,
        bcc,
        id: exchangeId(ctx.userId, 'sent', randomUUID()),
        userId: ctx.userId,
        folder: 'sentitems',
        isRead: true,
      }),
    );
  }
  const delivered = new Set<string>();
  for (const { address } of [...to, ...cc, ...bcc]) {
    const target = ctx.store.byAddress(address);
    if (!target || delivered.has(target.profile.id)) continue;
    delivered.add(target.profile.id);
    const userId = target.profile.id;
    target.messages.unshift(
      buildMessage({
        ...common,
        id: exchangeId(userId, 'received', randomUUID()),
        userId,
        folder: 'inbox',
        isRead: false,
      }),
    );
  }
  return { status: 202 };
}
