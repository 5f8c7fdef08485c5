import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGraphStandIn } from '../../main/demo/graph/index.ts';
import type { GraphUser, RunningGraph } from '../../main/demo/graph/index.ts';

const ISSUER = 'https://localhost:44300/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0';
const NOW = new Date('2025-03-12T12:00:00Z');
const ADELE: GraphUser = {
  id: '6e7b768e-07e2-4810-8459-485f84f8f204',
  username: 'adele@contoso.test',
  name: 'Adele Vance',
};
const BEN: GraphUser = {
  id: 'd4957c9d-869e-4364-830c-d0c95be72738',
  username: 'ben@contoso.test',
  name: 'Ben Walters',
};
const ALL_SCOPES =
  'User.Read Mail.Read Mail.Send Calendars.ReadWrite Files.Read People.Read openid profile';

let privateKey: CryptoKey;
let publicJwk: JWK;
let graph: RunningGraph;

interface Claims {
  oid?: string;
  scp?: string;
  aud?: string;
  iss?: string;
  expiresIn?: number;
  key?: CryptoKey;
}

/** An Entra-style Graph access token signed with the test key. */
async function token(claims: Claims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ oid: claims.oid ?? ADELE.id, scp: claims.scp ?? ALL_SCOPES, tid: 'tenant' })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? 'https://graph.microsoft.com')
    .setIssuedAt(now - 60)
    .setNotBefore(now - 60)
    .setExpirationTime(now + (claims.expiresIn ?? 3600))
    .sign(claims.key ?? privateKey);
}

// Response bodies are what is under test; asserting on them field by field is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

async function call(
  path: string,
  init: {
    method?: string;
    token?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const bearer = init.token === undefined ? await token() : init.token;
  const url = path.startsWith('http') ? path : `${graph.url}${path}`;
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Follows `@odata.nextLink` to the end, returning every item and the number of pages. */
async function allPages(path: string): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let next: string | undefined = path;
  let pages = 0;
  while (next) {
    const page = await call(next);
    expect(page.status).toBe(200);
    items.push(...page.body.value);
    next = page.body['@odata.nextLink'];
    pages += 1;
  }
  return { items, pages };
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  graph = await startGraphStandIn({
    issuer: ISSUER,
    keys: { jwks: { keys: [publicJwk] } },
    users: [ADELE, BEN],
    now: () => NOW,
  });
});

afterAll(async () => {
  await graph.close();
});

afterEach(() => {
  graph.clearFaults();
});

