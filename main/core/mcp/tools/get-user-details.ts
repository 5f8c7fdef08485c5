import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';

/** `get_user_details`: the signed-in user's profile (`GET /me`). */
export const getUserDetails = defineTool({
  name: 'get_user_details',
  title: 'Get my profile',
  description:
    "Returns the signed-in user's Microsoft 365 profile: name, email address, user principal name, job title, office and phone numbers.",
  kind: 'read',
  scopes: ['User.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.object({}),
  output: z.object({
    id: z.string().describe('Entra object ID'),
    displayName: z.string().nullable(),
    givenName: z.string().nullable(),
    surname: z.string().nullable(),
    mail: z.string().nullable(),
    userPrincipalName: z.string().nullable(),
    jobTitle: z.string().nullable(),
    officeLocation: z.string().nullable(),
    businessPhones: z.array(z.string()),
    mobilePhone: z.string().nullable(),
    preferredLanguage: z.string().nullable(),
  }),
  async run(_input, ctx) {
    const me = await ctx.me();
    return {
      id: me.id,
      displayName: me.displayName ?? null,
      givenName: me.givenName ?? null,
      surname: me.surname ?? null,
      mail: me.mail ?? null,
      userPrincipalName: me.userPrincipalName ?? null,
      jobTitle: me.jobTitle ?? null,
      officeLocation: me.officeLocation ?? null,
      businessPhones: me.businessPhones ?? [],
      mobilePhone: me.mobilePhone ?? null,
      preferredLanguage: me.preferredLanguage ?? null,
    };
  },
});
