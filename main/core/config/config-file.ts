import { writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { ValetError } from '../util/valet-error.ts';

/**
 * Changes config.json in place, keeping every setting it does not touch: under a lock file
 * (the CLI and a running app may both write it), written atomically, owner-only.
 */
export async function updateConfigFile(
  path: string,
  change: (json: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  await writeFile(path, '', { flag: 'a', mode: 0o600 });
  const release = await lockfile.lock(path, {
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    stale: 10_000,
  });
  try {
    const text = await readFileIfExists(path);
    let json: Record<string, unknown>;
    try {
      json = text?.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new ValetError(
        'config_invalid',
        `${path} is not valid JSON: fix or delete it, then try again`,
      );
    }
    change(json);
    await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
    return json;
  } finally {
    await release();
  }
}
