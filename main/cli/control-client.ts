import { randomBytes, timingSafeEqual } from 'node:crypto';
import { endpointProof } from '../core/endpoint/control-api.ts';
import { readEndpointInfo } from '../core/endpoint/endpoint-info.ts';
import { ValetError } from '../core/util/valet-error.ts';
import { STAMP_MAX_AGE_MS } from '../core/util/watched-stamp.ts';

/** Calls the running MCP Valet's control API with the control token from endpoint.json. */
export async function callControl<T>(
  dataDir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const running = await readEndpointInfo(dataDir);
  if (!running?.controlToken) {
    throw new ValetError(
      'not_running',
      'No MCP Valet is running: approvals live in the running server; start the app or `mcp-valet serve`',
    );
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, running.url), {
      method,
      headers: {
        authorization: `Bearer ${running.controlToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ValetError(
      'not_running',
      `MCP Valet at ${running.url} does not answer: is it still running?`,
    );
  }
  const json = (await response.json().catch(() => ({}))) as T & { error?: string; code?: string };
  if (!response.ok)
    throw new ValetError(
      json.code ?? 'control_failed',
      json.error ?? `MCP Valet answered HTTP ${response.status}`,
    );
  return json;
}

/**
 * Tells the MCP Valet running on this data dir (if one does) that keys.json changed, and which
 * key was revoked, so it refuses that key from its very next request. Resolves once the server
 * has read the file again; when it cannot be told (it does not answer, or is too old to have
 * the route), once STAMP_MAX_AGE_MS has passed, after which its next check reads the file anyway.
 */
export async function announceKeysChanged(dataDir: string, revoked?: string): Promise<void> {
  const running = await readEndpointInfo(dataDir);
  if (!running?.controlToken) return;
  const started = performance.now();
  try {
    const response = await fetch(new URL('/control/keys/changed', running.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${running.controlToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(revoked === undefined ? {} : { revoked }),
      redirect: 'manual',
      signal: AbortSignal.timeout(2000),
    });
    await response.body?.cancel();
    if (response.ok) return;
  } catch {
    // Not told: wait below.
  }
  const left = STAMP_MAX_AGE_MS + 20 - (performance.now() - started);
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}

const NOT_RUNNING_HINT = 'start the app or `mcp-valet serve`';

/** Whether a URL names this machine, where MCP Valet proves itself instead of relying on TLS. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The running MCP Valet's endpoint and control token, from endpoint.json in the data dir.
 * Only a record naming http://127.0.0.1:<port> is taken: that is where the endpoint listens,
 * and the address its proof is bound to.
 */
export async function locateLocalEndpoint(
  dataDir: string,
): Promise<{ url: string; controlToken: string }> {
  const running = await readEndpointInfo(dataDir);
  if (!running)
    throw new ValetError(
      'not_running',
      `MCP Valet is not running (no endpoint.json in ${dataDir}): ${NOT_RUNNING_HINT}; if it runs with another data directory, set VALET_DATA_DIR`,
    );
  const url = URL.canParse(running.url) ? new URL(running.url) : undefined;
  if (!url || url.protocol !== 'http:' || url.hostname !== '127.0.0.1' || !url.port)
    throw new ValetError(
      'endpoint_unproven',
      `Refused to send the valet key to ${running.url}: endpoint.json in ${dataDir} does not name a local MCP Valet endpoint; restart MCP Valet (${NOT_RUNNING_HINT})`,
    );
  if (!running.controlToken)
    throw unproven(running.url, 'endpoint.json has no control token to check it with');
  return { url: running.url, controlToken: running.controlToken };
}

/**
 * Checks that the server at `url` (http://127.0.0.1:<port>/…) holds this run's control token
 * before anything secret goes there: it must answer a fresh nonce with the HMAC that only the
 * token's holder, listening on that very port, can compute. Neither the token nor a valet key
 * is sent.
 */
export async function proveEndpoint(
  url: string,
  controlToken: string,
  timeoutMs = 5000,
): Promise<void> {
  const target = new URL(url);
  const nonce = randomBytes(32).toString('base64url');
  let response: Response;
  try {
    response = await fetch(new URL('/control/proof', target), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (refused(err))
      throw new ValetError(
        'not_running',
        `MCP Valet is not running at ${url}: ${NOT_RUNNING_HINT}`,
      );
    throw unproven(url, 'it did not answer the check');
  }
  const answer = (await response.json().catch(() => undefined)) as { proof?: unknown } | undefined;
  const expected = Buffer.from(
    endpointProof(controlToken, nonce, target.hostname, Number(target.port)),
  );
  const proof = Buffer.from(typeof answer?.proof === 'string' ? answer.proof : '');
  if (!response.ok || proof.length !== expected.length || !timingSafeEqual(proof, expected))
    throw unproven(
      url,
      'it did not prove it is your MCP Valet (another program may be using its port)',
    );
}

function unproven(url: string, why: string): ValetError {
  return new ValetError(
    'endpoint_unproven',
    `Refused to send the valet key to ${url}: ${why}; restart MCP Valet (${NOT_RUNNING_HINT})`,
  );
}

/** Whether a fetch failed because nothing listens there (ECONNREFUSED anywhere in its causes). */
export function refused(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause)
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
  return false;
}
