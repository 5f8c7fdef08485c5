import { spawnCli, toCompletion, type CliProcess, type CliResult } from './cli.ts';

/** The `mcp-valet …` commands a text names between backticks, as a user would copy them. */
export function commandsIn(text: string): string[] {
  return [...text.matchAll(/`((?:[A-Z_]+=\S+ )*(?:npx )?mcp-valet(?: [^`]*)?)`/g)].map(
    (m) => m[1]!,
  );
}

/** A shell command line in words: whitespace splits, single or double quotes group. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/**
 * Starts a command as a user would type it in a shell: `[NAME=value …] [npx] mcp-valet args…`,
 * with the CLI under test standing for `mcp-valet` (npx runs the same entry point).
 */
export function spawnCommand(line: string, env: NodeJS.ProcessEnv): CliProcess {
  const words = shellWords(line);
  const withEnv = { ...env };
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=');
    withEnv[name!] = value.join('=');
  }
  if (words[0] === 'npx') words.shift();
  if (words.shift() !== 'mcp-valet') throw new Error(`not an mcp-valet command: ${line}`);
  return spawnCli(words, withEnv);
}

/** Runs a command as a user would type it (see spawnCommand) to completion. */
export async function runCommand(
  line: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<CliResult> {
  return toCompletion(spawnCommand(line, env), timeoutMs);
}
