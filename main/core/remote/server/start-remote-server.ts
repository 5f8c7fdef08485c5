import { randomBytes } from 'node:crypto';
import { ALL_TOOLS } from '../../mcp/tools/index.ts';
import type { Logger } from '../../util/logger.ts';
import { cacheKeyOf, CACHE_KEY_BYTES, type CacheKeys } from '../cache-keys.ts';
import { buildMsalCredential, type CredentialDeps } from '../credentials.ts';
import { OnBehalfOfGraphTokens } from '../entra/on-behalf-of.ts';
import { RemoteAdmission } from '../mcp/admission.ts';
import {
  entraDoor,
  entraResourceMetadata,
  valetDoor,
  valetResourceMetadataAlias,
} from '../mcp/front-doors.ts';
import { mcpEndpoint, type McpFrontDoor } from '../mcp/mcp-endpoint.ts';
import { approvalRouter } from '../approvals/approval-router.ts';
import { ClientReach } from '../mcp/client-reach.ts';
import { createRemoteCore } from '../mcp/remote-core.ts';
import {
  createValetAuthServer,
  type AuthEndpoint,
  type AuthRateLimitStore,
} from '../oauth/valet-auth-router.ts';
import type { RemoteConfig } from '../remote-config.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { SignInRequests } from '../web/sign-in-requests.ts';
import { grantRoutes, homeRoutes, signInRoutes } from '../web/web-routes.ts';
import { WebSessions } from '../web/web-sessions.ts';
import { WebSignIn } from '../web/web-sign-in.ts';
import { AuthorityMetadata } from './authority-metadata.ts';
import { healthRoutes } from './health-routes.ts';
import { mcpPaths } from './mcp-routes.ts';
import { createRemoteApp, type RemoteRoute } from './remote-app.ts';
import { startRemoteControl, type RemoteControl } from './remote-control.ts';
import { checkTransport, listenRemote, type RemoteListener } from './remote-listener.ts';

/** What the composition root passes in besides the configuration. */
export interface RemoteServerDeps {
  logger: Logger;
  /** The shared store; a MemoryStore of this process by default. */
  store?: SharedStore;
  /** For the authority's metadata; the global fetch by default. */
  fetch?: typeof fetch;
  credential?: CredentialDeps;
}

/** A running remote server. */
export interface RunningRemoteServer {
  listener: RemoteListener;
  /** `<public>/mcp`, and `<public>/entra/mcp` when both modes are served. */
  mcpUrls: string[];
  store: SharedStore;
  signIn: WebSignIn;
  /** The loopback control API of `keys … --remote` (its token is in the data dir). */
  controlUrl: string;
  /** Lines to show at start: the credential in use, a generated cache key (no secret in them). */
  notes: string[];
  close(): Promise<void>;
}

/**
 * Starts the remote server: checks the transport, opens the store, builds the credential, loads
 * the authority's metadata once, mounts the routes in order and listens. Every piece of shared
 * state goes through `store`. Throws a ValetError naming the fix when it cannot start.
 */
