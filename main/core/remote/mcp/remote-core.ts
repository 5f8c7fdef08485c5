import { AuditLog } from '../../audit/audit-log.ts';
import { RefusalAggregator } from '../../audit/refusal-aggregator.ts';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type { ValetConfig } from '../../config/load-config.ts';
import { GraphClient } from '../../graph/graph-client.ts';
import { StoreGraphThrottle } from '../graph-backoff.ts';
import { MeCache } from '../../graph/me-cache.ts';
import type { ToolRunnerDeps } from '../../mcp/call-types.ts';
import type { GraphUser } from '../../mcp/tool-definition.ts';
import type { Policy } from '../../policy/policy-schema.ts';
import { PolicyStore } from '../../policy/policy-store.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';
import type { CacheKeys } from '../cache-keys.ts';
import { StoreApprovals } from '../approvals/store-approvals.ts';
import { AuditPublisher } from '../audit/audit-publisher.ts';
import type { SharedStore } from '../store/shared-store.ts';

/**
 * The settings the remote server shares with the desktop core (data dir, policy file, Graph),
 * and the instance's ID, which names its audit chain in the shared store.
 */
export type SharedCoreSettings = Pick<
  ValetConfig,
  'dataDir' | 'configFile' | 'graphUrl' | 'policy' | 'auditRetention'
> & {
  /** Publishes the audit chain's head and records to the shared store under this ID; none without it. */
  instanceId?: string;
};

/** The desktop core's parts a remote instance runs every call through. */
export interface RemoteCore {
  runner: Omit<ToolRunnerDeps, 'auth' | 'policy' | 'approvals'>;
  policy: () => Promise<Policy>;
  /** Approvals in the shared store, decided on `<public>/approvals/<id>` on any instance. */
  approvals: StoreApprovals;
  audit: AuditLog;
  /** Refused requests (403 step-ups, 429s), audited as counts: one record a second per key and reason. */
  refusals: RefusalAggregator;
  close(): Promise<void>;
}

/**
 * The same core as the desktop: Graph client, `/me` cache, policy file (re-read when it
 * changes), approvals (in the shared store) and this instance's hash-chained audit log, in the data dir's audit
 * folder or under VALET_AUDIT_DIR. The log is taken for the whole run at the first record,
 * and every record is written before a result goes out (a call that cannot be audited fails).
 * With an instance ID, each record, once written, is also published to the shared store (the
 * activity stream and the chain's head) beside the call, never holding or failing it.
 */
export function createRemoteCore(options: {
  settings: SharedCoreSettings;
  auditDir: string | undefined;
  store: SharedStore;
  publicUrl: string;
  cacheKeys: CacheKeys;
  logger: Logger;
  /** About how many records the shared activity stream keeps (default 100,000). */
  activityMaxLen?: number;
}): RemoteCore {
  const { settings, logger } = options;
  const { maxMegabytes, maxAgeDays } = settings.auditRetention;
  // VALET_AUDIT_DIR holds the chain itself; a data dir holds it in its audit folder.
  const audit = new AuditLog(options.auditDir ?? settings.dataDir, {
    exactDir: options.auditDir !== undefined,
    retention: { maxBytes: maxMegabytes * 1024 * 1024, maxAgeMs: maxAgeDays * 86_400_000 },
    logger,
  });
  const { instanceId } = settings;
  const publisher =
    instanceId === undefined
      ? undefined
      : new AuditPublisher({
          store: options.store,
          instanceId,
          logger,
          ...(options.activityMaxLen === undefined ? {} : { maxLen: options.activityMaxLen }),
        });
  if (publisher) audit.on('written', (record) => publisher.publish(record));
  let held: Promise<void> | undefined;
  const append = async (event: AuditEvent) => {
    await (held ??= audit.holdExclusive());
    return audit.append(event);
  };
  // Refusals are counted, not waited on: a flood of them must not queue on the disk.
  const refusalWrites = new Set<Promise<unknown>>();
  const refusals = new RefusalAggregator({
    record: (event) => {
      const written = append(event)
        .catch((err: unknown) =>
          logger.warn(`A refusal count could not be audited: ${describeError(err)}`),
        )
        .finally(() => refusalWrites.delete(written));
      refusalWrites.add(written);
    },
  });
  const policy = new PolicyStore(settings.configFile, settings.policy, logger);
  const approvals = new StoreApprovals({
    store: options.store,
    publicUrl: options.publicUrl,
    cacheKeys: options.cacheKeys,
    audit: append,
    logger,
  });
  return {
    runner: {
      // Graph's Retry-After for a user holds that user's calls on every instance.
      graph: new GraphClient({
        baseUrl: settings.graphUrl,
        throttle: new StoreGraphThrottle(options.store),
      }),
      meCache: new MeCache<GraphUser>(),
      audit: append,
      logger,
    },
    policy: () => policy.current(),
    approvals,
    audit,
    refusals,
    close: async () => {
      refusals.flush();
      await Promise.all(refusalWrites);
      await approvals.close();
      policy.close();
      await audit.close();
      // The last records go out while the store is still open (the server closes it after).
      await publisher?.flush();
    },
  };
}
