import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect } from 'vitest';
import type { z } from 'zod';
import type { AuthService } from '../../../../main/core/auth/auth-service.ts';
import type { AccountSummary } from '../../../../main/core/auth/auth-types.ts';
import { GraphClient } from '../../../../main/core/graph/graph-client.ts';
import { MeCache } from '../../../../main/core/graph/me-cache.ts';
import type { ValetKey } from '../../../../main/core/keys/key-store.ts';
import {
  TOOL_NAMES,
  type GraphUser,
  type ToolDefinition,
  type ToolName,
} from '../../../../main/core/mcp/tool-definition.ts';
import { ToolRunner } from '../../../../main/core/mcp/tool-runner.ts';
import { ALL_TOOLS } from '../../../../main/core/mcp/tools/index.ts';
import type { RunningGraph } from '../../../../main/demo/graph/index.ts';
import type { GraphEvent, UserData } from '../../../../main/demo/graph/model.ts';
import { seedUserData } from '../../../../main/demo/graph/seed/index.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../../../main/demo/idp/index.ts';
import { createTestAuth } from '../../../support/auth.ts';
import { startTestIdp } from '../../../support/idp.ts';
import { offlineFetch } from '../../../support/offline-fetch.ts';
import { runnerPolicyDeps } from '../../../support/runner.ts';
import { startGraphFor } from '../../../support/valet.ts';

// Every tool end to end: the real ToolRunner, a real AuthService signed in at the test IdP
// (through the device code grant, approved at the IdP), the real GraphClient and a Graph
// stand-in that verifies the IdP's tokens. Expectations come from the stand-in's seed,
// computed independently of the tools. Each test file gets its own IdP, Graph and mailbox.

export const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
export const DAY = 24 * 60 * 60 * 1000;
/** The seeded world's clock and the runner's: "now" for default windows. */
export const NOW = new Date();
/** Every scope the tools ask for (Calendars.Read and Calendars.ReadWrite are separate grants). */
export const TOOL_SCOPES = [...new Set(ALL_TOOLS.flatMap((tool) => tool.scopes))];

/** The file's fixture, set by useToolFixture's beforeAll (ES module bindings are live). */
export const fx = {} as { idp: RunningIdp };
export let graph: RunningGraph;
export let auth: AuthService;
export let account: AccountSummary;
export let runner: ToolRunner;
export let seed: UserData;
/** Every access token handed out in the file: no tool result may show one. */
export const tokens: string[] = [];
/** Requests the Graph client tried to send anywhere but the stand-in (none may be). */
let strays: string[] = [];
export let guardedFetch: typeof fetch;

/** A real AuthService signed in as `user` with `scopes`, through the device code grant. */
export async function signIn(
  user: IdpUser,
  scopes: string[],
): Promise<{ auth: AuthService; account: AccountSummary }> {
  const signedIn = await createTestAuth(fx.idp);
  const { account } = await signedIn.auth.signIn({
    method: 'device-code',
    scopes,
    onDeviceCode: (code) => void fx.idp.approveDeviceCode(code.userCode, user.username),
  });
  tokens.push((await signedIn.auth.getToken({ scopes })).accessToken);
  return { auth: signedIn.auth, account };
}

/**
 * Registers the file's hooks: a test IdP, a Graph stand-in seeded for its users, Adele signed
 * in with every tool scope, and a ToolRunner whose Graph client can reach only the stand-in.
 */
export function useToolFixture(): void {
  beforeAll(async () => {
    fx.idp = await startTestIdp();
    const users = fx.idp.users.map(({ id, username, name }) => ({ id, username, name }));
    graph = await startGraphFor(fx.idp, {
      users,
      now: () => NOW,
    });
    seed = seedUserData(users[0]!, NOW, users);
    ({ auth, account } = await signIn(adele, TOOL_SCOPES));
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
    await fx.idp?.close();
  });
}

export const keyFor = (tools: readonly ToolName[] = TOOL_NAMES, name = 'test key'): ValetKey => ({
  id: 'k_test',
  name,
  tools: [...tools],
  readOnly: false,
  account: null,
  createdAt: NOW.toISOString(),
});

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Runs a tool and checks what no result may ever show: a token, an unprinted object, a stack. */
export async function call(
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

export async function ok<O extends z.ZodObject>(
  tool: ToolDefinition<z.ZodObject, O>,
  args: unknown,
): Promise<z.infer<O>> {
  const result = await call(tool as ToolDefinition, args);
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  return tool.output.parse(result.structuredContent) as z.infer<O>;
}

export async function refused(
  tool: ToolDefinition,
  args: unknown,
  options: { key?: ValetKey; via?: ToolRunner } = {},
): Promise<string> {
  const result = await call(tool, args, options);
  expect(result.isError).toBe(true);
  return textOf(result);
}

export const graphCalls = (method: string, path: string) =>
  graph.requests.filter((r) => r.method === method && r.path === path);
export const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
export const eventMs = (time: { dateTime: string }) => Date.parse(`${time.dateTime.slice(0, 23)}Z`);
export const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

/** Seeded events overlapping a window, as calendarView orders them. */
export function eventsIn(startMs: number, endMs: number): GraphEvent[] {
  return seed.events
    .filter((e) => eventMs(e.start) < endMs && eventMs(e.end) > startMs)
    .sort((a, b) => eventMs(a.start) - eventMs(b.start));
}

/** Follows nextPageToken to the end. */
export async function allPages<O extends z.ZodObject, T extends { id: string }>(
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
