import { EventEmitter } from 'node:events';
import { AuthService, type AuthServiceOptions } from '../auth/auth-service.ts';
import { openTokenCache } from '../cache/token-cache.ts';
import type { CacheRecovery } from '../cache/guarded-persistence.ts';
import type { ValetConfig } from '../config/load-config.ts';
import { McpEndpoint, type EndpointEvents } from '../endpoint/mcp-endpoint.ts';
import { removeEndpointInfo, writeEndpointInfo } from '../endpoint/endpoint-info.ts';
import { GraphClient } from '../graph/graph-client.ts';
import { MeCache } from '../graph/me-cache.ts';
import type { RetryPolicy } from '../graph/retry-policy.ts';
import { KeyStore } from '../keys/key-store.ts';
import { createMcpServer } from '../mcp/server-factory.ts';
import type { GraphUser, ToolDefinition } from '../mcp/tool-definition.ts';
import { ToolRunner, type ToolCallRecord } from '../mcp/tool-runner.ts';
import { ALL_TOOLS } from '../mcp/tools/index.ts';
import { silentLogger, type Logger } from '../util/logger.ts';

/** Events of the core beyond sign-in (those are on `auth`): what the audit log and the UI follow. */
export interface CoreEventMap {
  'tool-call': [ToolCallRecord];
  'endpoint-rejected': [Parameters<NonNullable<EndpointEvents['onRejected']>>[0]];
  'session-opened': [Parameters<NonNullable<EndpointEvents['onSessionOpened']>>[0]];
  'session-closed': [Parameters<NonNullable<EndpointEvents['onSessionClosed']>>[0]];
}

/** How to build the core. Shells (CLI, Electron) pass the real platform pieces. */
export interface ValetCoreOptions extends Pick<
  AuthServiceOptions,
  'openBrowser' | 'brokerLoader' | 'platform' | 'env'
> {
  config: ValetConfig;
  logger?: Logger;
  graph?: { retry?: Partial<RetryPolicy>; timeoutMs?: number };
  meTtlMs?: number;
  onCacheRecovered?: (recovery: CacheRecovery) => void;
}

/**
 * The core of MCP Valet, with no Electron in it: sign-in, keys, Graph, tools and the local
 * endpoint, wired together. The CLI and the Electron shell each build one of these.
 */
export class ValetCore extends EventEmitter<CoreEventMap> {
  readonly config: ValetConfig;
  readonly logger: Logger;
  readonly auth: AuthService;
  readonly keys: KeyStore;
  readonly graph: GraphClient;
  readonly tools: readonly ToolDefinition[];
  readonly runner: ToolRunner;
  #endpoint: McpEndpoint | undefined;

  private constructor(options: ValetCoreOptions, auth: AuthService) {
    super();
    this.config = options.config;
    this.logger = options.logger ?? silentLogger;
    this.auth = auth;
    this.keys = new KeyStore(options.config.dataDir);
    this.graph = new GraphClient({ baseUrl: options.config.graphUrl, ...options.graph });
    this.tools = ALL_TOOLS;
    const meCache = new MeCache<GraphUser>(options.meTtlMs);
    auth.on('signed-out', ({ account }) => meCache.clear(account.homeAccountId));
    this.runner = new ToolRunner({
      auth,
      graph: this.graph,
      meCache,
      onCall: (record) => this.emit('tool-call', record),
    });
  }

  /** Opens the token cache and builds the core. */
  static async create(options: ValetCoreOptions): Promise<ValetCore> {
    const { config } = options;
    const cache = await openTokenCache({
      dataDir: config.dataDir,
      allowPlaintext: config.allowPlaintextCache,
      ...(options.onCacheRecovered ? { onRecovered: options.onCacheRecovered } : {}),
    });
    const { openBrowser, brokerLoader, platform, env, logger } = options;
    const auth = new AuthService({
      config,
      cache,
      ...(logger ? { logger } : {}),
      ...(openBrowser ? { openBrowser } : {}),
      ...(brokerLoader ? { brokerLoader } : {}),
      ...(platform ? { platform } : {}),
      ...(env ? { env } : {}),
    });
    return new ValetCore(options, auth);
  }

  /** The running endpoint, if started. */
  get endpoint(): McpEndpoint | undefined {
    return this.#endpoint;
  }

  /** Starts the local MCP endpoint and records where it is for `status` and `stdio`. */
  async startEndpoint(options: { port?: number } = {}): Promise<McpEndpoint> {
    if (this.#endpoint) return this.#endpoint;
    const endpoint = new McpEndpoint({
      port: options.port ?? this.config.port,
      keys: this.keys,
      logger: this.logger,
      createServer: (resolveCaller) => createMcpServer(this.tools, this.runner, resolveCaller),
      onRejected: (e) => this.emit('endpoint-rejected', e),
      onSessionOpened: (e) => this.emit('session-opened', e),
      onSessionClosed: (e) => this.emit('session-closed', e),
    });
    await endpoint.start();
    this.#endpoint = endpoint;
    await writeEndpointInfo(this.config.dataDir, endpoint.url);
    return endpoint;
  }

  /** Closes sessions, stops the endpoint and forgets its record. */
  async close(): Promise<void> {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    if (endpoint) {
      await endpoint.close();
      await removeEndpointInfo(this.config.dataDir);
    }
  }
}