describe('authentication', () => {
  it('answers 401 with a Graph error and a Bearer challenge when the token is missing', async () => {
    const res = await call('/me', { token: null, headers: { 'client-request-id': 'abc-123' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="", authorization_uri="https:\/\/localhost:44300\/.+\/oauth2\/v2\.0\/authorize", client_id="00000003-0000-0000-c000-000000000000"$/,
    );
    expect(res.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
      innerError: { 'request-id': res.headers.get('request-id'), 'client-request-id': 'abc-123' },
    });
    expect(res.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it.each([
    ['expired', { expiresIn: -5 }, /expired/],
    ['for another audience', { aud: 'api://someone-else' }, /Invalid audience/],
    ['from another issuer', { iss: 'https://evil.test/v2.0' }, /Invalid issuer/],
    ['for an unknown user', { oid: '00000000-0000-4000-8000-000000000000' }, /Unknown user/],
  ])('refuses a token %s', async (_label, claims, message) => {
    const res = await call('/me', { token: await token(claims) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('InvalidAuthenticationToken');
    expect(res.body.error.message).toMatch(message);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a token signed by another key, and garbage', async () => {
    const other = await generateKeyPair('RS256');
    for (const bad of [await token({ key: other.privateKey }), 'not-a-jwt']) {
      const res = await call('/me', { token: bad });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
  });

  it('never records the token', async () => {
    const bearer = await token();
    await call('/me', { token: bearer });
    expect(JSON.stringify(graph.requests)).not.toContain(bearer.split('.')[2]);
  });

  it('fetches the keys from a jwksUri', async () => {
    const jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    const remote = await startGraphStandIn({
      issuer: ISSUER,
      keys: { jwksUri: `http://127.0.0.1:${port}/keys` },
      users: [ADELE],
    });
    try {
      const ok = await fetch(`${remote.url}/me`, {
        headers: { authorization: `Bearer ${await token()}` },
      });
      expect(ok.status).toBe(200);
      const other = await generateKeyPair('RS256');
      const bad = await fetch(`${remote.url}/me`, {
        headers: { authorization: `Bearer ${await token({ key: other.privateKey })}` },
      });
      expect(bad.status).toBe(401);
    } finally {
      await remote.close();
      await new Promise((resolve) => jwksServer.close(resolve));
    }
  });
});

describe('scopes', () => {
  it('answers 403 naming the permission an endpoint needs', async () => {
    const res = await call('/me/messages', { token: await token({ scp: 'User.Read' }) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ErrorAccessDenied');
    expect(res.body.error.message).toContain('Mail.Read');
    const me = await call('/me', { token: await token({ scp: 'Mail.Read' }) });
    expect(me.status).toBe(403);
    expect(me.body.error.code).toBe('Authorization_RequestDenied');
    expect(me.body.error.message).toContain('User.Read');
  });

  it('accepts the higher permissions', async () => {
    const higher = await token({
      scp: 'Mail.ReadWrite Calendars.ReadWrite Files.Read.All People.Read.All',
    });
    for (const path of [
      '/me/messages',
      '/me/calendarView?startDateTime=2025-03-10T00:00:00Z&endDateTime=2025-03-14T00:00:00Z',
      "/me/drive/root/search(q='a')",
      '/me/people',
    ]) {
      expect((await call(path, { token: higher })).status).toBe(200);
    }
  });

  it('needs Calendars.ReadWrite to create events and Mail.Send to send', async () => {
    const readOnly = await token({ scp: 'Calendars.Read Mail.Read' });
    const event = await call('/me/events', { token: readOnly, body: { subject: 'x' } });
    expect(event.status).toBe(403);
    expect(event.body.error.message).toContain('Calendars.ReadWrite');
    const mail = await call('/me/sendMail', { token: readOnly, body: { message: {} } });
    expect(mail.status).toBe(403);
    expect(mail.body.error.message).toContain('Mail.Send');
  });
});

describe('GET /me', () => {
  it('returns the profile with Graph headers', async () => {
    const res = await call('/me', { headers: { 'client-request-id': 'my-correlation-id' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json;odata.metadata=minimal');
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('client-request-id')).toBe('my-correlation-id');
    expect(res.body).toMatchObject({
      '@odata.context': `${graph.url}/$metadata#users/$entity`,
      id: ADELE.id,
      displayName: 'Adele Vance',
      givenName: 'Adele',
      surname: 'Vance',
      userPrincipalName: ADELE.username,
      mail: ADELE.username,
      preferredLanguage: 'en-US',
    });
    expect(Array.isArray(res.body.businessPhones)).toBe(true);
    for (const key of ['jobTitle', 'officeLocation', 'mobilePhone'])
      expect(res.body).toHaveProperty(key);
  });

  it('honours $select and refuses unknown properties', async () => {
    const res = await call('/me?$select=displayName,mail');
    expect(res.body).toEqual({
      '@odata.context': `${graph.url}/$metadata#users(displayName,mail)/$entity`,
      displayName: 'Adele Vance',
      mail: ADELE.username,
    });
    const bad = await call('/me?$select=shoeSize');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("'shoeSize'");
  });

  it('echoes a generated client-request-id when none is sent', async () => {
    const res = await call('/me');
    expect(res.headers.get('client-request-id')).toBe(res.headers.get('request-id'));
  });
});

describe('GET /me/messages', () => {
  it('lists ten messages, newest first, with Graph shapes and a nextLink', async () => {
    const res = await call('/me/messages');
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe(`${graph.url}/$metadata#users('${ADELE.id}')/messages`);
    expect(res.body.value).toHaveLength(10);
    const received = res.body.value.map((m: { receivedDateTime: string }) => m.receivedDateTime);
    expect([...received].sort().reverse()).toEqual(received);
    const message = res.body.value[0];
    expect(message).toMatchObject({
      id: expect.stringMatching(/^AAMkA[\w-]+=$/),
      subject: expect.any(String),
      bodyPreview: expect.any(String),
      body: { contentType: expect.stringMatching(/^(html|text)$/), content: expect.any(String) },
      receivedDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      isRead: expect.any(Boolean),
      importance: expect.stringMatching(/^(low|normal|high)$/),
      hasAttachments: expect.any(Boolean),
      webLink: expect.stringContaining('https://outlook.office365.com/owa/?ItemID='),
      from: { emailAddress: { name: expect.any(String), address: expect.stringContaining('@') } },
      toRecipients: [expect.objectContaining({ emailAddress: expect.any(Object) })],
    });
    expect(Date.parse(message.receivedDateTime)).toBeLessThanOrEqual(NOW.getTime());
    expect(res.body['@odata.nextLink']).toBe(`${graph.url}/me/messages?%24skip=10`);
  });

  it('pages through at least 30 messages over recent weeks via nextLink', async () => {
    const { items, pages } = await allPages('/me/messages?$top=7&$select=subject,receivedDateTime');
    expect(items.length).toBeGreaterThanOrEqual(30);
    expect(pages).toBe(Math.ceil(items.length / 7));
    expect(new Set(items.map((m) => m.id)).size).toBe(items.length);
    expect(Object.keys(items[0]).sort()).toEqual([
      '@odata.etag',
      'id',
      'receivedDateTime',
      'subject',
    ]);
    const oldest = Date.parse(items.at(-1).receivedDateTime);
    expect(NOW.getTime() - oldest).toBeGreaterThan(14 * 86_400_000);
    expect(NOW.getTime() - oldest).toBeLessThan(35 * 86_400_000);
    const counted = await call('/me/messages?$top=1&$count=true');
    expect(counted.body['@odata.count']).toBe(items.length);
  });

  it('filters on isRead and receivedDateTime', async () => {
    const unread = await call('/me/messages?$filter=isRead eq false&$top=1000');
    expect(unread.body.value.length).toBeGreaterThan(0);
    expect(unread.body.value.every((m: { isRead: boolean }) => !m.isRead)).toBe(true);
    const since = '2025-03-05T00:00:00Z';
    const recent = await call(
      `/me/messages?$filter=${encodeURIComponent(`receivedDateTime ge ${since}`)}&$top=1000`,
    );
    expect(recent.body.value.length).toBeGreaterThan(0);
    for (const m of recent.body.value)
      expect(Date.parse(m.receivedDateTime)).toBeGreaterThanOrEqual(Date.parse(since));
    const both = await call(
      `/me/messages?$filter=receivedDateTime ge ${since} and isRead eq false&$orderby=receivedDateTime desc`,
    );
    expect(both.status).toBe(200);
  });

  it('refuses filters it does not understand, and Graph-inefficient filter/orderby pairs', async () => {
    const bad = await call("/me/messages?$filter=contains(subject,'budget')");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ErrorInvalidUrlQueryFilter');
    const inefficient = await call(
      '/me/messages?$filter=isRead eq false&$orderby=receivedDateTime desc',
    );
    expect(inefficient.status).toBe(400);
    expect(inefficient.body.error.code).toBe('InefficientFilter');
    expect((await call('/me/messages?$top=1001')).status).toBe(400);
    expect((await call('/me/messages?$expand=attachments')).status).toBe(400);
  });

  it('searches subject, body and sender', async () => {
    const first = (await call('/me/messages?$top=1')).body.value[0];
    const word = first.subject.split(/\s+/).find((w: string) => w.length > 4) ?? first.subject;
    const res = await call(`/me/messages?$search=${encodeURIComponent(`"${word}"`)}&$top=1000`);
    expect(res.status).toBe(200);
    expect(res.body.value.map((m: { id: string }) => m.id)).toContain(first.id);
    const sender = first.from.emailAddress.address;
    const bySender = await call(`/me/messages?$search="${sender}"&$top=1000`);
    expect(bySender.body.value.every((m: Json) => m.from.emailAddress.address === sender)).toBe(
      true,
    );
    expect((await call('/me/messages?$search="zzqqxx"')).body.value).toEqual([]);
    expect((await call('/me/messages?$search="a"&$orderby=subject')).status).toBe(400);
  });

  it('gets one message by its (URL-encoded) id, and 404s an unknown one', async () => {
    const first = (await call('/me/messages?$top=1')).body.value[0];
    const res = await call(`/me/messages/${encodeURIComponent(first.id)}?$select=subject,body`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: first.id, subject: first.subject, body: first.body });
    expect(res.body['@odata.context']).toContain('/messages(subject,body)/$entity');
    const missing = await call('/me/messages/AAMkAnope=');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ErrorItemNotFound');
  });

  it('converts bodies to the type Prefer: outlook.body-content-type asks for, and says so', async () => {
    const { items } = await allPages('/me/messages?$top=100&$select=subject,body');
    const html = items.find((m) => m.body.contentType === 'html');
    const text = items.find((m) => m.body.contentType === 'text');
    const read = (id: string, prefer?: string) =>
      call(`/me/messages/${encodeURIComponent(id)}?$select=body`, {
        ...(prefer ? { headers: { prefer } } : {}),
      });

    const asText = await read(html.id, 'outlook.body-content-type="text"');
    expect(asText.status).toBe(200);
    expect(asText.headers.get('preference-applied')).toBe('outlook.body-content-type="text"');
    expect(asText.body.body.contentType).toBe('text');
    expect(asText.body.body.content).not.toMatch(/<\/?[a-z]+[^>]*>|&(amp|lt|gt|quot|nbsp);/i);
    expect(asText.body.body.content).toMatch(/^Hi Adele,\n\n/);

    // Unquoted, in any case, among other preferences.
    const listed = await call('/me/messages?$top=100&$select=body', {
      headers: { prefer: 'outlook.timezone="UTC", Outlook.Body-Content-Type=TEXT' },
    });
    expect(listed.headers.get('preference-applied')).toBe('outlook.body-content-type="text"');
    expect(listed.body.value.map((m: Json) => m.body.contentType)).not.toContain('html');

    const asHtml = await read(text.id, 'outlook.body-content-type="html"');
    expect(asHtml.headers.get('preference-applied')).toBe('outlook.body-content-type="html"');
    expect(asHtml.body.body.contentType).toBe('html');
    expect(asHtml.body.body.content).toMatch(/^<html>.*<\/html>$/s);
    const escaped = text.body.content
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/\r?\n/g, '<br>');
    expect(asHtml.body.body.content).toContain(escaped);

    // No preference, or one Graph does not know: the body as stored, and nothing applied.
    for (const prefer of [undefined, 'outlook.body-content-type="rtf"']) {
      const stored = await read(html.id, prefer);
      expect(stored.headers.get('preference-applied')).toBeNull();
      expect(stored.body.body).toEqual(html.body);
    }
  });
});

describe('GET /me/calendarView', () => {
  const window = (start: string, end: string, extra = ''): string =>
    `/me/calendarView?startDateTime=${start}&endDateTime=${end}${extra}`;

  it('needs both ends of the window', async () => {
    const res = await call('/me/calendarView?startDateTime=2025-03-10T00:00:00Z');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ErrorInvalidParameter');
  });

  it('returns events overlapping the window, ordered, with Graph shapes', async () => {
    const { items } = await allPages(
      window('2025-02-24T00:00:00Z', '2025-04-07T00:00:00Z', '&$top=5'),
    );
    expect(items.length).toBeGreaterThanOrEqual(15);
    const event = items.find((e) => !e.isAllDay);
    expect(event).toMatchObject({
      subject: expect.any(String),
      bodyPreview: expect.any(String),
      start: {
        dateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0000000$/),
        timeZone: 'UTC',
      },
      end: { timeZone: 'UTC' },
      location: { displayName: expect.any(String) },
      organizer: { emailAddress: { address: expect.stringContaining('@') } },
      attendees: expect.any(Array),
      isOnlineMeeting: expect.any(Boolean),
      webLink: expect.stringContaining('outlook.office365.com'),
    });
    const today = await call(
      window('2025-03-12T00:00:00', '2025-03-13T00:00:00', '&$orderby=start/dateTime desc'),
    );
    expect(today.body.value.length).toBeGreaterThan(0);
    const starts = today.body.value.map((e: { start: { dateTime: string } }) => e.start.dateTime);
    expect([...starts].sort().reverse()).toEqual(starts);
    // An event that started before the window and ends inside it overlaps, so it is included.
    const meeting = today.body.value[0];
    const startMs = Date.parse(`${meeting.start.dateTime.slice(0, 19)}Z`);
    const overlap = await call(
      window(new Date(startMs + 60_000).toISOString(), new Date(startMs + 120_000).toISOString()),
    );
    expect(overlap.body.value.map((e: { id: string }) => e.id)).toContain(meeting.id);
  });

  it('honours $select', async () => {
    const res = await call(
      window('2025-03-01T00:00:00Z', '2025-03-31T00:00:00Z', '&$select=subject,start&$top=2'),
    );
    expect(Object.keys(res.body.value[0]).sort()).toEqual([
      '@odata.etag',
      'id',
      'start',
      'subject',
    ]);
    expect(res.body['@odata.nextLink']).toContain('%24skip=2');
  });
});

describe('GET /me/drive/root/search', () => {
  it('finds drive items by name, accepting quoted and URL-encoded search text', async () => {
    const everything = await call("/me/drive/root/search(q='')?$top=100");
    expect(everything.status).toBe(200);
    expect(everything.body['@odata.context']).toBe(`${graph.url}/$metadata#Collection(driveItem)`);
    expect(everything.body.value.length).toBeGreaterThanOrEqual(10);
    const file = everything.body.value.find((item: { file?: object }) => item.file);
    expect(file).toMatchObject({
      id: expect.stringMatching(/^01[A-Z2-7]{32}$/),
      name: expect.any(String),
      size: expect.any(Number),
      webUrl: expect.stringContaining('sharepoint.com'),
      lastModifiedDateTime: expect.any(String),
      file: { mimeType: expect.any(String) },
      parentReference: {
        driveId: expect.any(String),
        path: expect.stringContaining('/drive/root:'),
      },
    });
    expect(everything.body.value.some((item: { folder?: object }) => item.folder)).toBe(true);
    const word = file.name.split(/[\s.]/)[0];
    const found = await call(`/me/drive/root/search(q=${encodeURIComponent(`'${word}'`)})`);
    expect(found.body.value.map((item: { id: string }) => item.id)).toContain(file.id);
    const quoted = await call(`/me/drive/root/search(q='it''s ${word}')`);
    expect(quoted.status).toBe(200);
    expect((await call('/me/drive/root/search(q=unquoted)')).status).toBe(400);
  });

  it('pages with $top and an opaque nextLink', async () => {
    const { items, pages } = await allPages("/me/drive/root/search(q='')?$top=4");
    expect(items.length).toBeGreaterThanOrEqual(10);
    expect(pages).toBe(Math.ceil(items.length / 4));
  });
});

describe('GET /me/people', () => {
  it('lists relevant people and searches them', async () => {
    const all = await call('/me/people?$top=50');
    expect(all.body.value.length).toBeGreaterThanOrEqual(10);
    const person = all.body.value[0];
    expect(person).toMatchObject({
      id: expect.any(String),
      displayName: expect.any(String),
      jobTitle: expect.any(String),
      companyName: 'Contoso',
      scoredEmailAddresses: [
        { address: expect.stringContaining('@contoso.test'), relevanceScore: expect.any(Number) },
      ],
      personType: { class: 'Person', subclass: 'OrganizationUser' },
    });
    const surname = person.surname.slice(0, 3);
    const found = await call(`/me/people?$search="${surname}"`);
    expect(found.body.value.map((p: { id: string }) => p.id)).toContain(person.id);
    expect((await call('/me/people?$top=3')).body.value).toHaveLength(3);
  });
});

describe('POST /me/sendMail', () => {
  const valid = {
    message: {
      subject: 'Stand-in hello',
      body: { contentType: 'Text', content: 'Sent through the stand-in.' },
      toRecipients: [{ emailAddress: { address: BEN.username } }],
      ccRecipients: [{ emailAddress: { address: 'megan@fabrikam.test', name: 'Megan' } }],
    },
  };

  it('answers 202 with no body, records the message, files it in Sent Items and delivers it', async () => {
    const res = await call('/me/sendMail', { body: valid });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');
    const record = graph.requests.at(-1);
    expect(record).toMatchObject({
      method: 'POST',
      path: '/v1.0/me/sendMail',
      status: 202,
      userId: ADELE.id,
      body: valid,
    });
    const sent = await call(`/me/messages?$search="Stand-in hello"`);
    expect(sent.body.value).toHaveLength(1);
    expect(sent.body.value[0]).toMatchObject({
      isRead: true,
      from: { emailAddress: { address: ADELE.username } },
      body: { contentType: 'text', content: 'Sent through the stand-in.' },
    });
    const inbox = await call(`/me/messages?$search="Stand-in hello"`, {
      token: await token({ oid: BEN.id }),
    });
    expect(inbox.body.value).toHaveLength(1);
    expect(inbox.body.value[0].isRead).toBe(false);
  });

  it.each([
    [
      'no recipients',
      { message: { ...valid.message, toRecipients: [] } },
      'ErrorInvalidRecipients',
    ],
    [
      'a bad address',
      { message: { ...valid.message, toRecipients: [{ emailAddress: { address: 'nobody' } }] } },
      'ErrorInvalidRecipients',
    ],
    ['no message', { saveToSentItems: true }, 'ErrorInvalidParameter'],
    ['no subject', { message: { ...valid.message, subject: undefined } }, 'BadRequest'],
    [
      'an unknown property',
      { message: { ...valid.message, to: 'ben@contoso.test' } },
      'RequestBodyRead',
    ],
    [
      'a bad body type',
      { message: { ...valid.message, body: { contentType: 'rtf', content: 'x' } } },
      'RequestBodyRead',
    ],
    ['malformed JSON', '{"message": {', 'BadRequest'],
  ])('answers 400 for %s and sends nothing', async (_label, body, code) => {
    const before = (await call('/me/messages?$top=1&$count=true')).body['@odata.count'];
    const res = await call('/me/sendMail', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(graph.requests.filter((r) => r.path === '/v1.0/me/sendMail').at(-1)?.status).toBe(400);
    expect((await call('/me/messages?$top=1&$count=true')).body['@odata.count']).toBe(before);
  });

  it('answers 413 for a body over 4 MB', async () => {
    const huge = {
      message: {
        ...valid.message,
        body: { contentType: 'text', content: 'x'.repeat(4.2 * 1024 * 1024) },
      },
    };
    const res = await call('/me/sendMail', { body: huge });
    expect(res.status).toBe(413);
  });
});

describe('POST /me/events', () => {
  it('creates an event (201, new id) that then appears in calendarView', async () => {
    const res = await call('/me/events', {
      body: {
        subject: 'Stand-in planning',
        body: { contentType: 'HTML', content: '<p>Plan the stand-in.</p>' },
        start: { dateTime: '2025-03-20T09:00:00', timeZone: 'Pacific Standard Time' },
        end: { dateTime: '2025-03-20T09:30:00', timeZone: 'Pacific Standard Time' },
        location: { displayName: 'Conf Room Adams' },
        attendees: [{ emailAddress: { address: BEN.username, name: BEN.name }, type: 'required' }],
        isOnlineMeeting: true,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^AAMkA/),
      subject: 'Stand-in planning',
      start: { dateTime: '2025-03-20T09:00:00.0000000', timeZone: 'Pacific Standard Time' },
      isOrganizer: true,
      organizer: { emailAddress: { address: ADELE.username } },
      onlineMeeting: { joinUrl: expect.stringContaining('teams.microsoft.com') },
    });
    expect(res.headers.get('location')).toContain('/events(');
    const view = await call(
      '/me/calendarView?startDateTime=2025-03-20T16:00:00Z&endDateTime=2025-03-20T17:00:00Z',
    );
    const created = view.body.value.find((e: { id: string }) => e.id === res.body.id);
    // 09:00 Pacific daylight time is 16:00 UTC.
    expect(created.start).toEqual({ dateTime: '2025-03-20T16:00:00.0000000', timeZone: 'UTC' });
    expect(graph.requests.at(-2)).toMatchObject({ path: '/v1.0/me/events', status: 201 });
  });

  it.each([
    [
      'no subject',
      {
        start: { dateTime: '2025-03-20T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2025-03-20T10:00:00', timeZone: 'UTC' },
      },
      'ErrorInvalidRequest',
    ],
    [
      'no start',
      { subject: 'x', end: { dateTime: '2025-03-20T10:00:00', timeZone: 'UTC' } },
      'ErrorInvalidRequest',
    ],
    [
      'an unknown time zone',
      {
        subject: 'x',
        start: { dateTime: '2025-03-20T09:00:00', timeZone: 'Mars/Olympus' },
        end: { dateTime: '2025-03-20T10:00:00', timeZone: 'UTC' },
      },
      'TimeZoneNotSupportedException',
    ],
    [
      'end before start',
      {
        subject: 'x',
        start: { dateTime: '2025-03-20T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2025-03-20T08:00:00', timeZone: 'UTC' },
      },
      'ErrorInvalidRequest',
    ],
  ])('answers 400 for %s', async (_label, body, code) => {
    const res = await call('/me/events', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });
});

describe('routing', () => {
  it('answers 404 for unknown resources and 405 for wrong methods', async () => {
    const unknown = await call('/me/contacts');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('UnknownError');
    const wrong = await call('/me/messages', { body: { subject: 'draft' } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('wants JSON bodies', async () => {
    const res = await call('/me/sendMail', {
      body: 'message=hi',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/Unable to read JSON request payload/);
  });
});

describe('faults', () => {
  it("throttles with 429, Retry-After and Graph's body, once by default", async () => {
    graph.inject({ path: '/v1.0/me/messages', status: 429, retryAfterSeconds: 7 });
    const throttled = await call('/me/messages');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.headers.get('request-id')).toBeTruthy();
    expect(throttled.body.error).toMatchObject({
      code: 'TooManyRequests',
      innerError: { code: '429', status: '429' },
    });
    expect((await call('/me/messages')).status).toBe(200);
  });

  it('applies before authentication, and words OneDrive throttling its own way', async () => {
    graph.inject({ path: /\/drive\//, status: 429 });
    const res = await call("/me/drive/root/search(q='x')", { token: null });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.error.code).toBe('activityLimitReached');
  });

  it('runs a 503 storm for `times` requests, matching the method', async () => {
    graph.inject({ method: 'get', path: '/v1.0/me', status: 503, times: 3, retryAfterSeconds: 2 });
    expect((await call('/me/messages')).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await call('/me')).status);
    expect(statuses).toEqual([503, 503, 503, 200]);
  });

  it('storms until cleared with times: Infinity, and 504 without Retry-After unless given', async () => {
    graph.inject({ status: 504, times: Infinity });
    for (let i = 0; i < 5; i += 1) {
      const res = await call('/me/people');
      expect(res.status).toBe(504);
      expect(res.headers.get('retry-after')).toBeNull();
    }
    graph.clearFaults();
    expect((await call('/me/people')).status).toBe(200);
  });

  it('delays with latencyMs alone, and records the faulted requests', async () => {
    graph.inject({ path: '/v1.0/me', latencyMs: 300 });
    const started = performance.now();
    const res = await call('/me');
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    graph.inject({ path: '/v1.0/me', status: 429 });
    await call('/me');
    expect(graph.requests.at(-1)).toMatchObject({ path: '/v1.0/me', status: 429, scopes: [] });
  });
});

describe('users', () => {
  it("keeps each user's data apart", async () => {
    const ben = await token({ oid: BEN.id });
    const adeleMail = (await call('/me/messages?$top=5')).body.value;
    const benMail = (await call('/me/messages?$top=5', { token: ben })).body.value;
    expect(benMail.map((m: { id: string }) => m.id)).not.toEqual(
      adeleMail.map((m: { id: string }) => m.id),
    );
    expect(benMail[0].toRecipients[0].emailAddress.address).toBe(BEN.username);
    const stolen = await call(`/me/messages/${encodeURIComponent(adeleMail[0].id)}`, {
      token: ben,
    });
    expect(stolen.status).toBe(404);
    expect((await call('/me', { token: ben })).body.displayName).toBe('Ben Walters');
    expect(graph.requests.at(-1)?.userId).toBe(BEN.id);
  });

  it('seeds the same data on every start with the same users and clock', async () => {
    const again = await startGraphStandIn({
      issuer: ISSUER,
      keys: { jwks: { keys: [publicJwk] } },
      users: [ADELE, BEN],
      now: () => NOW,
    });
    try {
      const bearer = await token({ oid: BEN.id });
      for (const path of ['/me/people?$top=50', "/me/drive/root/search(q='')", '/me']) {
        const fresh = await fetch(`${again.url}${path}`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        const { '@odata.context': _fresh, ...freshBody } = await fresh.json();
        const { '@odata.context': _original, ...originalBody } = (
          await call(path, { token: bearer })
        ).body;
        expect(freshBody).toEqual(originalBody);
      }
    } finally {
      await again.close();
    }
  });
});
