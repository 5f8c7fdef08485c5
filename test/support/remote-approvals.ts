import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ApprovalOutcome } from '../../main/core/approvals/approval-service.ts';
import type { AuditEvent } from '../../main/core/audit/audit-types.ts';
import type { AccountSummary } from '../../main/core/auth/auth-types.ts';
import { requestApproval } from '../../main/core/mcp/call-approval.ts';
import type { ToolDefinition } from '../../main/core/mcp/tool-definition.ts';
import { toolByName } from '../../main/core/mcp/tools/index.ts';
import { DEFAULT_POLICY } from '../../main/core/policy/policy-schema.ts';
import { cacheKeyOf, type CacheKeys } from '../../main/core/remote/cache-keys.ts';
import type { ApprovalReach } from '../../main/core/remote/approvals/approval-reach.ts';
import { approvalRouter } from '../../main/core/remote/approvals/approval-router.ts';
import { StoreApprovals } from '../../main/core/remote/approvals/store-approvals.ts';
import { MemoryBacking } from '../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../main/core/remote/store/memory-store.ts';
import { readCookie, webCookiesFor } from '../../main/core/remote/web/cookies.ts';
import { WebSessions, type WebSession } from '../../main/core/remote/web/web-sessions.ts';
import { silentLogger } from '../../main/core/util/logger.ts';

/** A user of the tests: who the call acts as, or someone else. */
export interface TestUser {
  oid: string;
  username: string;
  name: string;
}

export const ADELE: TestUser = {
  oid: '0a1b2c3d-0000-4000-8000-00000000ade1',
  username: 'adele@contoso.test',
  name: 'Adele Vance',
};
export const MEGAN: TestUser = {
  oid: '0a1b2c3d-0000-4000-8000-00000000e9a2',
  username: 'megan@contoso.test',
  name: 'Megan Bowen',
};

/** One server instance: its own store object over the shared backing, its approvals and page. */
export interface ApprovalInstance {
  store: MemoryStore;
  approvals: StoreApprovals;
  audit: AuditEvent[];
}

/**
 * Two remote instances over one memory backing (as two servers over one Redis), sharing a
 * movable clock, with instance B's approval page served by express on loopback and web
 * sessions written by the web sign-in's own WebSessions.
 */
export interface ApprovalHarness {
  url: string;
  a: ApprovalInstance;
  b: ApprovalInstance;
  cacheKeys: CacheKeys;
  /** Moves the shared clock forward. */
  advance(ms: number): void;
  /** Starts another instance over the same backing (a restarted A). */
  instance(): ApprovalInstance;
  /** Signs `user` in: a web session in the store, and the cookie that names it. */
  signIn(user: TestUser): Promise<{ cookie: string; session: WebSession }>;
  /** Fetches a page of instance B without following redirects. */
  fetch(path: string, init?: RequestInit & { cookie?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Starts the harness; `pollMs` is how often waiting calls re-read their approval. */
export async function startApprovalHarness(
  options: { pollMs?: number } = {},
): Promise<ApprovalHarness> {
  const backing = new MemoryBacking();
  let clock = Date.now();
  const now = () => clock;
  const cacheKeys: CacheKeys = { current: cacheKeyOf(randomBytes(32)) };
  const app = express();
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const instances: ApprovalInstance[] = [];
  const instance = (): ApprovalInstance => {
    const store = new MemoryStore({ backing, now });
    const audit: AuditEvent[] = [];
    const approvals = new StoreApprovals({
      store,
      publicUrl: url,
      cacheKeys,
      audit: async (event) => {
        audit.push(event);
      },
      now,
      pollMs: options.pollMs ?? 5_000,
    });
    const made = { store, approvals, audit };
    instances.push(made);
    return made;
  };
  const a = instance();
  const b = instance();
  const sessions = new WebSessions(b.store);
  const cookieName = webCookiesFor(url).session;
  app.use(
    approvalRouter({
      approvals: b.approvals,
      currentUser: async (req) => {
        const sid = readCookie(req, cookieName);
        return sid ? sessions.get(sid) : null;
      },
      logger: silentLogger,
    }),
  );
  return {
    url,
    a,
    b,
    cacheKeys,
    advance: (ms) => {
      clock += ms;
    },
    instance,
    signIn: async (user) => {
      const { sid, session } = await sessions.create({
        oid: user.oid,
        tid: 'contoso-tenant',
        homeAccountId: `${user.oid}.contoso-tenant`,
        name: user.name,
        username: user.username,
        roles: [],
      });
      return { cookie: `${cookieName}=${sid}`, session };
    },
    fetch: (path, init = {}) => {
      const { cookie, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (cookie) headers.set('cookie', cookie);
      return fetch(new URL(path, url), { ...rest, headers, redirect: 'manual' });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const i of instances) {
        await i.approvals.close();
        await i.store.close();
      }
    },
  };
}

/** What a call asking for approval was told while it waited, and how it ended. */
export interface AskedCall {
  outcome: Promise<ApprovalOutcome>;
  progress: string[];
}

const SEND_MAIL = toolByName('send_mail') as ToolDefinition;

/** Arguments of a send_mail call. */
export function mail(subject: string, to = 'nestor@contoso.test'): Record<string, unknown> {
  return { to: [to], subject, body: 'The quarterly numbers are attached.' };
}

/**
 * Asks `instance` to approve a send_mail call of valet key `k1` acting as `user`, through the
 * same requestApproval the tool runner uses, with the arguments checked by the tool's schema.
 */
export function ask(
  instance: ApprovalInstance,
  args: Record<string, unknown>,
  options: {
    user?: TestUser;
    reach?: ApprovalReach;
    signal?: AbortSignal;
    timeoutSeconds?: number;
  } = {},
): AskedCall {
  const user = options.user ?? ADELE;
  const progress: string[] = [];
  const account: AccountSummary = {
    homeAccountId: `${user.oid}.contoso-tenant`,
    username: user.username,
    name: user.name,
    tenantId: 'contoso-tenant',
    roles: [],
    viaBroker: false,
    active: true,
  };
  const input = SEND_MAIL.input.parse(args) as Record<string, unknown>;
  const outcome = requestApproval(
    instance.approvals.requester({ oid: user.oid }, options.reach),
    SEND_MAIL,
    input,
    {
      caller: {
        key: {
          id: 'k1',
          name: 'claude',
          tools: ['send_mail'],
          readOnly: false,
          account: { homeAccountId: account.homeAccountId, username: user.username },
          createdAt: new Date(0).toISOString(),
        },
        client: { name: 'Claude', version: '1.0.0' },
      },
      account,
      policy: { ...DEFAULT_POLICY, approvalTimeoutSeconds: options.timeoutSeconds ?? 60 },
      signal: options.signal ?? new AbortController().signal,
    },
    {
      progress: async (message) => {
        progress.push(message);
      },
    },
  );
  // Tests that expect a rejection attach to it later; this keeps it from counting as unhandled.
  outcome.catch(() => undefined);
  return { outcome, progress };
}
