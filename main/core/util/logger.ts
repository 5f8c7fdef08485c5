/** Log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the core writes diagnostics. Never given tokens, keys or message bodies. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * A logger that writes one line per message to stderr (stdout carries protocol and
 * `--json` output). The level comes from VALET_LOG_LEVEL; the default is warn.
 */
export function createStderrLogger(
  level: string | undefined = process.env.VALET_LOG_LEVEL,
  prefix = 'mcp-valet',
): Logger {
  const min = Math.max(0, LOG_LEVELS.indexOf((level ?? 'warn') as LogLevel));
  const write = (lvl: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(lvl) >= min) process.stderr.write(`${prefix} ${lvl}: ${message}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that drops everything, for tests and quiet commands. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
