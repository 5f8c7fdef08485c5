import type { Route } from './endpoint.ts';
import { segments } from './endpoint.ts';
import type { Person } from './model.ts';
import { contextUrl, page, project, searchText } from './odata.ts';
import { SCOPES } from './scopes.ts';

const PERSON_PROPERTIES = [
  'id',
  'displayName',
  'givenName',
  'surname',
  'birthday',
  'personNotes',
  'isFavorite',
  'jobTitle',
  'companyName',
  'yomiCompany',
  'department',
  'officeLocation',
  'profession',
  'userPrincipalName',
  'imAddress',
  'scoredEmailAddresses',
  'phones',
  'postalAddresses',
  'websites',
  'personType',
] as const;

/** People search matches the start of a word of the name or of the address, as Graph's fuzzy search roughly does. */
function matches(person: Person, terms: readonly string[]): boolean {
  const words = [
    ...person.displayName.toLowerCase().split(/[\s.'-]+/),
    ...person.scoredEmailAddresses.flatMap(({ address }) => {
      const lower = address.toLowerCase();
      return [lower, lower.split('@')[0] ?? ''];
    }),
  ];
  return terms.every((term) => words.some((word) => word.startsWith(term)));
}

/** `GET /me/people`, ranked by relevance, `$search` narrowing. */
export const peopleRoutes: Route[] = [
  {
    match: segments('me', 'people'),
    methods: {
      GET: {
        scope: SCOPES.readPeople,
        options: ['$top', '$skip', '$select', '$search'],
        handle: ({ data, query, root, userId }) => {
          const raw = query.get('$search');
          const terms =
            raw === undefined ? [] : searchText(raw).toLowerCase().split(/\s+/).filter(Boolean);
          const items = data.people.filter((person) => matches(person, terms));
          const select = query.select(PERSON_PROPERTIES, 'microsoft.graph.person');
          return {
            status: 200,
            body: page({
              items,
              top: query.top(10, 1000),
              skip: query.skip(),
              context: contextUrl(root, `users('${userId}')/people`, select),
              nextLink: (skip) => query.withOption('$skip', String(skip)),
              shape: (person) => project(person, select, ['id']),
            }),
          };
        },
      },
    },
  },
];
