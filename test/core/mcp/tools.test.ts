import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { AuthService } from '../../../main/core/auth/auth-service.ts';
import type { AccountSummary } from '../../../main/core/auth/auth-types.ts';
import { GraphClient } from '../../../main/core/graph/graph-client.ts';
import { MeCache } from '../../../main/core/graph/me-cache.ts';
import type { ValetKey } from '../../../main/core/keys/key-store.ts';
import { createMcpServer } from '../../../main/core/mcp/server-factory.ts';
import {
  TOOL_NAMES,
  type GraphUser,
  type ToolDefinition,
  type ToolName,
} from '../../../main/core/mcp/tool-definition.ts';
import { ToolRunner } from '../../../main/core/mcp/tool-runner.ts';
import { ALL_TOOLS, toolByName } from '../../../main/core/mcp/tools/index.ts';
import { authStatus } from '../../../main/core/mcp/tools/auth-status.ts';
import { createEvent } from '../../../main/core/mcp/tools/create-event.ts';
import { getMessage } from '../../../main/core/mcp/tools/get-message.ts';
import { getUserDetails } from '../../../main/core/mcp/tools/get-user-details.ts';
import { listEvents } from '../../../main/core/mcp/tools/list-events.ts';
import { listMessages } from '../../../main/core/mcp/tools/list-messages.ts';
import { searchFiles } from '../../../main/core/mcp/tools/search-files.ts';
import { searchPeople } from '../../../main/core/mcp/tools/search-people.ts';
import { sendMail } from '../../../main/core/mcp/tools/send-mail.ts';
import type { RunningGraph } from '../../../main/demo/graph/index.ts';
import { plainText } from '../../../main/demo/graph/mail-items.ts';
import { messageSearch } from '../../../main/demo/graph/message-query.ts';
import type { GraphEvent, UserData } from '../../../main/demo/graph/model.ts';
import { seedUserData } from '../../../main/demo/graph/seed/index.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { BrowserUser, createTestAuth } from '../../support/auth.ts';
import { useIdpAndBrowser } from '../../support/fixtures.ts';
import { runnerPolicyDeps } from '../../support/runner.ts';
import { offlineFetch } from '../../support/offline-fetch.ts';
import { startGraphFor } from '../../support/valet.ts';

// Every tool end to end: the real ToolRunner, a real AuthService signed in at the test IdP
// through Chromium, the real GraphClient and a Graph stand-in that verifies the IdP's tokens.
// Expectations come from the stand-in's seed, computed independently of the tools.

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const DAY = 24 * 60 * 60 * 1000;
/** The seeded world's clock and the runner's: "now" for default windows. */
const NOW = new Date();
/** Every scope the tools ask for (Calendars.Read and Calendars.ReadWrite are separate grants). */
const TOOL_SCOPES = [...new Set(ALL_TOOLS.flatMap((tool) => tool.scopes))];

const fx = useIdpAndBrowser();
let graph: RunningGraph;
let auth: AuthService;
let account: AccountSummary;
let runner: ToolRunner;
let seed: UserData;
const tokens: string[] = [];
/** Requests the Graph client tried to send anywhere but the stand-in (none may be). */
let strays: string[] = [];
let guardedFetch: typeof fetch;

const keyFor = (tools: readonly ToolName[] = TOOL_NAMES, name = 'test key'): ValetKey => ({
  id: 'k_test',
  name,
  tools: [...tools],
  readOnly: false,
  account: null,
  createdAt: NOW.toISOString(),
});

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Runs a tool and checks what no result may ever show: a token, an unprinted object, a stack. */
async function call(
  tool: ToolDefinition,
  args: unknown,
  options: { key?: ValetKey; via?: ToolRunner } = {},
): Promise<CallToolResult> {
  const result = await (options.via ?? runner).call(
    tool,
    args,
    { key: options.key ?? keyFor() },
    new AbortController().signal,
  );
  const text = textOf(result);
  expect(strays, 'requests sent off the Graph stand-in').toEqual([]);
  expect(text).not.toContain('[object Object]');
  expect(text).not.toMatch(/\n\s+at .+:\d+/);
  expect(text).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}\./);
  for (const token of tokens) expect(text).not.toContain(token);
  return result;
}

async function ok<O extends z.ZodObject>(
  tool: ToolDefinition<z.ZodObject, O>,
  args: unknown,
): Promise<z.infer<O>> {
  const result = await call(tool as ToolDefinition, args);
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  return tool.output.parse(result.structuredContent) as z.infer<O>;
}

