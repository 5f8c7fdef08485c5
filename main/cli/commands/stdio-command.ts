import type { Command } from 'commander';
import { findInstance } from '../find-instance.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import { isLoopbackUrl, locateLocalEndpoint, proveEndpoint } from '../control-client.ts';
import { EXIT, Output, type CliIo } from '../output.ts';

/** Registers `stdio`: the bridge for stdio-only MCP clients. */
export function registerStdioCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('stdio')
    .description(
      'bridge a stdio MCP client (e.g. Claude Desktop) to the local endpoint; key from VALET_KEY, endpoint from the running instance (or VALET_URL, https, for a remote server)',
    )
    .action(async () => {
      // No --json here: stdout belongs to the MCP protocol.
      const out = new Output(io, false);
      try {
        const key = io.env.VALET_KEY?.trim();
        if (!key)
          throw new ValetError(
            'no_key',
            "VALET_KEY is not set: put a valet key from `mcp-valet keys create` in the client configuration's env",
          );
        const log = (line: string) => out.say(`mcp-valet stdio: ${line}`);
        const endpoint = await endpointFinder(io.env, log);
        const { runStdioBridge } = await import('../stdio-bridge.ts');
        await runStdioBridge({ endpoint, key, log });
      } catch (err) {
        setExit(out.fail(err));
        return;
      }
      setExit(EXIT.ok);
    });
}

/**
 * How the bridge finds, on every (re)connect, an endpoint it may send the valet key to.
 * A local endpoint is whatever endpoint.json in the data dir names now (a restart may move it
 * to another port), and it must prove it holds that run's control token first. A remote
 * server (VALET_URL, https) proves itself by its TLS certificate instead.
 */
async function endpointFinder(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<() => Promise<string>> {
  const explicit = env.VALET_URL?.trim();
  if (explicit) {
    if (!URL.canParse(explicit))
      throw new ValetError(
        'config_invalid',
        `VALET_URL is not a URL (got '${explicit}'): use https://<server>/mcp for a remote MCP Valet, or leave it out for the local one`,
      );
    const url = new URL(explicit);
    if (!isLoopbackUrl(url)) {
      if (url.protocol !== 'https:')
        throw new ValetError(
          'config_invalid',
          `VALET_URL must be https for a server on another machine (got ${url.origin}${url.pathname}): the valet key must not cross the network in clear`,
        );
      // A remote server has no endpoint.json here to prove itself with: TLS does that, as
      // fetch checks its certificate against the system's CAs (and NODE_EXTRA_CA_CERTS).
      return () => Promise.resolve(explicit);
    }
  }
  // The same search as every command: VALET_DATA_DIR, else the default dir, else the running demo's.
  const { dataDir, note } = await findInstance(env);
  if (note) log(note.replace(/^mcp-valet: /, ''));
  let noted = '';
  return async () => {
    const { url, controlToken } = await locateLocalEndpoint(dataDir);
    if (explicit && explicit !== url && noted !== url) {
      noted = url;
      log(`VALET_URL says ${explicit}, but MCP Valet runs at ${url} (endpoint.json): using ${url}`);
    }
    await proveEndpoint(url, controlToken);
    return url;
  };
}
