import type { Policy } from './policy-schema.ts';

/** One policy setting whose value changed, named by its path in the policy section. */
export interface PolicySettingChange {
  /** e.g. `tools.send_mail.requireRole`, `rateLimits.burst`. */
  setting: string;
  /** The value before and after; null where the setting was not given. */
  from: unknown;
  to: unknown;
}

/**
 * The policy settings that differ between two policies, sorted by name. A policy holds only
 * switches, numbers and app role names, so its values can be recorded.
 */
export function policyChanges(before: Policy, after: Policy): PolicySettingChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const changed: PolicySettingChange[] = [];
  for (const setting of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const from = a.get(setting) ?? null;
    const to = b.get(setting) ?? null;
    if (from !== to) changed.push({ setting, from, to });
  }
  return changed;
}

/**
 * The top-level settings of config.json, other than the policy, as comparable text. Their
 * values stay in memory: an authority or Graph URL may carry credentials, so only the names
 * of those that change are ever recorded.
 */
export function otherSettings(json: Record<string, unknown>): Map<string, string> {
  const settings = new Map<string, string>();
  for (const [name, value] of Object.entries(json))
    if (name !== 'policy') settings.set(name, JSON.stringify(value));
  return settings;
}

/** The names of the settings that differ between two `otherSettings` maps, sorted. */
export function changedNames(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])]
    .filter((name) => before.get(name) !== after.get(name))
    .sort();
}

function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()) {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, value);
  }
  return out;
}