async function refused(
  tool: ToolDefinition,
  args: unknown,
  options: { key?: ValetKey; via?: ToolRunner } = {},
): Promise<string> {
  const result = await call(tool, args, options);
  expect(result.isError).toBe(true);
  return textOf(result);
}

const graphCalls = (method: string, path: string) =>
  graph.requests.filter((r) => r.method === method && r.path === path);
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const eventMs = (time: { dateTime: string }) => Date.parse(`${time.dateTime.slice(0, 23)}Z`);
const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

/** Seeded events overlapping a window, as calendarView orders them. */
function eventsIn(startMs: number, endMs: number): GraphEvent[] {
  return seed.events
    .filter((e) => eventMs(e.start) < endMs && eventMs(e.end) > startMs)
    .sort((a, b) => eventMs(a.start) - eventMs(b.start));
}

/** Follows nextPageToken to the end. */
async function allPages<O extends z.ZodObject, T extends { id: string }>(
  tool: ToolDefinition<z.ZodObject, O>,
  args: Record<string, unknown>,
  pick: (page: z.infer<O>) => T[],
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let page = await ok(tool, args);
  let pages = 1;
  items.push(...pick(page));
  while (page.nextPageToken) {
    page = await ok(tool, { pageToken: page.nextPageToken });
    items.push(...pick(page));
    pages += 1;
  }
  return { items, pages };
}

beforeAll(async () => {
  const users = fx.idp.users.map(({ id, username, name }) => ({ id, username, name }));
  graph = await startGraphFor(fx.idp, {
    users,
    now: () => NOW,
  });
  seed = seedUserData(users[0]!, NOW, users);
  ({ auth } = await createTestAuth(fx.idp, {
    openBrowser: new BrowserUser(fx.browser).opener(adele),
  }));
  ({ account } = await auth.signIn({ scopes: TOOL_SCOPES }));
  tokens.push((await auth.getToken({ scopes: ['Mail.Read'] })).accessToken);
  ({ fetch: guardedFetch, strays } = offlineFetch([graph.url]));
  const client = new GraphClient({
    baseUrl: graph.url,
    fetch: guardedFetch,
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, budgetMs: 2_000 },
  });
  runner = new ToolRunner({
    auth,
    graph: client,
    meCache: new MeCache<GraphUser>(),
    now: () => NOW,
    ...runnerPolicyDeps(),
  });
});

afterAll(async () => {
  await graph?.close();
});