export async function startRemoteServer(
  config: RemoteConfig,
  deps: RemoteServerDeps,
): Promise<RunningRemoteServer> {
  checkTransport(config);
  const { logger } = deps;
  const notes: string[] = [];
  const credential = await buildMsalCredential(config.credential, deps.credential);
  notes.push(`Signing in to Entra as app ${config.clientId} with ${credential.description}`);
  const cacheKeys = config.cacheKeys ?? processCacheKeys(notes);
  const metadata = new AuthorityMetadata(config.authority, {
    fromFile: config.authorityMetadata,
    logger,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const opened = deps.store ? { store: deps.store } : await openStore(config, logger);
  const { store } = opened;
  const core = createRemoteCore({
    settings: config,
    auditDir: config.auditDir,
    store,
    publicUrl: config.publicUrl,
    cacheKeys,
    logger,
    // In this process's memory the live feed is kept short; Redis keeps its ~100,000.
    ...(config.redisUrl === undefined ? { activityMaxLen: 10_000 } : {}),
  });
  try {
    await metadata.load();
    const msal = {
      clientId: config.clientId,
      authority: config.authority,
      credential: credential.auth,
      authorityMetadata: () => metadata.json,
      store,
      cacheKeys,
      logger,
    };
    const signIn = new WebSignIn({
      publicUrl: config.publicUrl,
      msal,
      requests: new SignInRequests(store),
      sessions: new WebSessions(store),
      logger,
    });
    const paths = mcpPaths(config.auth);
    const routes: RemoteRoute[] = [
      {
        name: 'health',
        handler: healthRoutes({ store, authorityLoaded: () => metadata.json !== undefined }),
      },
    ];
    const doors: McpFrontDoor[] = [];
    if (config.auth !== 'entra') {
      const valet = createValetAuthServer({
        config,
        store,
        ...(opened.rateLimitStore ? { rateLimitStore: opened.rateLimitStore } : {}),
        currentUser: (req) => signIn.session(req),
        loginPath: (to) => signIn.loginPath(to),
        logger,
      });
      routes.push(
        { name: 'authorization server', handler: valet.router },
        { name: 'protected resource metadata', handler: valetResourceMetadataAlias(valet) },
      );
      doors.push(valetDoor(config, valet, msal));
    }
    if (config.auth !== 'valet') {
      const onBehalfOf = new OnBehalfOfGraphTokens({
        clientId: config.clientId,
        authority: config.authority,
        authorityMetadata: metadata,
        credential: credential.auth,
        store,
        cacheKeys,
        publicUrl: config.publicUrl,
        onDamaged: (key, reason) =>
          logger.warn(
            `The on-behalf-of cache ${key} could not be opened and was dropped (${reason})`,
          ),
      });
      routes.push({ name: 'entra resource metadata', handler: entraResourceMetadata(config) });
      doors.push(entraDoor(config, metadata, onBehalfOf, logger));
    }
    routes.push(
      { name: 'web sign-in', handler: signInRoutes(signIn) },
      {
        name: 'home page',
        handler: homeRoutes(signIn, {
          store,
          core,
          config,
          logger,
          // Over Redis, a user's calls may have gone to any instance: show them all.
          sharedActivity: config.redisUrl !== undefined,
        }),
      },
      {
        name: 'Graph grant',
        handler: grantRoutes(signIn, [...new Set(ALL_TOOLS.flatMap((t) => t.scopes))]),
      },
      {
        name: 'approvals',
        handler: approvalRouter({
          approvals: core.approvals,
          currentUser: (req) => signIn.session(req),
          loginPath: (to) => signIn.loginPath(`${signIn.basePath}${to}`),
          logger,
        }),
      },
      {
        name: 'mcp',
        handler: mcpEndpoint(doors, {
          tools: ALL_TOOLS,
          runner: core.runner,
          policy: core.policy,
          approvals: core.approvals,
          reach: new ClientReach(store),
          admission: new RemoteAdmission(store),
          refusals: core.refusals,
          logger,
        }),
      },
    );
    const app = createRemoteApp({
      publicUrl: config.publicUrl,
      trustProxy: config.trustProxy,
      routes,
      logger,
    });
    const listener = await listenRemote(app, config);
    let control: RemoteControl;
    try {
      control = await startRemoteControl({
        dataDir: config.dataDir,
        instanceId: config.instanceId,
        publicUrl: config.publicUrl,
        store,
        core: { approvals: core.approvals, audit: core.runner.audit },
        logger,
      });
    } catch (err) {
      await listener.close();
      throw err;
    }
    return {
      listener,
      controlUrl: control.url,
      mcpUrls: paths.map((p) => `${config.publicUrl}${p}`),
      store,
      signIn,
      notes,
      close: async () => {
        metadata.stop();
        await control.close();
        await listener.close();
        await core.close();
        await store.close();
      },
    };
  } catch (err) {
    metadata.stop();
    await core.close();
    await store.close();
    throw err;
  }
}

/** What Redis answers the rate limiter's commands with. */
type RedisReply = string | number | boolean | Array<string | number | boolean>;

/**
 * The shared store the configuration names: Redis, shared by every instance, with `--redis`,
 * where the authorization endpoints also count their per-address limits (rate-limit-redis);
 * this process's memory otherwise. Opening Redis fails with the one line its store gives,
 * naming host and port (never a password) and what to check.
 */
async function openStore(
  config: Pick<RemoteConfig, 'redisUrl' | 'redisPrefix'>,
  logger: Logger,
): Promise<{ store: SharedStore; rateLimitStore?: (e: AuthEndpoint) => AuthRateLimitStore }> {
  if (config.redisUrl === undefined)
    return { store: new MemoryStore({ prefix: config.redisPrefix, logger }) };
  const [{ openRedisStore }, { RedisStore: RedisRateLimitStore }] = await Promise.all([
    import('../store/redis-store.ts'),
    import('rate-limit-redis'),
  ]);
  const store = await openRedisStore({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    logger,
  });
  return {
    store,
    rateLimitStore: (endpoint) =>
      new RedisRateLimitStore({
        // Redis answers these commands (EVALSHA, SCRIPT LOAD, DECR, DEL) with numbers and strings.
        sendCommand: (...args: string[]) => store.sendCommand(args) as Promise<RedisReply>,
        prefix: store.key(`rl:auth:${endpoint}:`),
      }),
  };
}

/**
 * A cache key for this process alone, when none is configured: the store is this process's
 * memory, so nothing sealed with it outlives the process anyway.
 */
function processCacheKeys(notes: string[]): CacheKeys {
  notes.push(
    'VALET_CACHE_KEY is not set: the token cache is sealed with a random key of this process, so users sign in again after a restart',
  );
  return { current: cacheKeyOf(randomBytes(CACHE_KEY_BYTES)) };
}
