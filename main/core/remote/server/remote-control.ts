import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sendControlJson, tokenMatches } from '../../endpoint/control-api.ts';
import { allowedHosts, bearerOf, readJsonBody } from '../../endpoint/request-guards.ts';
import { readFileIfExists, writeFileAtomic } from '../../util/atomic-file.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';
import {
  listRemoteKeys,
  revokeRemoteKey,
  type KeyRevocationDeps,
} from '../oauth/key-revocation.ts';
import { RemoteKeys } from '../oauth/remote-keys.ts';
import type { SharedStore } from '../store/shared-store.ts';

/** The file in the data dir through which `keys … --remote` finds the instance running there. */
export const REMOTE_CONTROL_FILE = 'remote-control.json';

const controlFileSchema = z.object({
  url: z.string(),
  token: z.string(),
  pid: z.number(),
  instanceId: z.string(),
  publicUrl: z.string(),
});

/** Where a running remote instance's control API is, and its token (an owner-only file). */
export type RemoteControlInfo = z.infer<typeof controlFileSchema>;

/** What the control API works on. */
export interface RemoteControlDeps {
  dataDir: string;
  instanceId: string;
  publicUrl: string;
  store: SharedStore;
  core: Omit<KeyRevocationDeps, 'keys' | 'logger'>;
  logger: Logger;
}

/** A running control API. */
export interface RemoteControl {
  url: string;
  close(): Promise<void>;
}

const KEY_ID = /^[0-9a-f]{12}$/;
const OID = /^[0-9A-Za-z-]{1,64}$/;
const revokeSchema = z.object({ by: z.string().min(1).max(200) });

/**
 * The remote instance's control API for `mcp-valet keys list --remote` and `keys revoke
 * --remote` run on the same machine (or in the same container): on 127.0.0.1 only, never on the
 * public listener, behind a token of this run written owner-only to `remote-control.json` in the
 * data dir, so only the account that runs the server can use it. It works on the shared store,
 * so with Redis a revocation holds on every instance from their next request.
 */
export async function startRemoteControl(deps: RemoteControlDeps): Promise<RemoteControl> {
  const token = randomBytes(32).toString('base64url');
  const keys = new RemoteKeys(deps.store);
  let hosts = new Set<string>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.logger.error(`A control request failed: ${describeError(err)}`);
      sendControlJson(res, 500, { error: 'the control request failed; see the server log' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A browser page cannot reach this API: no other Host (DNS rebinding), no Origin at all.
    if (!hosts.has(req.headers.host ?? '') || req.headers.origin !== undefined) {
      sendControlJson(res, 403, { error: 'the control API answers only local commands' });
      return;
    }
    if (!tokenMatches(bearerOf(req), token)) {
      sendControlJson(res, 401, {
        error: `the control API needs the token from ${REMOTE_CONTROL_FILE}`,
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'GET' && url.pathname === '/control/keys') {
      const user = url.searchParams.get('user') ?? undefined;
      if (user !== undefined && !OID.test(user)) {
        sendControlJson(res, 400, { error: 'user= takes a user object ID' });
        return;
      }
      sendControlJson(res, 200, { keys: await listRemoteKeys(deps.store, user) });
      return;
    }
    const revoke = /^\/control\/keys\/([^/]+)\/revoke$/.exec(url.pathname);
    if (req.method === 'POST' && revoke) {
      const body = await readJsonBody(req, 4096);
      const parsed = body.ok ? revokeSchema.safeParse(body.value) : undefined;
      if (!parsed?.success) {
        sendControlJson(res, 400, { error: 'send {"by": "<who revokes>"}' });
        return;
      }
      const id = revoke[1] ?? '';
      const key = KEY_ID.test(id) ? await keys.get(id) : undefined;
      if (!key) {
        sendControlJson(res, 404, {
          code: 'no_such_key',
          error: `No remote key ${id}: run \`mcp-valet keys list --remote\` to see the key IDs`,
        });
        return;
      }
      const wasRevoked = key.revokedAt !== undefined;
      await revokeRemoteKey({ ...deps.core, keys, logger: deps.logger }, key, parsed.data.by);
      sendControlJson(res, 200, { key: (await keys.get(id)) ?? key, alreadyRevoked: wasRevoked });
      return;
    }
    sendControlJson(res, 404, { error: 'no such control route' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(port);
  const url = `http://127.0.0.1:${port}`;
  const file = join(deps.dataDir, REMOTE_CONTROL_FILE);
  const info: RemoteControlInfo = {
    url,
    token,
    pid: process.pid,
    instanceId: deps.instanceId,
    publicUrl: deps.publicUrl,
  };
  try {
    await writeFileAtomic(file, `${JSON.stringify(info)}\n`);
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    url,
    close: async () => {
      // Another instance may have taken the file over since: only this run's is removed.
      const current = await readRemoteControl(deps.dataDir).catch(() => undefined);
      if (current?.pid === process.pid && current.url === url) await rm(file, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The control file of the instance running on `dataDir`, or undefined when there is none. */
export async function readRemoteControl(dataDir: string): Promise<RemoteControlInfo | undefined> {
  const text = await readFileIfExists(join(dataDir, REMOTE_CONTROL_FILE));
  if (text === undefined) return undefined;
  try {
    const parsed = controlFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
