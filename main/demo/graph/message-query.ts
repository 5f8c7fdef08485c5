import { instantOf, parseDateTime } from './date-times.ts';
import { badRequest, GraphError } from './errors.ts';
import { plainText } from './mail-items.ts';
import type { GraphMessage } from './model.ts';

type Predicate = (message: GraphMessage) => boolean;

/** A parsed `$filter`: the test and the properties it names, in order. */
export interface MessageFilter {
  test: Predicate;
  properties: string[];
}

const INVALID_FILTER =
  'The query filter contains one or more invalid nodes. (The Graph stand-in understands `and` of: isRead, hasAttachments, importance, receivedDateTime, sentDateTime, from/emailAddress/address.)';

function invalidFilter(): GraphError {
  return new GraphError(400, 'ErrorInvalidUrlQueryFilter', INVALID_FILTER);
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

function stringLiteral(literal: string): string {
  if (!/^'.*'$/s.test(literal)) throw invalidFilter();
  return literal.slice(1, -1).replaceAll("''", "'");
}

function clause(property: string, op: string, literal: string): { name: string; test: Predicate } {
  const prop = property.toLowerCase();
  if (prop === 'isread' || prop === 'hasattachments') {
    if ((op !== 'eq' && op !== 'ne') || !/^(true|false)$/i.test(literal)) throw invalidFilter();
    const want = literal.toLowerCase() === 'true';
    const key = prop === 'isread' ? 'isRead' : 'hasAttachments';
    return { name: key, test: (m) => (m[key] === want) === (op === 'eq') };
  }
  if (prop === 'importance' || prop === 'from/emailaddress/address') {
    if (op !== 'eq' && op !== 'ne') throw invalidFilter();
    const want = stringLiteral(literal).toLowerCase();
    const read = (m: GraphMessage): string =>
      (prop === 'importance' ? m.importance : m.from.emailAddress.address).toLowerCase();
    return {
      name: prop === 'importance' ? 'importance' : 'from/emailAddress/address',
      test: (m) => (read(m) === want) === (op === 'eq'),
    };
  }
  if (prop === 'receiveddatetime' || prop === 'sentdatetime') {
    // OData DateTimeOffset literals are unquoted; a quoted one is a type mismatch in Graph too.
    const parsed = literal.startsWith("'") ? undefined : parseDateTime(literal);
    const compare = COMPARE[op];
    if (!parsed || !compare) throw invalidFilter();
    const bound = instantOf(parsed);
    const key = prop === 'receiveddatetime' ? 'receivedDateTime' : 'sentDateTime';
    return { name: key, test: (m) => compare(Date.parse(m[key]), bound) };
  }
  throw invalidFilter();
}

const CLAUSE = /^\s*([A-Za-z][A-Za-z/]*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|[^\s()']+)\s*/i;

/** Parses the `$filter` subset the stand-in supports, refusing anything else like Graph would. */
export function parseMessageFilter(raw: string): MessageFilter {
  const tests: Predicate[] = [];
  const properties: string[] = [];
  let rest = raw.trim();
  while (true) {
    const match = CLAUSE.exec(rest);
    if (!match) throw invalidFilter();
    const [whole, property = '', op = '', literal = ''] = match;
    const { name, test } = clause(property, op.toLowerCase(), literal);
    tests.push(test);
    if (!properties.includes(name)) properties.push(name);
    rest = rest.slice(whole.length);
    if (rest === '') break;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw invalidFilter();
    rest = rest.slice(and[0].length);
  }
  return { test: (message) => tests.every((test) => test(message)), properties };
}

/** A parsed `$orderby`: the comparator and the properties it names, in order. */
export interface MessageOrder {
  compare: (a: GraphMessage, b: GraphMessage) => number;
  properties: string[];
}

const SORTABLE: Record<string, 'receivedDateTime' | 'sentDateTime' | 'subject'> = {
  receiveddatetime: 'receivedDateTime',
  sentdatetime: 'sentDateTime',
  subject: 'subject',
};

/** Parses `$orderby` over receivedDateTime, sentDateTime and subject; newest first by default. */
export function parseMessageOrder(raw: string | undefined): MessageOrder {
  const terms = (raw ?? 'receivedDateTime desc').split(',').map((term) => {
    const [name = '', direction = 'asc', extra] = term.trim().split(/\s+/);
    const key = SORTABLE[name.toLowerCase()];
    if (!key || extra !== undefined || !/^(asc|desc)$/i.test(direction)) {
      throw badRequest(
        `The $orderby expression '${term.trim()}' is not supported. Sort by receivedDateTime, sentDateTime or subject.`,
      );
    }
    return { key, sign: direction.toLowerCase() === 'desc' ? -1 : 1 };
  });
  return {
    compare: (a, b) => {
      for (const { key, sign } of terms) {
        const order = a[key].localeCompare(b[key]);
        if (order !== 0) return sign * order;
      }
      return 0;
    },
    properties: terms.map((term) => term.key),
  };
}

/**
 * Graph's rule for combining the two on messages: every $orderby property must also be in
 * $filter, in the same order, before any other. Otherwise it answers InefficientFilter.
 */
export function checkFilterOrder(filter: MessageFilter, order: MessageOrder): void {
  const prefix = filter.properties.slice(0, order.properties.length);
  if (order.properties.every((name, i) => prefix[i] === name)) return;
  throw new GraphError(
    400,
    'InefficientFilter',
    'The restriction or sort order is too complex for this operation.',
  );
}

/** A `$search` test: every term must appear in the subject, body or sender; `subject:`, `from:`, `to:` and `body:` narrow a term. */
export function messageSearch(text: string): Predicate {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  return (m) =>
    terms.every((term) => {
      const [field, value] = term.includes(':')
        ? (term.split(/:(.*)/s) as [string, string])
        : ['', term];
      const from = `${m.from.emailAddress.name} ${m.from.emailAddress.address}`.toLowerCase();
      const to = m.toRecipients
        .map((r) => `${r.emailAddress.name} ${r.emailAddress.address}`)
        .join(' ')
        .toLowerCase();
      const subject = m.subject.toLowerCase();
      const body = plainText(m.body).toLowerCase();
      if (field === 'subject') return subject.includes(value);
      if (field === 'from') return from.includes(value);
      if (field === 'to') return to.includes(value);
      if (field === 'body') return body.includes(value);
      return subject.includes(term) || body.includes(term) || from.includes(term);
    });
}
