import { createHash } from 'node:crypto';
import type { EmailAddress, GraphMessage, ItemBody, Recipient } from './model.ts';
import { exchangeId } from './seed/random.ts';
import { utcStamp } from './seed/time.ts';

/** The well-known folders the stand-in files messages in. */
export type FolderName = 'inbox' | 'sentitems';

/** The ID of a user's well-known mail folder. */
export function folderId(userId: string, folder: FolderName): string {
  return exchangeId(userId.toLowerCase(), 'folder', folder);
}

/** A body as plain text, whitespace collapsed. */
export function plainText(body: ItemBody): string {
  const text =
    body.contentType === 'html'
      ? body.content
          .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
          .replace(/<[^>]*>/g, ' ')
          .replace(/&nbsp;/g, ' ')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&')
      : body.content;
  return text.replace(/\s+/g, ' ').trim();
}

/** Graph's `bodyPreview`: the first 255 characters of the plain text. */
export function previewOf(body: ItemBody): string {
  return plainText(body).slice(0, 255);
}

/** Escapes text for an HTML body. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** What a message is made of; the rest is derived. */
export interface MessageInput {
  id: string;
  userId: string;
  folder: FolderName;
  /** When it was sent; received a few seconds later. */
  sentMs: number;
  subject: string;
  body: ItemBody;
  from: EmailAddress;
  to: EmailAddress[];
  cc?: EmailAddress[];
  bcc?: EmailAddress[];
  importance?: GraphMessage['importance'];
  isRead: boolean;
  hasAttachments?: boolean;
  flagged?: boolean;
}

const recipients = (addresses: EmailAddress[] = []): Recipient[] =>
  addresses.map((emailAddress) => ({ emailAddress: { ...emailAddress } }));

/** A message with Graph's full default property set. */
export function buildMessage(input: MessageInput): GraphMessage {
  const hash = createHash('sha256').update(input.id).digest();
  const changeKey = hash.subarray(0, 21).toString('base64');
  const received = utcStamp(input.sentMs + (input.folder === 'inbox' ? 4_000 : 0));
  const domain = input.from.address.split('@')[1] ?? 'example.test';
  return {
    '@odata.etag': `W/"${changeKey}"`,
    id: input.id,
    createdDateTime: received,
    lastModifiedDateTime: received,
    changeKey,
    categories: [],
    receivedDateTime: received,
    sentDateTime: utcStamp(input.sentMs),
    hasAttachments: input.hasAttachments ?? false,
    internetMessageId: `<${hash.subarray(21, 33).toString('hex')}@${domain}>`,
    subject: input.subject,
    bodyPreview: previewOf(input.body),
    importance: input.importance ?? 'normal',
    parentFolderId: folderId(input.userId, input.folder),
    conversationId: exchangeId('conversation', input.subject.replace(/^(re|fw|fwd):\s*/i, '')),
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: input.isRead,
    isDraft: false,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(input.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: { ...input.body },
    sender: { emailAddress: { ...input.from } },
    from: { emailAddress: { ...input.from } },
    toRecipients: recipients(input.to),
    ccRecipients: recipients(input.cc),
    bccRecipients: recipients(input.bcc),
    replyTo: [],
    flag: { flagStatus: input.flagged ? 'flagged' : 'notFlagged' },
  };
}
