import { writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { fileStamp } from '../util/file-stamp.ts';
import type { Logger } from '../util/logger.ts';
import { ValetError } from '../util/valet-error.ts';
import type { ToolName } from '../mcp/tool-definition.ts';
import { describePolicyError, policySchema, type Policy } from './policy-schema.ts';

/**
 * The policy section of config.json, re-read whenever the file changes, so that an admin's
 * edit or a tool switch in the app applies to the next call. A broken edit made while
 * running keeps the last good policy in force (and says so) rather than dropping the rules.
 */
export class PolicyStore {
  readonly #path: string;
  readonly #logger: Logger;
  #cached: { stamp: string; policy: Policy };

  constructor(configFile: string, initial: Policy, logger: Logger) {
    this.#path = configFile;
    this.#logger = logger;
    this.#cached = { stamp: fileStamp(configFile), policy: initial };
  }

  /** The policy in force now. */
  async current(): Promise<Policy> {
    const stamp = fileStamp(this.#path);
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
    await writeFile(this.#path, '', { flag: 'a', mode: 0o600 });
    const release = await lockfile.lock(this.#path, {
      retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
      stale: 10_000,
    });
    try {
      const text = await readFileIfExists(this.#path);
      let json: Record<string, unknown>;
      try {
        json = text?.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        throw new ValetError(
          'config_invalid',
          `${this.#path} is not valid JSON: fix it before changing the policy`,
        );
      }
      const policy = (json.policy ?? {}) as { tools?: Record<string, Record<string, unknown>> };
      policy.tools ??= {};
      policy.tools[tool] = { ...policy.tools[tool], enabled };
      json.policy = policy;
      const parsed = policySchema.safeParse(policy);
      if (!parsed.success)
        throw new ValetError(
          'config_invalid',
          `${this.#path}: ${describePolicyError(parsed.error)}: fix it before changing the policy`,
        );
      await writeFileAtomic(this.#path, `${JSON.stringify(json, null, 2)}\n`);
      return parsed.data;
    } finally {
      await release();
    }
  }
}
