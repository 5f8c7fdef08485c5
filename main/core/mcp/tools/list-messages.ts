import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';
import { addressesOf, addressOf, mailAddressOutput, type GraphRecipient } from './mail-address.ts';
import { odataDateTime, odataString, searchPhrase } from './odata-text.ts';
import { nextPageTokenOutput, pageTokenInput, readPage } from './paging.ts';
import { emailInput, instantInput, invalidArguments } from './tool-input.ts';

/** How many To recipients a list item shows; get_message shows them all. */
const LIST_RECIPIENTS = 10;
/** Graph orders by receivedDateTime only when it leads the filter, so filters start with this. */
const EVER = new Date('1900-01-01T00:00:00Z');

interface GraphMessageItem {
  id: string;
  subject?: string | null;
  from?: GraphRecipient | null;
  toRecipients?: GraphRecipient[];
  receivedDateTime?: string | null;
  bodyPreview?: string | null;
  isRead?: boolean;
  hasAttachments?: boolean;
  importance?: string | null;
  webLink?: string | null;
}

const SELECT =
  'id,subject,from,toRecipients,receivedDateTime,bodyPreview,isRead,hasAttachments,importance,webLink';

/** `list_messages`: the signed-in user's mail, newest first (`GET /me/messages`). */
export const listMessages = defineTool({
  name: 'list_messages',
  title: 'List my mail',
  description:
    "Lists messages in the signed-in user's mailbox (all folders), newest first: id, subject, sender, first recipients, received time, a short preview, read state, attachments flag and an Outlook link. Returns at most `top` messages (default 10, max 50); when more exist the result has nextPageToken, which you pass back as pageToken for the next page. Narrow with unreadOnly, since and from, or use search for keywords (search cannot be combined with those filters). Use get_message with an id to read a full message.",
  kind: 'read',
  scopes: ['Mail.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.strictObject({
    top: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(10)
      .describe('Messages per page, 1–50 (default 10)'),
    unreadOnly: z.boolean().default(false).describe('Only unread messages'),
    since: instantInput('Only messages received at or after this time').optional(),
    from: emailInput.optional().describe("Only messages from this sender's email address"),
    search: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe(
        'Keywords searched in subject, body and sender (Outlook search; `subject:`, `from:`, `to:` narrow a word). Results are ordered by relevance and date; cannot be combined with unreadOnly, since or from.',
      ),
    pageToken: pageTokenInput.optional(),
  }),
  output: z.object({
    messages: z.array(
      z.object({
        id: z.string().describe('Message id, for get_message'),
        subject: z.string(),
        from: mailAddressOutput.nullable().describe('Sender'),
        to: z.array(mailAddressOutput).describe(`First ${LIST_RECIPIENTS} To recipients`),
        toCount: z.number().int().describe('How many To recipients the message has'),
        receivedDateTime: z.string().nullable().describe('When it arrived, ISO 8601 UTC'),
        preview: z.string().describe('The first 255 characters of the body as text'),
        isRead: z.boolean(),
        hasAttachments: z.boolean(),
        importance: z.string().describe('low, normal or high'),
        webLink: z.string().nullable().describe('Opens the message in Outlook on the web'),
      }),
    ),
    nextPageToken: nextPageTokenOutput,
  }),
  async run(input, ctx) {
    const page = await readPage<GraphMessageItem>(ctx, 'list_messages', input.pageToken, {
      resource: /^\/me\/messages$/i,
      first: () => ({ path: '/me/messages', query: messageQuery(input) }),
    });
    const messages = page.items.map((m) => ({
      id: m.id,
      subject: m.subject ?? '',
      from: addressOf(m.from),
      to: addressesOf(m.toRecipients, LIST_RECIPIENTS),
      toCount: m.toRecipients?.length ?? 0,
      receivedDateTime: m.receivedDateTime ?? null,
      preview: m.bodyPreview ?? '',
      isRead: m.isRead ?? false,
      hasAttachments: m.hasAttachments ?? false,
      importance: m.importance ?? 'normal',
      webLink: m.webLink ?? null,
    }));
    return { messages, ...page.more };
  },
});

/**
 * The query for a first page. Graph refuses `$search` with `$filter` or `$orderby`, and
 * `$orderby=receivedDateTime` unless receivedDateTime leads the filter: hence the lower
 * bound first, even when only unread mail was asked for.
 */
function messageQuery(input: {
  top: number;
  unreadOnly: boolean;
  since?: string;
  from?: string;
  search?: string;
}) {
  const query = { $top: input.top, $select: SELECT };
  if (input.search !== undefined) {
    if (input.unreadOnly || input.since !== undefined || input.from !== undefined) {
      throw invalidArguments(
        'list_messages',
        'search cannot be combined with unreadOnly, since or from; use one or the other',
      );
    }
    return { ...query, $search: searchPhrase(input.search) };
  }
  const clauses: string[] = [];
  if (input.unreadOnly || input.since !== undefined || input.from !== undefined) {
    clauses.push(
      `receivedDateTime ge ${odataDateTime(input.since ? new Date(input.since) : EVER)}`,
    );
  }
  if (input.unreadOnly) clauses.push('isRead eq false');
  if (input.from !== undefined)
    clauses.push(`from/emailAddress/address eq ${odataString(input.from)}`);
  return {
    ...query,
    $orderby: 'receivedDateTime desc',
    ...(clauses.length ? { $filter: clauses.join(' and ') } : {}),
  };
}
