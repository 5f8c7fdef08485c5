import type { Person } from '../model.ts';
import { localPart } from './context.ts';
import type { SeedContext } from './context.ts';
import { EXTERNAL_CONTACTS } from './pools.ts';
import { stableGuid } from './random.ts';

/** The user's relevant people: close colleagues first, then a few external contacts. */
export function seedPeople(ctx: SeedContext): Person[] {
  const { random, user } = ctx;
  const key = user.id.toLowerCase();
  const colleagues = ctx.colleagues.map((colleague, rank): Person => ({
    id: stableGuid(key, 'person', colleague.email.address),
    displayName: colleague.email.name,
    givenName: colleague.given,
    surname: colleague.surname,
    birthday: '',
    personNotes: '',
    isFavorite: rank < 2,
    jobTitle: colleague.jobTitle,
    companyName: ctx.company,
    yomiCompany: '',
    department: colleague.department,
    officeLocation: colleague.office,
    profession: '',
    userPrincipalName: colleague.email.address,
    imAddress: `sip:${colleague.email.address}`,
    scoredEmailAddresses: [
      {
        address: colleague.email.address,
        relevanceScore: 20 - rank,
        selectionLikelihood: 'notSpecified',
      },
    ],
    phones: [
      { type: 'business', number: `+1 425 555 ${String(random.int(100, 9999)).padStart(4, '0')}` },
    ],
    postalAddresses: [],
    websites: [],
    personType: { class: 'Person', subclass: 'OrganizationUser' },
  }));
  const externals = random
    .shuffle(EXTERNAL_CONTACTS)
    .slice(0, 3)
    .map((contact, rank): Person => {
      const [given = contact.name, surname = ''] = contact.name.split(' ');
      const address = `${localPart(given)}@${contact.domain}`;
      return {
        id: stableGuid(key, 'person', address),
        displayName: contact.name,
        givenName: given,
        surname,
        birthday: '',
        personNotes: '',
        isFavorite: false,
        jobTitle: null,
        companyName: contact.company,
        yomiCompany: '',
        department: null,
        officeLocation: null,
        profession: '',
        userPrincipalName: null,
        imAddress: null,
        scoredEmailAddresses: [
          { address, relevanceScore: 5 - rank, selectionLikelihood: 'notSpecified' },
        ],
        phones: [],
        postalAddresses: [],
        websites: [],
        personType: { class: 'Person', subclass: 'PersonalContact' },
      };
    });
  return [...colleagues, ...externals];
}
