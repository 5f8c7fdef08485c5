import {
  CALL_NAMES,
  type AppApi,
  type CallName,
  type StatusDto,
} from '../../../../preload/contract.ts';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError, isValetError, ValetError } from '../../util/valet-error.ts';
import { isApprovalId } from '../approvals/approval-id.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import { listRemoteKeys, revokeRemoteKey } from '../oauth/key-revocation.ts';
import { RemoteKeys } from '../oauth/remote-keys.ts';
import type { RemoteConfig } from '../remote-config.ts';
import type { SharedStore } from '../store/shared-store.ts';
import type { ActivityViewer } from '../audit/shared-activity.ts';
import {
  sharedActivityChart,
  sharedActivityPage,
  teamActivityChart,
  teamActivityPage,
  type ActivityOwner,
} from './team-activity.ts';
import { teamApprovalDto, teamKeyDto } from './team-dtos.ts';
import type { WebSession } from './web-sessions.ts';

/** The AppApi calls a team server answers; the rest are the desktop's own. */
export const TEAM_CALLS = [
  'getStatus',
  'listKeys',
  'revokeKey',
  'listApprovals',
  'decideApproval',
  'listActivity',
  'getActivityChart',
] as const satisfies readonly CallName[];

/** One of TEAM_CALLS. */
export type TeamCall = (typeof TEAM_CALLS)[number];

/** Whether a team server answers `name`. */
export function isTeamCall(name: string): name is TeamCall {
  return (TEAM_CALLS as readonly string[]).includes(name);
}

/** What the team calls read and change: the shared store, the approvals and this instance's audit log. */
export interface TeamCallDeps {
  store: SharedStore;
  approvals: Pick<StoreApprovals, 'listFor' | 'forgetKey' | 'get' | 'decide'>;
  /** This instance's audit chain folder, and its audit hook (a revocation is recorded). */
  audit: { dir: string; append: (event: AuditEvent) => Promise<unknown> };
  config: Pick<RemoteConfig, 'clientId' | 'authority'>;
  /** The server's MCP URLs: `<public>/mcp`, and `<public>/entra/mcp` when both modes are served. */
  mcpUrls: readonly string[];
  /**
   * Activity comes from the live feed every instance publishes to the shared store (several
   * instances over Redis), rather than from this instance's own audit chain.
   */
  sharedActivity?: boolean;
  logger: Logger;
}

/** The signed-in user a request acts as, and whether they are an admin of the server. */
export interface TeamUser {
  session: WebSession;
  admin: boolean;
}

const KEY_ID = /^[0-9a-f]{12}$/;

/** The refusal of a call a team server does not offer. */
export function notOnTeamServer(name: string): ValetError {
  return new ValetError(
    'not_on_team_server',
    `${name} is not available on a team server: it belongs to the desktop app and mcp-valet serve. Here you see your MCP clients, approvals and activity; a client is added by connecting it to the server's MCP URL`,
  );
}

/**
 * The AppApi as a team server answers it for one signed-in user: their clients (every user's
 * for an admin) with revoke, their own pending approvals and decisions, and the activity of
 * this instance's audit log (their own calls; every user's for an admin). The other calls are
 * refused with notOnTeamServer. A failure that is not a ValetError is logged here, as the
 * caller only ever passes a generic message on.
 */
