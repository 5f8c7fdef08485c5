/** `{ name, address }` as Graph nests it in recipients, senders and attendees. */
export interface EmailAddress {
  name: string;
  address: string;
}

/** A message recipient, sender or reply-to. */
export interface Recipient {
  emailAddress: EmailAddress;
}

/** Graph's `itemBody`. */
export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

/** The message properties the stand-in serves (a subset of Graph's `message`). */
export interface GraphMessage {
  '@odata.etag': string;
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  changeKey: string;
  categories: string[];
  receivedDateTime: string;
  sentDateTime: string;
  hasAttachments: boolean;
  internetMessageId: string;
  subject: string;
  bodyPreview: string;
  importance: 'low' | 'normal' | 'high';
  parentFolderId: string;
  conversationId: string;
  isDeliveryReceiptRequested: boolean;
  isReadReceiptRequested: boolean;
  isRead: boolean;
  isDraft: boolean;
  webLink: string;
  inferenceClassification: 'focused' | 'other';
  body: ItemBody;
  sender: Recipient;
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  flag: { flagStatus: 'notFlagged' | 'flagged' };
}

/** `{ dateTime, timeZone }` as Graph gives event times. */
export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

/** An event attendee. */
export interface Attendee {
  type: 'required' | 'optional' | 'resource';
  status: { response: string; time: string };
  emailAddress: EmailAddress;
}

/** The event properties the stand-in serves (a subset of Graph's `event`). */
export interface GraphEvent {
  '@odata.etag': string;
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  changeKey: string;
  categories: string[];
  iCalUId: string;
  reminderMinutesBeforeStart: number;
  isReminderOn: boolean;
  hasAttachments: boolean;
  subject: string;
  bodyPreview: string;
  importance: 'low' | 'normal' | 'high';
  sensitivity: 'normal';
  isAllDay: boolean;
  isCancelled: boolean;
  isOrganizer: boolean;
  responseRequested: boolean;
  showAs: 'free' | 'tentative' | 'busy' | 'oof';
  type: 'singleInstance';
  webLink: string;
  onlineMeetingUrl: string | null;
  isOnlineMeeting: boolean;
  onlineMeetingProvider: 'teamsForBusiness' | 'unknown';
  responseStatus: { response: string; time: string };
  body: ItemBody;
  start: DateTimeTimeZone;
  end: DateTimeTimeZone;
  location: {
    displayName: string;
    locationType: 'default' | 'conferenceRoom';
    uniqueIdType: 'unknown';
  };
  locations: {
    displayName: string;
    locationType: 'default' | 'conferenceRoom';
    uniqueIdType: 'unknown';
  }[];
  attendees: Attendee[];
  organizer: Recipient;
  onlineMeeting: { joinUrl: string } | null;
}

/** Who created or last changed a drive item. */
export interface IdentitySet {
  user: { email: string; displayName: string };
}

/** The driveItem properties the stand-in serves. */
export interface DriveItem {
  id: string;
  name: string;
  size: number;
  webUrl: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  eTag: string;
  cTag: string;
  createdBy: IdentitySet;
  lastModifiedBy: IdentitySet;
  parentReference: { driveId: string; driveType: 'business'; id: string; path: string };
  file?: { mimeType: string };
  folder?: { childCount: number };
  searchResult: Record<string, never>;
}

/** The person properties the stand-in serves (Graph's `person`, from /me/people). */
export interface Person {
  id: string;
  displayName: string;
  givenName: string;
  surname: string;
  birthday: string;
  personNotes: string;
  isFavorite: boolean;
  jobTitle: string | null;
  companyName: string | null;
  yomiCompany: string;
  department: string | null;
  officeLocation: string | null;
  profession: string;
  userPrincipalName: string | null;
  imAddress: string | null;
  scoredEmailAddresses: {
    address: string;
    relevanceScore: number;
    selectionLikelihood: 'notSpecified';
  }[];
  phones: { type: 'business' | 'mobile'; number: string }[];
  postalAddresses: never[];
  websites: never[];
  personType: { class: 'Person'; subclass: 'OrganizationUser' | 'PersonalContact' };
}

/** The user properties `GET /me` returns by default. */
export interface UserProfile {
  businessPhones: string[];
  displayName: string;
  givenName: string | null;
  jobTitle: string | null;
  mail: string;
  mobilePhone: string | null;
  officeLocation: string | null;
  preferredLanguage: string;
  surname: string | null;
  userPrincipalName: string;
  id: string;
}

/** Everything the stand-in holds for one user. */
export interface UserData {
  profile: UserProfile;
  /** Every folder's messages: Graph's /me/messages spans the whole mailbox. */
  messages: GraphMessage[];
  events: GraphEvent[];
  driveItems: DriveItem[];
  people: Person[];
}