describe('the tool set', () => {
  it('has the nine contract tools in DESIGN.md order, each with scopes, hints and schemas', () => {
    expect(ALL_TOOLS.map((t) => t.name)).toEqual([...TOOL_NAMES]);
    for (const tool of ALL_TOOLS) {
      expect(toolByName(tool.name)).toBe(tool);
      expect(tool.title).not.toBe('');
      expect(tool.description.length).toBeGreaterThan(80);
      // Every tool but auth_status reaches Microsoft Graph.
      expect(tool.annotations.openWorldHint).toBe(tool.name !== 'auth_status');
      expect(tool.annotations.readOnlyHint).toBe(tool.kind === 'read');
      expect(tool.annotations.destructiveHint).toBe(tool.kind === 'write');
    }
    expect(toolByName('delete_everything')).toBeUndefined();
    expect(ALL_TOOLS.filter((t) => t.kind === 'write').map((t) => t.name)).toEqual([
      'send_mail',
      'create_event',
    ]);
    expect(Object.fromEntries(ALL_TOOLS.map((t) => [t.name, t.scopes]))).toEqual({
      get_user_details: ['User.Read'],
      list_messages: ['Mail.Read'],
      get_message: ['Mail.Read'],
      list_events: ['Calendars.Read'],
      search_files: ['Files.Read'],
      search_people: ['People.Read'],
      send_mail: ['Mail.Send'],
      create_event: ['Calendars.ReadWrite'],
      auth_status: [],
    });
  });

  it('is served by the MCP server: listed with JSON schemas, and callable with validated output', async () => {
    const server = createMcpServer(ALL_TOOLS, runner, () => ({ key: keyFor() }));
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'tools-test', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual([...TOOL_NAMES]);
      const send = tools.find((t) => t.name === 'send_mail');
      expect(send?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
      expect(send?.inputSchema.required).toEqual(expect.arrayContaining(['to', 'subject', 'body']));
      const listed = (await client.callTool({
        name: 'list_messages',
        arguments: { top: 2 },
      })) as CallToolResult;
      expect(listed.isError).toBeFalsy();
      expect(
        ids((listed.structuredContent as { messages: Array<{ id: string }> }).messages),
      ).toEqual(ids(seed.messages.slice(0, 2)));
      const bad = (await client.callTool({
        name: 'list_messages',
        arguments: { top: 500 },
      })) as CallToolResult;
      expect(bad.isError).toBe(true);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('read tools', () => {
  it("get_user_details and auth_status describe the key's account, never a token", async () => {
    const me = await ok(getUserDetails, {});
    expect(me).toMatchObject({
      id: adele.id,
      mail: adele.username,
      displayName: adele.name,
      userPrincipalName: adele.username,
    });
    const status = await ok(authStatus, {});
    expect(status).toEqual({
      signedIn: true,
      username: adele.username,
      name: adele.name,
      tenantId: fx.idp.tenantId,
      homeAccountId: account.homeAccountId,
      viaBroker: false,
      grantedScopes: expect.arrayContaining(TOOL_SCOPES),
    });
  });

  it('list_messages pages through the whole mailbox, newest first, as the seed has it', async () => {
    const first = await ok(listMessages, { top: 5 });
    const expected = seed.messages.slice(0, 5);
    expect(
      first.messages.map((m) => [m.id, m.subject, m.from?.address, m.receivedDateTime, m.isRead]),
    ).toEqual(
      expected.map((m) => [
        m.id,
        m.subject,
        m.from.emailAddress.address,
        m.receivedDateTime,
        m.isRead,
      ]),
    );
    expect(first.messages[0]).toMatchObject({
      preview: expected[0]!.bodyPreview,
      webLink: expected[0]!.webLink,
      toCount: 1,
    });
    expect(first.messages[0]!.to).toEqual([{ name: adele.name, address: adele.username }]);
    expect(first.nextPageToken).toBeDefined();
    const second = await ok(listMessages, { pageToken: first.nextPageToken });
    expect(ids(second.messages)).toEqual(ids(seed.messages.slice(5, 10)));
    const all = await allPages(listMessages, { top: 15 }, (p) => p.messages);
    expect(ids(all.items)).toEqual(ids(seed.messages));
    expect(all.pages).toBe(Math.ceil(seed.messages.length / 15));
    // The runner asked Graph for Mail.Read only; the stand-in saw the user's own token.
    const seen = graphCalls('GET', '/v1.0/me/messages').at(-1);
    expect(seen).toMatchObject({ userId: adele.id, status: 200 });
  });

  it('list_messages filters unread, since and sender the way Graph accepts', async () => {
    const unread = await ok(listMessages, { unreadOnly: true, top: 50 });
    expect(ids(unread.messages)).toEqual(ids(seed.messages.filter((m) => !m.isRead)));
    expect(unread.messages.length).toBeGreaterThan(0);

    const sinceMs = NOW.getTime() - 7 * DAY;
    const recent = await ok(listMessages, { since: new Date(sinceMs).toISOString(), top: 50 });
    expect(ids(recent.messages)).toEqual(
      ids(
        seed.messages.filter(
          (m) => Date.parse(m.receivedDateTime) >= Math.floor(sinceMs / 1000) * 1000,
        ),
      ),
    );

    const sender = seed.messages[0]!.from.emailAddress.address;
    const fromOne = await ok(listMessages, {
      from: sender,
      unreadOnly: true,
      since: '2000-01-01T00:00:00+01:00',
      top: 50,
    });
    expect(ids(fromOne.messages)).toEqual(
      ids(seed.messages.filter((m) => m.from.emailAddress.address === sender && !m.isRead)),
    );
    const [query] = graphCalls('GET', '/v1.0/me/messages')
      .slice(-1)
      .map((r) => r.query);
    expect(query).toMatchObject({
      $filter: `receivedDateTime ge 1999-12-31T23:00:00Z and isRead eq false and from/emailAddress/address eq '${sender}'`,
      $orderby: 'receivedDateTime desc',
    });

    // A quote in an address is valid and must not break out of the OData string.
    const quoted = await ok(listMessages, { from: "o'brien@contoso.test" });
    expect(quoted.messages).toEqual([]);
  });

  it('list_messages searches with $search alone, and pages the results', async () => {
    const word = seed.messages[0]!.subject.split(/\s+/)
      .find((w) => w.length > 4)!
      .toLowerCase();
    const expected = seed.messages.filter(messageSearch(word));
    const found = await allPages(listMessages, { search: word, top: 2 }, (p) => p.messages);
    expect(ids(found.items)).toEqual(ids(expected));
    expect(graphCalls('GET', '/v1.0/me/messages').at(-1)?.query).not.toHaveProperty('$filter');
    const odd = await ok(listMessages, { search: 'say "hi" \\ there' });
    expect(odd.messages).toEqual([]);
  });

  it('list_messages rejects bad arguments and foreign page tokens before calling Graph', async () => {
    const before = graph.requests.length;
    for (const [args, problem] of [
      [{ top: 0 }, 'top'],
      [{ top: 51 }, 'top'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: '2025-03-01T00:00:00' }, 'since'],
      [{ from: 'not-an-address' }, 'from'],
      [{ search: 'x'.repeat(201) }, 'search'],
      [{ search: 'budget', unreadOnly: true }, 'search cannot be combined'],
      [{ folder: 'inbox' }, 'folder'],
      ['all of them', 'arguments'],
    ] as const) {
      const text = await refused(listMessages, args);
      expect(text).toMatch(/^Invalid arguments for list_messages: /);
      expect(text).toContain(problem);
    }
    const events = await ok(listEvents, { top: 1 });
    expect(await refused(listMessages, { pageToken: events.nextPageToken })).toBe(
      'That pageToken is not a next page of list_messages: pass the nextPageToken of the previous list_messages result unchanged, or leave pageToken out to start again',
    );
    expect(await refused(listMessages, { pageToken: 'page 2' })).toContain(
      'not a next page of list_messages',
    );
    expect(
      await refused(listMessages, {
        pageToken: 'https://graph.example.net/v1.0/me/messages?$skip=10',
      }),
    ).toBe(
      'That page link does not belong to Microsoft Graph: use the nextPageToken returned by the previous call',
    );
    // Only list_events' own first page reached Graph.
    expect(graph.requests.length - before).toBe(1);
  });

  it('page tokens that climb out of the Graph base path, plainly or percent-encoded, are refused before Graph', async () => {
    const before = graph.requests.length;
    const first = await ok(listMessages, { top: 1 });
    const { origin } = new URL(graph.url);
    const climbing = [
      `${graph.url}/../beta/me/messages?$skip=1`,
      `${graph.url}/%2e%2e/beta/me/messages?$skip=1`,
      `${graph.url}/%2E%2e/beta/me/messages?$skip=1`,
      `${graph.url}/me/%2e%2E/%2E%2E/beta/me/messages?$skip=1`,
      `${graph.url}/%2e%2e%2fbeta/me/messages?$skip=1`,
      `${graph.url}/me%2F..%2F..%2Fbeta%2Fme/messages?$skip=1`,
      `${graph.url}/me/..%5c..%5Cbeta/me/messages?$skip=1`,
      `${origin}/v1.0\\..\\beta/me/messages?$skip=1`,
    ];
    for (const pageToken of climbing) {
      expect(await refused(listMessages, { pageToken }), pageToken).toBe(
        'That pageToken is not a next page of list_messages: pass the nextPageToken of the previous list_messages result unchanged, or leave pageToken out to start again',
      );
      const people = pageToken.replace('/me/messages', '/me/people');
      expect(await refused(searchPeople, { pageToken: people }), people).toContain(
        'not a next page of search_people',
      );
      const events = pageToken.replace('/me/messages', '/me/calendarView');
      expect(await refused(listEvents, { pageToken: events }), events).toContain(
        'not a next page of list_events',
      );
    }
    // The token it did hand out still works.
    expect((await ok(listMessages, { pageToken: first.nextPageToken })).messages).toHaveLength(1);
    expect(graph.requests.length - before).toBe(2);
  });

  it('get_message returns the HTML body as readable text, capped with a truncated flag', async () => {
    const html = seed.messages.find(
      (m) => m.body.contentType === 'html' && m.ccRecipients.length === 0,
    )!;
    const message = await ok(getMessage, { id: html.id });
    expect(message).toMatchObject({
      id: html.id,
      subject: html.subject,
      from: { name: html.from.emailAddress.name, address: html.from.emailAddress.address },
      to: [{ name: adele.name, address: adele.username }],
      cc: [],
      receivedDateTime: html.receivedDateTime,
      hasAttachments: html.hasAttachments,
      truncated: false,
    });
    expect(message.body).not.toMatch(/<\/?[a-z]+[^>]*>|&(amp|lt|gt|quot);/i);
    // The stand-in's own flattening joins paragraphs with spaces; ours keeps them as lines.
    expect(message.body.replace(/\s+/g, ' ')).toBe(plainText(html.body));
    expect(message.body).toMatch(/^Hi Adele,\n\n/);
    expect(message.bodyLength).toBe(message.body.length);

    expect(message.body.length).toBeGreaterThan(100);
    const short = await ok(getMessage, { id: html.id, maxBodyChars: 100 });
    expect(short.truncated).toBe(true);
    expect(short.body).toBe(message.body.slice(0, 100));
    expect(short.bodyLength).toBe(message.bodyLength);

    const text = seed.messages.find((m) => m.body.contentType === 'text')!;
    const plain = await ok(getMessage, { id: text.id });
    expect(plain.body).toBe(text.body.content);
  });

  it('get_message refuses ids that are not message ids and explains one that does not exist', async () => {
    for (const id of ['..', '../../me', 'a b', '']) {
      expect(await refused(getMessage, { id })).toMatch(/^Invalid arguments for get_message: id: /);
    }
    expect(await refused(getMessage, { id: 'AAMkAGone=' })).toBe(
      'Not found in Microsoft Graph (ErrorItemNotFound): The specified object was not found in the store.',
    );
  });

  it('list_events shows the next 7 days by default, in UTC, earliest first', async () => {
    const from = Math.floor(NOW.getTime() / 1000) * 1000;
    const expected = eventsIn(from, from + 7 * DAY);
    const all = await allPages(listEvents, { top: 3 }, (p) => p.events);
    expect(ids(all.items)).toEqual(ids(expected));
    const first = await ok(listEvents, { top: 1 });
    expect(first.window).toEqual({ start: utc(from), end: utc(from + 7 * DAY) });
    const seeded = expected[0]!;
    expect(first.events[0]).toMatchObject({
      id: seeded.id,
      subject: seeded.subject,
      start: utc(eventMs(seeded.start)),
      end: utc(eventMs(seeded.end)),
      organizer: seeded.organizer.emailAddress,
      attendeeCount: seeded.attendees.length,
      location: seeded.location.displayName || null,
    });
    const second = await ok(listEvents, { pageToken: first.nextPageToken });
    expect(second.window).toEqual(first.window);
  });

  it('list_events takes an explicit window and refuses bad ones', async () => {
    const start = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate()) - 14 * DAY;
    const end = start + 36 * DAY;
    const all = await allPages(
      listEvents,
      { start: utc(start), end: utc(end), top: 50 },
      (p) => p.events,
    );
    expect(ids(all.items)).toEqual(ids(eventsIn(start, end)));
    expect(all.items.map((e) => e.subject)).toContain('Company holiday');

    expect(await refused(listEvents, { start: utc(end), end: utc(start) })).toBe(
      'Invalid arguments for list_events: end must be after start',
    );
    expect(await refused(listEvents, { end: utc(start) })).toBe(
      'Invalid arguments for list_events: end must be after start (start defaults to now)',
    );
    expect(await refused(listEvents, { start: utc(start), end: utc(start + 63 * DAY) })).toContain(
      'at most 62 days',
    );
    expect(await refused(listEvents, { start: 'next monday' })).toMatch(
      /^Invalid arguments for list_events: start: /,
    );
    expect(await refused(listEvents, { top: 51 })).toMatch(
      /^Invalid arguments for list_events: top: /,
    );
  });

  it('search_files finds files by name or folder, pages, and survives quotes and URL characters', async () => {
    const file = seed.driveItems.find((i) => i.file)!;
    const word = file.name
      .split(/[\s._-]+/)
      .find((w) => w.length > 3)!
      .toLowerCase();
    const folders = new Map(seed.driveItems.filter((i) => i.folder).map((i) => [i.id, i.name]));
    const expected = seed.driveItems
      .filter((i) =>
        `${i.name} ${folders.get(i.parentReference.id) ?? ''}`.toLowerCase().includes(word),
      )
      .sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime));
    const found = await allPages(searchFiles, { query: word, top: 1 }, (p) => p.items);
    expect(ids(found.items)).toEqual(ids(expected));
    const first = await ok(searchFiles, { query: file.name });
    expect(first.items[0]).toEqual({
      id: file.id,
      name: file.name,
      kind: 'file',
      folder: file.parentReference.path.replace('/drive/root:', ''),
      size: file.size,
      mimeType: file.file!.mimeType,
      lastModifiedDateTime: file.lastModifiedDateTime,
      lastModifiedBy: file.lastModifiedBy.user.displayName,
      webUrl: file.webUrl,
    });
    for (const query of ["O'Brien's plan", 'Q3 #1?', 'a/b 100%', "')"]) {
      expect((await ok(searchFiles, { query })).items).toEqual([]);
    }
    expect(graphCalls('GET', "/v1.0/me/drive/root/search(q='O''Brien''s plan')")).toHaveLength(1);
    expect(await refused(searchFiles, { query: '' })).toMatch(
      /^Invalid arguments for search_files: query: /,
    );
    expect(await refused(searchFiles, {})).toBe(
      'Invalid arguments for search_files: query is required (or pageToken, for a next page)',
    );
    expect(await refused(searchFiles, { pageToken: `${graph.url}/me/people?$skip=1` })).toContain(
      'not a next page of search_files',
    );
  });

  it("search_files takes only page tokens of the user's own drive search, nothing around or after it", async () => {
    // A word in the names of several items, so that there is a second page.
    const names = seed.driveItems.map((i) => i.name.toLowerCase());
    const word = names
      .flatMap((n) => n.split(/[\s._-]+/))
      .find((w) => w.length > 3 && names.filter((n) => n.includes(w)).length > 1)!;
    const first = await ok(searchFiles, { query: word, top: 1 });
    expect(first.nextPageToken).toBeDefined();
    const own = new URL(first.nextPageToken!);
    const below = own.pathname.slice(new URL(graph.url).pathname.length);
    expect(decodeURIComponent(below)).toBe(`/me/drive/root/search(q='${word}')`);
    const before = graph.requests.length;
    for (const path of [
      `/drives/b!someone-else/root/search(q='${word}')`,
      `/drives/b!someone-else/search(q='${word}')`,
      `/sites/contoso/drives/b!team/root/search(q='${word}')`,
      `/users/${alex.id}/drive/root/search(q='${word}')`,
      `/users/${alex.id}/me/drive/root/search(q='${word}')`,
      `/me/drive/items/01ABC/search(q='${word}')`,
      `/me/drive/root/search(q='${word}')/children/search(q='x')`,
      `/me/drive/root/search(q='${word}'))`,
      `/me/drive/root/search(q=${word})`,
      `/me/drive/root/search(q='a')/../../../../users/${alex.id}/drive/root/search(q='${word}')`,
      `/me/drive/root/search(q='a%2F..%2F..%2F..%2Fdrives%2Fb!x')`,
    ]) {
      const pageToken = `${graph.url}${path}${own.search}`;
      expect(await refused(searchFiles, { pageToken }), path).toMatch(
        /not a next page of (search_files|this call)/,
      );
    }
    expect(graph.requests.length).toBe(before);
    expect((await ok(searchFiles, { pageToken: first.nextPageToken })).items).toHaveLength(1);
  });

  it('search_people finds colleagues by the start of a name, most relevant first', async () => {
    const person = seed.people[1]!;
    const prefix = person.givenName.slice(0, 3).toLowerCase();
    const expected = seed.people.filter((p) =>
      [
        ...p.displayName.toLowerCase().split(/[\s.'-]+/),
        ...p.scoredEmailAddresses.map((e) => e.address.toLowerCase()),
      ].some((w) => w.startsWith(prefix)),
    );
    const found = await allPages(searchPeople, { query: prefix, top: 1 }, (p) => p.people);
    expect(ids(found.items)).toEqual(ids(expected));
    const exact = await ok(searchPeople, { query: person.displayName });
    expect(exact.people[0]).toMatchObject({
      id: person.id,
      displayName: person.displayName,
      emailAddresses: [person.scoredEmailAddresses[0]!.address],
      jobTitle: person.jobTitle,
      department: person.department,
      kind: 'OrganizationUser',
    });
    expect((await ok(searchPeople, { query: 'say "hi"' })).people).toEqual([]);
    expect(graphCalls('GET', '/v1.0/me/people').at(-1)?.query.$search).toBe('"say \\"hi\\""');
  });

  it('a throttled call is retried and the tool still answers', async () => {
    graph.inject({ path: '/v1.0/me/people', status: 429, retryAfterSeconds: 0 });
    const found = await ok(searchPeople, { query: seed.people[0]!.givenName });
    expect(found.people[0]?.id).toBe(seed.people[0]!.id);
  });
});

describe('write tools', () => {
  it('send_mail sends exactly one message with the right recipients and subject', async () => {
    const subject = `Valet test ${Date.now()}`;
    const sent = await ok(sendMail, {
      to: [alex.username],
      cc: ['megan@contoso.test'],
      subject,
      body: 'Hello Alex,\n\nThe numbers are in.',
    });
    expect(sent).toEqual({
      sent: true,
      to: [alex.username],
      cc: ['megan@contoso.test'],
      bcc: [],
      subject,
      savedToSentItems: true,
    });
    const posts = graphCalls('POST', '/v1.0/me/sendMail');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      status: 202,
      userId: adele.id,
      body: {
        message: {
          subject,
          body: { contentType: 'text', content: 'Hello Alex,\n\nThe numbers are in.' },
          toRecipients: [{ emailAddress: { address: alex.username } }],
          ccRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        },
        saveToSentItems: true,
      },
    });
    // The copy in Sent Items is now the newest message.
    const newest = await ok(listMessages, { top: 1 });
    expect(newest.messages[0]).toMatchObject({
      subject,
      from: { address: adele.username },
      to: [{ address: alex.username }],
    });
  });

  it('send_mail sends HTML that get_message reads back as text', async () => {
    const html =
      '<html><head><style>p{color:red}</style></head><body><!-- tracking --><p>Hi&nbsp;Alex &amp; team,</p>' +
      '<p>See <a href="https://contoso.test/plan?a=1&amp;b=2">the plan</a>:</p><ul><li>One</li><li>Two &lt;3</li></ul>' +
      '<script>alert(1)</script><p>Best,<br>Adele &#x1F600;</p></body></html>';
    await ok(sendMail, {
      to: [alex.username],
      subject: 'HTML round trip',
      body: html,
      bodyType: 'html',
    });
    const [copy] = (await ok(listMessages, { top: 1 })).messages;
    expect(copy?.subject).toBe('HTML round trip');
    const read = await ok(getMessage, { id: copy!.id });
    expect(read.body).toBe(
      'Hi Alex & team,\n\nSee the plan (https://contoso.test/plan?a=1&b=2):\n\n• One\n• Two <3\n\nBest,\nAdele 😀',
    );
  });

  it('send_mail refuses bad recipients and empty mail without sending anything', async () => {
    const before = graphCalls('POST', '/v1.0/me/sendMail').length;
    for (const args of [
      { to: [], subject: 'x', body: 'y' },
      { to: ['alex'], subject: 'x', body: 'y' },
      { to: ['alex@contoso.test; eve@evil.example'], subject: 'x', body: 'y' },
      { to: [alex.username], subject: '', body: 'y' },
      { to: [alex.username], subject: 'x'.repeat(256), body: 'y' },
      { to: [alex.username], subject: 'x' },
      { to: [alex.username], subject: 'x', body: 'y', bodyType: 'rtf' },
      {
        to: Array.from({ length: 30 }, (_, i) => `p${i}@contoso.test`),
        bcc: Array.from({ length: 30 }, (_, i) => `q${i}@contoso.test`),
        subject: 'x',
        body: 'y',
      },
    ]) {
      expect(await refused(sendMail, args)).toMatch(/^Invalid arguments for send_mail: /);
    }
    expect(graphCalls('POST', '/v1.0/me/sendMail')).toHaveLength(before);
  });

  it('create_event adds an event that a later list_events shows', async () => {
    const day = new Date(NOW.getTime() + 2 * DAY).toISOString().slice(0, 10);
    const created = await ok(createEvent, {
      subject: 'Valet planning',
      start: `${day}T10:00:00`,
      end: `${day}T10:30:00`,
      location: 'Conf Room Rainier',
      body: 'Agenda: plan the valet.',
      attendees: [alex.username],
      isOnlineMeeting: true,
    });
    expect(created).toMatchObject({
      subject: 'Valet planning',
      start: `${day}T10:00:00Z`,
      end: `${day}T10:30:00Z`,
      timeZone: 'UTC',
      location: 'Conf Room Rainier',
      organizer: { address: adele.username },
      attendees: [{ address: alex.username, type: 'required' }],
    });
    expect(created.joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);
    const post = graphCalls('POST', '/v1.0/me/events').at(-1);
    expect(post?.body).toMatchObject({
      start: { dateTime: `${day}T10:00:00`, timeZone: 'UTC' },
      transactionId: expect.any(String),
    });

    const listed = await allPages(
      listEvents,
      { start: `${day}T00:00:00Z`, end: `${day}T23:59:59Z`, top: 50 },
      (p) => p.events,
    );
    expect(listed.items.find((e) => e.id === created.id)).toMatchObject({
      start: `${day}T10:00:00Z`,
      end: `${day}T10:30:00Z`,
    });
  });

  it('create_event reads times in the given time zone, or converts ones with an offset', async () => {
    // Mid-January: Berlin is UTC+1, with no daylight saving time to think about.
    const berlin = await ok(createEvent, {
      subject: 'Winter review',
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T11:00:00+01:00',
      timeZone: 'Europe/Berlin',
    });
    expect(berlin).toMatchObject({
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T11:00:00',
      timeZone: 'Europe/Berlin',
    });
    const listed = await ok(listEvents, {
      start: '2031-01-15T00:00:00Z',
      end: '2031-01-16T00:00:00Z',
    });
    expect(listed.events.map((e) => [e.id, e.start, e.end])).toEqual([
      [berlin.id, '2031-01-15T09:00:00Z', '2031-01-15T10:00:00Z'],
    ]);
  });

  it('create_event refuses an end before its start or an unknown time zone, creating nothing', async () => {
    const before = graphCalls('POST', '/v1.0/me/events').length;
    expect(
      await refused(createEvent, {
        subject: 'x',
        start: '2031-01-15T10:00:00',
        end: '2031-01-15T10:00:00',
      }),
    ).toBe('Invalid arguments for create_event: end must be after start');
    expect(
      await refused(createEvent, {
        subject: 'x',
        start: '2031-01-15T10:00:00Z',
        end: '2031-01-15T10:30:00+01:00',
      }),
    ).toContain('end must be after start');
    expect(
      await refused(createEvent, {
        subject: 'x',
        start: '2031-01-15T10:00:00',
        end: '2031-01-15T11:00:00',
        timeZone: 'Mars/Olympus',
      }),
    ).toContain('timeZone: must be an IANA time zone name');
    expect(
      await refused(createEvent, {
        subject: 'x',
        start: 'tomorrow 10am',
        end: '2031-01-15T11:00:00',
      }),
    ).toMatch(/start: Start must be an ISO 8601 date-time/);
    expect(
      await refused(createEvent, {
        subject: 'x',
        start: '2031-01-15T10:00:00',
        end: '2031-01-15T11:00:00',
        attendees: ['bob'],
      }),
    ).toContain('attendees.0');
    expect(graphCalls('POST', '/v1.0/me/events')).toHaveLength(before);
  });
});

describe('refusals', () => {
  it('a key that lacks a tool gets the runner’s tool error, and Graph sees nothing', async () => {
    const before = graph.requests.length;
    const text = await refused(
      sendMail,
      { to: [alex.username], subject: 'x', body: 'y' },
      { key: keyFor(['list_messages'], 'reader') },
    );
    expect(text).toBe(
      "The valet key 'reader' may not call send_mail; it may call list_messages. Create a key that includes it: `mcp-valet keys create --name <name> --tools send_mail`",
    );
    expect(graph.requests.length).toBe(before);
  });

  describe('with fewer scopes consented', () => {
    let alexRunner: ToolRunner;

    beforeAll(async () => {
      const signedIn = await createTestAuth(fx.idp, {
        openBrowser: new BrowserUser(fx.browser).opener(alex),
      });
      await signedIn.auth.signIn({ scopes: ['Calendars.Read'] });
      tokens.push((await signedIn.auth.getToken({ scopes: ['Calendars.Read'] })).accessToken);
      alexRunner = new ToolRunner({
        auth: signedIn.auth,
        graph: new GraphClient({ baseUrl: graph.url, fetch: guardedFetch }),
        meCache: new MeCache<GraphUser>(),
        ...runnerPolicyDeps(),
      });
    });

    it('a tool whose scope was never consented names the scope and the login command', async () => {
      expect(await refused(listMessages, {}, { via: alexRunner })).toBe(
        'Mail.Read has not been consented: run `mcp-valet login --scopes Mail.Read` or approve it in the app',
      );
      expect(
        await refused(
          createEvent,
          { subject: 'x', start: '2031-01-15T10:00:00', end: '2031-01-15T11:00:00' },
          { via: alexRunner },
        ),
      ).toBe(
        'Calendars.ReadWrite has not been consented: run `mcp-valet login --scopes Calendars.ReadWrite` or approve it in the app',
      );
      const events = await call(listEvents, {}, { via: alexRunner });
      expect(events.isError).toBeFalsy();
    });

    it("Graph's 403 for a token without the permission names the scope and the login command", async () => {
      // A tool declaring too little, so a consented token reaches Graph without Mail.Read.
      const misdeclared = {
        ...listMessages,
        scopes: ['Calendars.Read'],
      } as unknown as ToolDefinition;
      expect(await refused(misdeclared, {}, { via: alexRunner })).toBe(
        'Microsoft Graph denied access (ErrorAccessDenied): this needs Calendars.Read; run `mcp-valet login --scopes Calendars.Read` or ask your admin to grant it',
      );
      expect(graphCalls('GET', '/v1.0/me/messages').at(-1)).toMatchObject({
        status: 403,
        userId: alex.id,
      });
    });
  });
});
