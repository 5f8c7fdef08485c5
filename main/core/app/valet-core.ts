import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ApprovalService } from '../approvals/approval-service.ts';
import { AuditBusyError, AuditLog, type AuditLogOptions } from '../audit/audit-log.ts';
import type { AuditEvent, AuditStamp } from '../audit/audit-types.ts';
import { RefusalAggregator } from '../audit/refusal-aggregator.ts';
import { AuthService, type AuthServiceOptions } from '../auth/auth-service.ts';
import type { CacheRecovery } from '../cache/guarded-persistence.ts';
import { openTokenCache } from '../cache/token-cache.ts';
import { SETTINGS, settingSchemas } from '../config/config-schema.ts';
import { loadConfig, type ValetConfig } from '../config/load-config.ts';
import {
  readEndpointInfo,
  removeEndpointInfo,
  writeEndpointInfo,
  type EndpointInfo,
} from '../endpoint/endpoint-info.ts';
import { McpEndpoint, type EndpointEvents } from '../endpoint/mcp-endpoint.ts';
import { GraphClient } from '../graph/graph-client.ts';
import { MeCache } from '../graph/me-cache.ts';
import type { RetryPolicy } from '../graph/retry-policy.ts';
import { KeyStore, type NewKey, type ValetKey } from '../keys/key-store.ts';
import { createMcpServer } from '../mcp/server-factory.ts';
import type { GraphUser, ToolDefinition, ToolName } from '../mcp/tool-definition.ts';
import { ToolRunner, type ToolCallRecord } from '../mcp/tool-runner.ts';
import { ALL_TOOLS } from '../mcp/tools/index.ts';
import { effectiveToolPolicies, type EffectiveToolPolicy } from '../policy/policy-engine.ts';
import type { Policy } from '../policy/policy-schema.ts';
import { PolicyStore, type ConfigFileEdit } from '../policy/policy-store.ts';
import { RateLimiter } from '../ratelimit/rate-limiter.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError, ValetError } from '../util/valet-error.ts';
import { approvalRequested, auditCoreEvents } from './audit-wiring.ts';

/** Events of the core beyond sign-in (those are on `auth`): what the live log and the UI follow. */
export interface CoreEventMap {
  'tool-call': [ToolCallRecord, AuditStamp | undefined];
  'endpoint-rejected': [Parameters<NonNullable<EndpointEvents['onRejected']>>[0]];
  'session-opened': [Parameters<NonNullable<EndpointEvents['onSessionOpened']>>[0]];
  'session-closed': [Parameters<NonNullable<EndpointEvents['onSessionClosed']>>[0]];
  /** The endpoint started, stopped or moved: where it is now, if anywhere. */
  'endpoint-changed': [{ url: string | null; running: boolean }];
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
  /** The token cache's keyring entry, when not MCP Valet's own (the demo keeps its tokens apart). */
  tokenCache?: { serviceName: string };
  /** Audit log settings beyond the configured retention (file size, fsync interval, writer). */
  audit?: Omit<AuditLogOptions, 'logger'>;
  onCacheRecovered?: (recovery: CacheRecovery) => void;
}

/**
 * The core of MCP Valet, with no Electron in it: sign-in, keys, policy, approvals, audit,
 * rate limits, Graph, tools and the local endpoint, wired together. The CLI and the
 * Electron shell each build one of these.
 */
export class ValetCore extends EventEmitter<CoreEventMap> {
  #config: ValetConfig;
  readonly #env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly auth: AuthService;
  readonly keys: KeyStore;
  readonly graph: GraphClient;
  readonly tools: readonly ToolDefinition[];
  readonly policy: PolicyStore;
  readonly approvals: ApprovalService;
  readonly audit: AuditLog;
  readonly limiter: RateLimiter;
  readonly runner: ToolRunner;
  readonly #pending = new Set<Promise<void>>();
  /** Refused requests are counted into about one record a second per source and reason. */
  readonly #refusals = new RefusalAggregator({ record: (event) => this.#recordLater(event) });
  #limits: Policy['rateLimits'];
  #endpoint: McpEndpoint | undefined;

