import { bodyAs, bodyTypeApplied, preferredBodyType } from './body-type.ts';
import type { Route } from './endpoint.ts';
import { segments } from './endpoint.ts';
import { GraphError, itemNotFound } from './errors.ts';
import { sendMail } from './mail-send.ts';
import {
  checkFilterOrder,
  messageSearch,
  parseMessageFilter,
  parseMessageOrder,
} from './message-query.ts';
import type { GraphMessage } from './model.ts';
import { contextUrl, page, project, searchText } from './odata.ts';
import { SCOPES } from './scopes.ts';

const MESSAGE_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;

/** Graph returns these even when `$select` leaves them out. */
const ALWAYS = ['@odata.etag', 'id'];

function notWithSearch(option: string): GraphError {
  return new GraphError(
    400,
    'ErrorInvalidUrlQuery',
    `The query parameter '${option}' is not supported with '$search'.`,
  );
}

/** A message as a read shows it: its body in the type the request prefers, as Graph converts it. */
function asRead(message: GraphMessage, type: GraphMessage['body']['contentType'] | undefined) {
  return type ? { ...message, body: bodyAs(message.body, type) } : message;
}

/** `GET /me/messages`, `GET /me/messages/{id}` and `POST /me/sendMail`. */
export const mailRoutes: Route[] = [
  {
    match: segments('me', 'messages'),
    methods: {
      GET: {
        scope: SCOPES.readMail,
        options: ['$top', '$skip', '$select', '$filter', '$orderby', '$search', '$count'],
        handle: ({ data, query, root, userId, prefer }) => {
          const bodyType = preferredBodyType(prefer);
          const search = query.get('$search');
          const rawFilter = query.get('$filter');
          const rawOrder = query.get('$orderby');
          if (search !== undefined && rawOrder !== undefined) throw notWithSearch('$orderby');
          if (search !== undefined && rawFilter !== undefined) throw notWithSearch('$filter');
          const filter = rawFilter === undefined ? undefined : parseMessageFilter(rawFilter);
          const order = parseMessageOrder(rawOrder);
          if (filter && rawOrder !== undefined) checkFilterOrder(filter, order);
          const select = query.select(MESSAGE_PROPERTIES, 'microsoft.graph.message');
          const matches = search === undefined ? () => true : messageSearch(searchText(search));
          const items = data.messages
            .filter((message) => (filter?.test(message) ?? true) && matches(message))
            .sort(order.compare);
          return {
            status: 200,
            ...(bodyType ? { headers: bodyTypeApplied(bodyType) } : {}),
            body: page({
              items,
              top: query.top(10, 1000),
              skip: query.skip(),
              count: query.count(),
              context: contextUrl(root, `users('${userId}')/messages`, select),
              nextLink: (skip) => query.withOption('$skip', String(skip)),
              shape: (message) => project(asRead(message, bodyType), select, ALWAYS),
            }),
          };
        },
      },
    },
  },
  {
    match: segments('me', 'messages', '*'),
    methods: {
      GET: {
        scope: SCOPES.readMail,
        options: ['$select'],
        handle: ({ data, query, root, userId, params, prefer }) => {
          const message = data.messages.find((item) => item.id === params[0]);
          if (!message) throw itemNotFound();
          const select = query.select(MESSAGE_PROPERTIES, 'microsoft.graph.message');
          const bodyType = preferredBodyType(prefer);
          return {
            status: 200,
            ...(bodyType ? { headers: bodyTypeApplied(bodyType) } : {}),
            body: {
              '@odata.context': contextUrl(root, `users('${userId}')/messages`, select, '/$entity'),
              ...project(asRead(message, bodyType), select, ALWAYS),
            },
          };
        },
      },
    },
  },
  {
    match: segments('me', 'sendMail'),
    methods: { POST: { scope: SCOPES.sendMail, options: [], body: true, handle: sendMail } },
  },
];
