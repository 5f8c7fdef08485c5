import { updateConfigFile } from '../config/config-file.ts';
import { readFileIfExists } from '../util/atomic-file.ts';
import type { Logger } from '../util/logger.ts';
import { ValetError } from '../util/valet-error.ts';
import { WatchedStamp, type WatchedStampOptions } from '../util/watched-stamp.ts';
import type { ToolName } from '../mcp/tool-definition.ts';
import { describePolicyError, policySchema, type Policy } from './policy-schema.ts';

/**
 * The policy section of config.json, re-read whenever the file changes, so that a tool switch
 * in the app applies to the next call, and an admin's edit as soon as the file watch reports
 * it (within STAMP_MAX_AGE_MS at worst). A broken edit made while running keeps the last good
 * policy in force (and says so) rather than dropping the rules.
 */
export class PolicyStore {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #stamp: WatchedStamp;
  #cached: { stamp: string; policy: Policy };

  constructor(
    configFile: string,
    initial: Policy,
    logger: Logger,
    options: WatchedStampOptions = {},
  ) {
    this.#path = configFile;
    this.#logger = logger;
    this.#stamp = new WatchedStamp(configFile, options);
    this.#cached = { stamp: this.#stamp.current(), policy: initial };
  }

  /** The policy in force now. */
  async current(): Promise<Policy> {
    const stamp = this.#stamp.current();
    if (stamp === this.#cached.stamp) return this.#cached.policy;
    let policy = this.#cached.policy;
    try {
      const text = await readFileIfExists(this.#path);
      const json = text?.trim() ? (JSON.parse(text) as { policy?: unknown }) : {};
      const parsed = policySchema.safeParse(json.policy ?? {});
      if (parsed.success) policy = parsed.data;
      else
        this.#logger.error(
          `${this.#path}: ${describePolicyError(parsed.error)}; the previous policy stays in force`,
        );
    } catch (err) {
      this.#logger.error(
        `${this.#path} is not valid JSON (${(err as Error).message}); the previous policy stays in force`,
      );
    }
    this.#cached = { stamp, policy };
    return policy;
  }

  /** Turns a tool on or off for every key, by editing config.json (other settings untouched). */
  async setToolEnabled(tool: ToolName, enabled: boolean): Promise<Policy> {
    let policy: Policy = this.#cached.policy;
    // Whatever reached the file, the next call reads it again.
    await updateConfigFile(this.#path, (json) => {
      const section = (json.policy ?? {}) as { tools?: Record<string, Record<string, unknown>> };
      section.tools ??= {};
      section.tools[tool] = { ...section.tools[tool], enabled };
      const parsed = policySchema.safeParse(section);
      if (!parsed.success) {
        throw new ValetError(
          'config_invalid',
          `${this.#path}: ${describePolicyError(parsed.error)}: fix it before changing the policy`,
        );
      }
      json.policy = section;
      policy = parsed.data;
    }).finally(() => this.#stamp.invalidate());
    return policy;
  }

  /** Stops watching config.json. */
  close(): void {
    this.#stamp.close();
  }
}