  private constructor(options: ValetCoreOptions, auth: AuthService) {
    super();
    const { config } = options;
    this.#config = config;
    this.#env = options.env ?? process.env;
    this.logger = options.logger ?? silentLogger;
    this.auth = auth;
    this.keys = new KeyStore(config.dataDir);
    this.graph = new GraphClient({ baseUrl: config.graphUrl, ...options.graph });
    this.tools = ALL_TOOLS;
    this.policy = new PolicyStore(config.configFile, config.policy, this.logger, {
      onEdit: (edit) => this.#recordEdit(edit),
    });
    const { maxMegabytes, maxAgeDays } = config.auditRetention;
    this.audit = new AuditLog(config.dataDir, {
      retention: { maxBytes: maxMegabytes * 1024 * 1024, maxAgeMs: maxAgeDays * 86_400_000 },
      ...options.audit,
      logger: this.logger,
    });
    this.approvals = new ApprovalService(Date.now, (a) => this.record(approvalRequested(a)));
    this.#limits = config.policy.rateLimits;
    this.limiter = new RateLimiter(() => this.#limits);
    const meCache = new MeCache<GraphUser>(options.meTtlMs);
    auth.on('signed-out', ({ account }) => meCache.clear(account.homeAccountId));
    this.runner = new ToolRunner({
      auth,
      graph: this.graph,
      meCache,
      policy: () => this.currentPolicy(),
      approvals: this.approvals,
      // Calls come in only while this process serves and holds the log: it numbers each record.
      audit: (event) => this.audit.append(event),
      onCall: (record, written) => this.emit('tool-call', record, written),
      logger: this.logger,
    });
    auditCoreEvents(this, (event) => this.#recordLater(event));
  }

  /** Opens the token cache and builds the core. */
  static async create(options: ValetCoreOptions): Promise<ValetCore> {
    const { config, openBrowser, brokerLoader, platform, env, logger } = options;
    const cache = await openTokenCache({
      dataDir: config.dataDir,
      allowPlaintext: config.allowPlaintextCache,
      ...options.tokenCache,
      ...(options.onCacheRecovered ? { onRecovered: options.onCacheRecovered } : {}),
    });
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

  /** The configuration in force. */
  get config(): ValetConfig {
    return this.#config;
  }

  /**
   * Saves the app registration (first-run screen) to config.json and switches sign-in to it.
   * Settings fixed by VALET_* variables keep their value: the environment wins.
   */
  async saveSettings(settings: { clientId: string; tenantId: string }): Promise<ValetConfig> {
    for (const [name, value] of [
      ['clientId', settings.clientId],
      ['tenantId', settings.tenantId],
    ] as const) {
      const parsed = settingSchemas[name].safeParse(value);
      if (!parsed.success)
        throw new ValetError(
          'config_invalid',
          `The ${name === 'clientId' ? 'client ID' : 'tenant ID'} ${parsed.error.issues[0]?.message ?? 'is not valid'} (got '${value}'): ${SETTINGS[name].fix}`,
        );
    }
    await this.policy.update((json) => {
      json.clientId = settings.clientId.trim();
      json.tenantId = settings.tenantId.trim();
    });
    const config = await loadConfig(this.#env);
    this.#config = config;
    this.auth.reconfigure(config);
    await this.record({
      type: 'config_changed',
      outcome: 'ok',
      details: { clientId: config.clientId ?? null, tenantId: config.tenantId },
    });
    return config;
  }

  /** The running endpoint, if started. */
  get endpoint(): McpEndpoint | undefined {
    return this.#endpoint;
  }

  /** The policy in force now (config.json is re-read when it changes). */
  async currentPolicy(): Promise<Policy> {
    const policy = await this.policy.current();
    this.#limits = policy.rateLimits;
    return policy;
  }

  /** Every tool's effective policy: on or off, approval, required app role. */
  async effectivePolicy(): Promise<{ tools: EffectiveToolPolicy[]; policy: Policy }> {
    const policy = await this.currentPolicy();
    return { tools: effectiveToolPolicies(this.tools, policy), policy };
  }

  /** Creates a valet key, audited. */
  async createKey(input: NewKey): Promise<{ key: ValetKey; secret: string }> {
    const created = await this.keys.create(input);
    await this.record({
      type: 'key_created',
      actor: {
        keyId: created.key.id,
        keyName: created.key.name,
        ...(created.key.account ? { account: created.key.account.username } : {}),
      },
      outcome: 'ok',
      details: { tools: created.key.tools, readOnly: created.key.readOnly },
    });
    return created;
  }

  /** Revokes a valet key, audited; its sessions and approval windows end now. */
  async revokeKey(ref: string): Promise<ValetKey> {
    const key = await this.keys.revoke(ref);
    this.approvals.forgetKey(key.id);
    await this.#endpoint?.closeSessionsOf(key.id);
    await this.record({
      type: 'key_revoked',
      actor: { keyId: key.id, keyName: key.name },
      outcome: 'ok',
    });
    return key;
  }

  /** Turns a tool on or off for every key, audited. */
  async setToolEnabled(tool: ToolName, enabled: boolean): Promise<void> {
    this.#limits = (await this.policy.setToolEnabled(tool, enabled)).rateLimits;
    await this.record({ type: 'policy_changed', outcome: 'ok', details: { tool, enabled } });
  }

  /**
   * Writes an audit record. While this process serves, it holds the log; otherwise it takes
   * the log for the write, or hands the record to the running server that holds it.
   */
  async record(event: AuditEvent): Promise<void> {
    if (!this.#endpoint) {
      // A server elsewhere holds the log for its whole run: hand it the record directly.
      const running = await readEndpointInfo(this.config.dataDir);
      if (running?.controlToken && running.pid !== process.pid)
        return this.#forward(event, running);
    }
    try {
      await this.audit.append(event);
    } catch (err) {
      if (!(err instanceof AuditBusyError)) throw err;
      await this.#forward(event, await readEndpointInfo(this.config.dataDir));
    }
  }

  /** Starts the local MCP endpoint and records where it is for `status`, `stdio` and the CLI. */
  async startEndpoint(options: { port?: number } = {}): Promise<McpEndpoint> {
    if (this.#endpoint) return this.#endpoint;
    await this.audit.holdExclusive();
    await this.currentPolicy();
    const controlToken = randomBytes(32).toString('base64url');
    const endpoint = new McpEndpoint({
      port: options.port ?? this.config.port,
      keys: this.keys,
      logger: this.logger,
      limiter: this.limiter,
      control: {
        token: controlToken,
        handlers: {
          approvals: this.approvals,
          audit: async (event) => {
            await this.audit.append(event);
          },
          // `keys revoke` in another process: refuse the key and end its sessions now.
          keysChanged: async (revoked) => {
            this.keys.reload();
            if (!revoked) return;
            this.approvals.forgetKey(revoked);
            await this.#endpoint?.closeSessionsOf(revoked);
          },
        },
      },
      createServer: () => createMcpServer(this.tools, this.runner),
      onRejected: (e) => {
        this.emit('endpoint-rejected', e);
        this.#refusals.add({
          type: 'endpoint_rejected',
          reason: e.reason,
          status: e.status,
          ...(e.keyId ? { keyId: e.keyId } : {}),
          ...(e.origin !== undefined ? { origin: e.origin } : {}),
        });
      },
      onSessionOpened: (e) => {
        this.emit('session-opened', e);
        this.#recordLater({
          type: 'client_connected',
          actor: {
            keyId: e.key.id,
            keyName: e.key.name,
            ...(e.client ? { client: `${e.client.name} ${e.client.version}` } : {}),
          },
          outcome: 'ok',
          details: { sessionId: e.sessionId },
        });
      },
      onSessionClosed: (e) => this.emit('session-closed', e),
      onRateLimited: (e) =>
        this.#refusals.add({
          type: 'rate_limited',
          reason: e.reason,
          keyId: e.key.id,
          keyName: e.key.name,
          retryAfterSeconds: e.retryAfterSeconds,
        }),
    });
    await endpoint.start();
    this.#endpoint = endpoint;
    await writeEndpointInfo(this.config.dataDir, endpoint.url, controlToken);
    this.emit('endpoint-changed', { url: endpoint.url, running: true });
    return endpoint;
  }

  /** Finishes audit writes, closes sessions, stops the endpoint and lets go of the log. */
  async close(): Promise<void> {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    if (endpoint) {
      await endpoint.close();
      await removeEndpointInfo(this.config.dataDir);
      this.emit('endpoint-changed', { url: null, running: false });
    }
    this.#refusals.flush();
    await Promise.all(this.#pending);
    await this.audit.close();
    this.keys.close();
    this.policy.close();
  }

  /** Writes a record without making the caller wait; close() waits for it. */
  #recordLater(event: AuditEvent): void {
    const write = this.record(event)
      .catch((err: unknown) =>
        this.logger.error(
          `could not write the audit record of a ${event.type}: ${describeError(err)}`,
        ),
      )
      .finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }

  /** Audits an edit of config.json made outside MCP Valet, once the policy store has seen it. */
  #recordEdit(edit: ConfigFileEdit): void {
    if (edit.rejected)
      this.#recordLater({
        type: 'policy_changed',
        outcome: 'rejected',
        details: {
          source: 'config.json',
          reason: `${edit.rejected}; the previous policy stays in force`,
        },
      });
    else if (edit.policy.length)
      this.#recordLater({
        type: 'policy_changed',
        outcome: 'ok',
        details: { source: 'config.json', changes: edit.policy },
      });
    if (edit.settings.length)
      this.#recordLater({
        type: 'config_changed',
        outcome: 'ok',
        details: { source: 'config.json', settings: edit.settings, applies: 'at the next start' },
      });
  }

  async #forward(event: AuditEvent, running: EndpointInfo | undefined): Promise<void> {
    if (!running?.controlToken)
      throw new ValetError(
        'audit_busy',
        'The audit log is locked by another MCP Valet process that cannot be reached: try again in a moment',
      );
    const response = await fetch(new URL('/control/audit', running.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${running.controlToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(event),
    });
    if (!response.ok)
      throw new ValetError(
        'audit_busy',
        `The running MCP Valet did not take the audit record (HTTP ${response.status})`,
      );
  }
}
