import { readFileSync } from 'node:fs';
import { updateConfigFile } from '../config/config-file.ts';
import { readFileIfExists } from '../util/atomic-file.ts';
import type { Logger } from '../util/logger.ts';
import { ValetError } from '../util/valet-error.ts';
import { WatchedStamp, type WatchedStampOptions } from '../util/watched-stamp.ts';
import type { ToolName } from '../mcp/tool-definition.ts';
import {
  changedNames,
  otherSettings,
  policyChanges,
  type PolicySettingChange,
} from './policy-diff.ts';
import { describePolicyError, policySchema, type Policy } from './policy-schema.ts';

/** What an edit of config.json that MCP Valet did not make itself changed. */
export interface ConfigFileEdit {
  /** Policy settings that changed, now in force. */
  policy: PolicySettingChange[];
  /** Why the edited policy was refused (the previous one stays in force), when it was. */
  rejected?: string;
  /** The other settings that changed, by name only; they apply when MCP Valet starts again. */
  settings: string[];
}

/** Settings of a PolicyStore. */
export interface PolicyStoreOptions extends WatchedStampOptions {
  /** Told of each edit of the file the store sees that it did not make itself (for the audit log). */
  onEdit?: (edit: ConfigFileEdit) => void;
}

/** The file as the store last saw it. */
interface Seen {
  stamp: string;
  policy: Policy;
  settings: Map<string, string>;
  rejected: string | undefined;
}

/**
 * The policy section of config.json, re-read whenever the file changes, so that a tool switch
 * in the app applies to the next call, and an admin's edit as soon as the file watch reports
 * it (within STAMP_MAX_AGE_MS at worst). A broken edit made while running keeps the last good
 * policy in force (and says so) rather than dropping the rules. Every edit it sees that it did
 * not make itself is reported to `onEdit`, once.
 */
export class PolicyStore {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #stamp: WatchedStamp;
  readonly #onEdit: ((edit: ConfigFileEdit) => void) | undefined;
  #seen: Seen;
  /** The read in progress, so that calls arriving together see (and report) an edit once. */
  #reading: Promise<Policy> | undefined;

  constructor(
    configFile: string,
    initial: Policy,
    logger: Logger,
    options: PolicyStoreOptions = {},
  ) {
    const { onEdit, ...stampOptions } = options;
    this.#path = configFile;
    this.#logger = logger;
    this.#onEdit = onEdit;
    this.#stamp = new WatchedStamp(configFile, stampOptions);
    const stamp = this.#stamp.current();
    this.#seen = {
      stamp,
      policy: initial,
      settings: settingsAtStart(configFile),
      rejected: undefined,
    };
  }

  /** The policy in force now. */
  async current(): Promise<Policy> {
    while (this.#reading) await this.#reading;
    const stamp = this.#stamp.current();
    if (stamp === this.#seen.stamp) return this.#seen.policy;
    this.#reading = this.#read(stamp).finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  /** Turns a tool on or off for every key, by editing config.json (other settings untouched). */
  async setToolEnabled(tool: ToolName, enabled: boolean): Promise<Policy> {
    return this.update((json) => {
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
    });
  }

  /**
   * Changes config.json for MCP Valet itself (other settings untouched); the caller audits
   * what it changed, so the store takes the result as seen. An edit by hand made before it is
   * reported first.
   */
  async update(change: (json: Record<string, unknown>) => void): Promise<Policy> {
    await this.current();
    let json: Record<string, unknown>;
    try {
      json = await updateConfigFile(this.#path, change);
    } finally {
      // Whatever reached the file, the next call reads it again.
      this.#stamp.invalidate();
    }
    const parsed = policySchema.safeParse(json.policy ?? {});
    const rejected = parsed.success ? undefined : this.#seen.rejected;
    const policy = parsed.success ? parsed.data : this.#seen.policy;
    this.#seen = { stamp: this.#stamp.current(), policy, settings: otherSettings(json), rejected };
    return policy;
  }

  /** Stops watching config.json. */
  close(): void {
    this.#stamp.close();
  }

  async #read(stamp: string): Promise<Policy> {
    const before = this.#seen;
    let policy = before.policy;
    let settings = before.settings;
    let rejected: string | undefined;
    try {
      const text = await readFileIfExists(this.#path);
      const json = text?.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
      settings = otherSettings(json);
      const parsed = policySchema.safeParse(json.policy ?? {});
      if (parsed.success) policy = parsed.data;
      else rejected = describePolicyError(parsed.error);
    } catch (err) {
      this.#logger.error(
        `${this.#path} is not valid JSON (${(err as Error).message}); the previous policy stays in force`,
      );
      rejected = 'config.json is not valid JSON';
    }
    if (rejected && rejected !== 'config.json is not valid JSON')
      this.#logger.error(`${this.#path}: ${rejected}; the previous policy stays in force`);
    this.#seen = { stamp, policy, settings, rejected };
    const edit: ConfigFileEdit = {
      policy: policyChanges(before.policy, policy),
      ...(rejected && rejected !== before.rejected ? { rejected } : {}),
      settings: changedNames(before.settings, settings),
    };
    if (edit.policy.length || edit.rejected || edit.settings.length) this.#onEdit?.(edit);
    return policy;
  }
}

/** The file's other settings when the store starts (the configuration was just loaded from it). */
function settingsAtStart(path: string): Map<string, string> {
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof json === 'object' && json !== null && !Array.isArray(json)
      ? otherSettings(json as Record<string, unknown>)
      : new Map();
  } catch {
    return new Map();
  }
}