export function teamAppApi(user: TeamUser, deps: TeamCallDeps): AppApi {
  const keys = new RemoteKeys(deps.store);
  const { session, admin } = user;
  const viewer: ActivityViewer = admin ? { everyone: true } : { oid: session.oid };
  const owner = async (): Promise<ActivityOwner | undefined> =>
    admin
      ? undefined
      : { oid: session.oid, keyIds: new Set((await keys.list(session.oid)).map((k) => k.id)) };

  const team: Pick<AppApi, TeamCall> = {
    getStatus: async () =>
      teamStatus(user, deps, (await deps.approvals.listFor(session.oid)).length),
    listKeys: async () =>
      (await listRemoteKeys(deps.store, admin ? undefined : session.oid)).map(teamKeyDto),
    revokeKey: async ({ id }) => {
      const key = KEY_ID.test(id) ? await keys.get(id) : undefined;
      if (!key) throw new ValetError('no_key', 'There is no such client: reload the page');
      if (key.oid !== session.oid && !admin)
        throw new ValetError(
          'not_yours',
          'This client belongs to another user; only they or an admin can revoke it',
        );
      await revokeRemoteKey(
        {
          keys,
          approvals: deps.approvals,
          audit: deps.audit.append,
          logger: deps.logger,
        },
        key,
        session.username || session.oid,
      );
      return teamKeyDto((await keys.get(id)) ?? key);
    },
    listApprovals: async () => (await deps.approvals.listFor(session.oid)).map(teamApprovalDto),
    decideApproval: async ({ id, decision }) => {
      const approval = isApprovalId(id) ? await deps.approvals.get(id) : undefined;
      if (!approval)
        throw new ValetError(
          'no_approval',
          'There is no such approval: it ended long ago or never existed. Reload the page',
        );
      // The same user alone decides, admins included: the summary is for their eyes only.
      if (approval.oid !== session.oid)
        throw new ValetError(
          'not_yours',
          'This approval belongs to another user; only they can decide it',
        );
      if (approval.status !== 'pending')
        throw new ValetError(
          'approval_ended',
          `This approval has already ended (${approval.status}), so nothing was changed`,
        );
      await deps.approvals.decide(id, session.oid, decision);
    },
    listActivity: async (query) =>
      deps.sharedActivity
        ? sharedActivityPage(deps.store, query, viewer)
        : teamActivityPage(deps.audit.dir, query, await owner()),
    getActivityChart: async (query) =>
      deps.sharedActivity
        ? sharedActivityChart(deps.store, query, viewer)
        : teamActivityChart(deps.audit.dir, query, await owner()),
  };

  const calls = Object.fromEntries(
    CALL_NAMES.map((name) => {
      if (!isTeamCall(name)) return [name, () => Promise.reject(notOnTeamServer(name))];
      const call = team[name] as (request: unknown) => Promise<unknown>;
      return [
        name,
        (request: unknown) =>
          call(request).catch((err: unknown) => {
            if (!isValetError(err))
              deps.logger.error(`The page's ${name} call failed: ${describeError(err)}`);
            throw err;
          }),
      ];
    }),
  );
  // Live changes reach the page by its own polling: a stateless server pushes nothing.
  return { ...calls, subscribe: () => () => undefined } as unknown as AppApi;
}

/**
 * The status of a team server for its signed-in user: they are the account (with the roles of
 * their ID token), the MCP URL is the endpoint, and their pending approvals are counted. What
 * only a desktop has (the OS broker, a token cache of its own, token freshness) is marked as not
 * applicable rather than left out.
 */
function teamStatus(user: TeamUser, deps: TeamCallDeps, pendingApprovals: number): StatusDto {
  const { session } = user;
  const account = {
    homeAccountId: session.homeAccountId,
    username: session.username || session.oid,
    name: session.name || null,
    tenantId: session.tid,
    roles: [...session.roles],
    active: true,
    viaBroker: false,
  };
  return {
    configured: true,
    demo: false,
    clientId: deps.config.clientId,
    tenantId: session.tid,
    authority: deps.config.authority.url,
    account,
    accounts: [account],
    tokens: [],
    broker: {
      mode: 'not applicable',
      available: false,
      reason: 'A team server signs its users in on the web; there is no OS broker',
    },
    cache: {
      kind: 'not applicable',
      persisted: false,
      protected: false,
      reason:
        "A team server keeps its users' tokens, sealed, in its shared store; no browser ever sees them",
    },
    endpoint: { url: deps.mcpUrls[0] ?? null, running: true },
    missingScopes: [],
    pendingApprovals,
  };
}
