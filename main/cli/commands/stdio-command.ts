import type { Command } from 'commander';
import { loadConfig } from '../../core/config/load-config.ts';
import { readEndpointInfo } from '../../core/endpoint/endpoint-info.ts';
import { ValetError } from '../../core/util/valet-error.ts';
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
      'bridge a stdio MCP client (e.g. Claude Desktop) to the local endpoint; key from VALET_KEY, endpoint from VALET_URL or the running instance',
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
        const { runStdioBridge } = await import('../stdio-bridge.ts');
        await runStdioBridge({
          url: await endpointUrl(io.env),
          key,
          log: (line) => out.say(`mcp-valet stdio: ${line}`),
        });
      } catch (err) {
        setExit(out.fail(err));
        return;
      }
      setExit(EXIT.ok);
    });
}

async function endpointUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const explicit = env.VALET_URL?.trim();
  if (explicit) {
    if (!URL.canParse(explicit))
      throw new ValetError(
        'config_invalid',
        `VALET_URL is not a URL (got '${explicit}'): use http://127.0.0.1:<port>/mcp`,
      );
    return explicit;
  }
  const config = await loadConfig(env);
  const running = await readEndpointInfo(config.dataDir);
  return running?.url ?? `http://127.0.0.1:${config.port}/mcp`;
}
