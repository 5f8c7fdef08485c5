import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';
import { searchPhrase } from './odata-text.ts';
import { firstPageQuery, nextPageTokenOutput, pageTokenInput, readPage } from './paging.ts';

interface GraphPerson {
  id: string;
  displayName?: string | null;
  scoredEmailAddresses?: Array<{ address?: string | null }> | null;
  jobTitle?: string | null;
  department?: string | null;
  companyName?: string | null;
  officeLocation?: string | null;
  phones?: Array<{ type?: string | null; number?: string | null }> | null;
  personType?: { class?: string | null; subclass?: string | null } | null;
}

const SELECT =
  'id,displayName,scoredEmailAddresses,jobTitle,department,companyName,officeLocation,phones,personType';

/** `search_people`: people relevant to the signed-in user, by name or address (`GET /me/people?$search=…`). */
export const searchPeople = defineTool({
  name: 'search_people',
  title: 'Find people',
  description:
    'Finds people relevant to the signed-in user (colleagues they work with, contacts) whose name or email address starts with the query, most relevant first: name, email addresses, job title, department, company, office and phone numbers. Use it to turn a name into an email address before send_mail or create_event. Returns at most `top` people (default 10, max 25); when more exist the result has nextPageToken, which you pass back as pageToken for the next page.',
  kind: 'read',
  scopes: ['People.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.strictObject({
    query: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'A name or the start of one, or an email address, e.g. "megan"; required unless pageToken is given',
      ),
    top: z.number().int().min(1).max(25).default(10).describe('People per page, 1–25 (default 10)'),
    pageToken: pageTokenInput.optional(),
  }),
  output: z.object({
    people: z.array(
      z.object({
        id: z.string(),
        displayName: z.string(),
        emailAddresses: z.array(z.string()).describe('Most relevant first'),
        jobTitle: z.string().nullable(),
        department: z.string().nullable(),
        companyName: z.string().nullable(),
        officeLocation: z.string().nullable(),
        phones: z.array(z.object({ type: z.string().nullable(), number: z.string() })),
        kind: z
          .string()
          .nullable()
          .describe('OrganizationUser for colleagues, PersonalContact for contacts'),
      }),
    ),
    nextPageToken: nextPageTokenOutput,
  }),
  async run(input, ctx) {
    const page = await readPage<GraphPerson>(ctx, 'search_people', input.pageToken, {
      resource: /^\/me\/people$/i,
      first: () => {
        const query = firstPageQuery('search_people', input.query);
        return {
          path: '/me/people',
          query: { $search: searchPhrase(query), $top: input.top, $select: SELECT },
        };
      },
    });
    const people = page.items.map((p) => ({
      id: p.id,
      displayName: p.displayName ?? '',
      emailAddresses: (p.scoredEmailAddresses ?? []).map((e) => e.address ?? '').filter(Boolean),
      jobTitle: p.jobTitle ?? null,
      department: p.department ?? null,
      companyName: p.companyName ?? null,
      officeLocation: p.officeLocation ?? null,
      phones: (p.phones ?? []).flatMap((ph) =>
        ph.number ? [{ type: ph.type ?? null, number: ph.number }] : [],
      ),
      kind: p.personType?.subclass ?? null,
    }));
    return { people, ...page.more };
  },
});
