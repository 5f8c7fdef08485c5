import type { Route } from './endpoint.ts';
import { segments } from './endpoint.ts';
import { contextUrl, project } from './odata.ts';
import { SCOPES } from './scopes.ts';

const USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

/** `GET /me`: the signed-in user's profile, `$select` honoured. */
export const profileRoutes: Route[] = [
  {
    match: segments('me'),
    methods: {
      GET: {
        scope: SCOPES.me,
        options: ['$select'],
        handle: ({ data, query, root }) => {
          const select = query.select(USER_PROPERTIES, 'microsoft.graph.user');
          return {
            status: 200,
            body: {
              '@odata.context': contextUrl(root, 'users', select, '/$entity'),
              ...project(data.profile, select, []),
            },
          };
        },
      },
    },
  },
];
