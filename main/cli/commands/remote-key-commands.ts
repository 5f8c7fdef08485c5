import { hostname, userInfo } from 'node:os';
import { defaultDataDir } from '../../core/config/data-dir.ts';
import type { RemoteKey } from '../../core/remote/oauth/remote-keys.ts';
import {
  readRemoteControl,
  REMOTE_CONTROL_FILE,
  type RemoteControlInfo,
} from '../../core/remote/server/remote-control.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import { Output, type CliIo } from '../output.ts';

/** How long a command waits for the running instance's answer. */
const CONTROL_TIMEOUT_MS = 10_000;

/**
 * `keys list --remote`: every remote key of the team server running on this data dir (or one
 * user's with `--user <oid>`), read from its shared store, never a secret.
 */
export async function listRemoteKeysCommand(
  io: CliIo,
  opts: { json?: boolean; user?: string },
): Promise<number> {
  const out = new Output(io, Boolean(opts.json));
  try {
    const query = opts.user === undefined ? '' : `?user=${encodeURIComponent(opts.user)}`;
    const { info, body } = await callRemoteControl<{ keys: RemoteKey[] }>(
      io.env,
      'GET',
      `/control/keys${query}`,
    );
    out.event({ event: 'keys', keys: body.keys, instance_id: info.instanceId });
    if (body.keys.length === 0)
      out.say(`No remote keys yet: a client gets one when its user consents on ${info.publicUrl}.`);
    for (const key of body.keys) out.say(describeRemoteKey(key));
    return 0;
  } catch (err) {
    return out.fail(err);
  }
}

/**
 * `keys revoke <id> --remote`: revokes the key in the shared store through the team server
 * running on this data dir. Its tokens stop working at once on every instance that shares the
 * store, and the instance audits who revoked it.
 */
export async function revokeRemoteKeyCommand(
  io: CliIo,
  id: string,
  opts: { json?: boolean },
): Promise<number> {
  const out = new Output(io, Boolean(opts.json));
  try {
    const by = `${userInfo().username}@${hostname()} (mcp-valet keys revoke --remote)`;
    const { body } = await callRemoteControl<{ key: RemoteKey; alreadyRevoked: boolean }>(
      io.env,
      'POST',
      `/control/keys/${encodeURIComponent(id)}/revoke`,
      { by },
    );
    out.event({ event: 'key_revoked', key: body.key });
    out.say(
      body.alreadyRevoked
        ? `Remote key '${body.key.name}' (${body.key.id}) of ${body.key.username} was already revoked on ${body.key.revokedAt}.`
        : `Revoked remote key '${body.key.name}' (${body.key.id}) of ${body.key.username}. Its client is refused from its next request, on every instance.`,
    );
    return 0;
  } catch (err) {
    return out.fail(err);
  }
}

function describeRemoteKey(k: RemoteKey): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`;
  return `${k.id}  ${k.name.padEnd(20)} ${k.username.padEnd(28)} ${k.tools.join(',')}${k.readOnly ? ' (read-only)' : ''}  [${state}]`;
}

/** Calls the control API of the remote instance running on the data dir of `env`. */
async function callRemoteControl<T>(
  env: NodeJS.ProcessEnv,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ info: RemoteControlInfo; body: T }> {
  const dataDir = env.VALET_DATA_DIR?.trim() || defaultDataDir(process.platform, env);
  const info = await readRemoteControl(dataDir);
  const notRunning = (why: string) =>
    new ValetError(
      'remote_not_running',
      `${why}: run this on the machine (or in the container) of a running \`mcp-valet serve --remote\`, with VALET_DATA_DIR set to its data dir`,
    );
  if (!info || !isAlive(info.pid))
    throw notRunning(
      `No team server runs on the data dir ${dataDir} (no live ${REMOTE_CONTROL_FILE})`,
    );
  let response: Response;
  try {
    response = await fetch(`${info.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${info.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
  } catch {
    throw notRunning(`The team server ${info.instanceId} at ${info.url} does not answer`);
  }
  const json = (await response.json().catch(() => ({}))) as T & { error?: string; code?: string };
  if (!response.ok)
    throw new ValetError(
      json.code ?? 'control_failed',
      json.error ?? `The team server answered HTTP ${response.status}`,
    );
  return { info, body: json };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
