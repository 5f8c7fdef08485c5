import {
  closeSync,
  constants,
  fstatSync,
  fchmodSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LOG_LEVELS, silentLogger, type Logger, type LogLevel } from './logger.ts';

/** The diagnostics log's folder inside the data dir. */
export const DIAGNOSTICS_DIR = 'logs';
/** The diagnostics log's file name; rotated files are diagnostics.1.log, .2.log, … */
export const DIAGNOSTICS_FILE = 'diagnostics.log';

/** Where the diagnostics log of a data dir is. */
export function diagnosticsLogPath(dataDir: string): string {
  return join(dataDir, DIAGNOSTICS_DIR, DIAGNOSTICS_FILE);
}

/** How a file logger is set up. */
export interface FileLoggerOptions {
  /** The data dir; the log goes to `<dataDir>/logs/diagnostics.log`. */
  dataDir: string;
  /** The least severe level written; the default is info. */
  level?: string | undefined;
  /** The size at which the log rotates (1 MiB by default). */
  maxBytes?: number;
  /** How many rotated files are kept besides the current one (3 by default). */
  keep?: number;
  /** Another logger each line also goes to, such as stderr. */
  echo?: Logger;
  /** The clock for each line's time. */
  now?: () => Date;
}

/** A logger that keeps a rotated, owner-only diagnostics file. */
export interface FileLogger extends Logger {
  /** The current file. */
  readonly path: string;
  /** The last lines of the current file, oldest first (an empty list when there is none). */
  recent(lines?: number): Promise<string[]>;
  /** Closes the file; later lines go to the echo only. */
  close(): void;
}

// Secrets that must never reach the file even if a message carries one by mistake: valet
// keys, JWTs (access, ID and client assertion tokens), bearer credentials, and the OAuth and
// form fields that carry tokens, codes and secrets.
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\b(mvk_[0-9a-f]{12}_)[A-Za-z0-9_-]+/g, '$1[redacted]'],
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted token]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [
    /\b(access_token|refresh_token|id_token|client_secret|client_assertion|code|code_verifier|password|assertion)=[^&\s"']+/gi,
    '$1=[redacted]',
  ],
  [
    /"(access_token|refresh_token|id_token|client_secret|client_assertion|code|code_verifier|password|secret|assertion)"\s*:\s*"[^"]*"/gi,
    '"$1":"[redacted]"',
  ],
];

/**
 * A message as one safe line: secrets it carries by mistake are cut out, and line breaks and
 * other control characters are escaped so that no message can forge a line of its own.
 */
export function diagnosticLine(message: string): string {
  let line = message;
  for (const [pattern, replacement] of SECRET_PATTERNS) line = line.replace(pattern, replacement);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  return line.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const OPEN_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0);

/**
 * Opens the diagnostics log of a data dir: one line per message with its time and level,
 * owner-only (folder 0700, files 0600, a wider mode left by anything else is narrowed), and
 * rotated at `maxBytes` with `keep` older files. Writes are synchronous, so the lines before a
 * crash are on disk. The log never stops the app: when the file cannot be written, lines go
 * to the echo only, and the file is tried again at the next line.
 */
export function openFileLogger(options: FileLoggerOptions): FileLogger {
  const dir = join(options.dataDir, DIAGNOSTICS_DIR);
  const path = join(dir, DIAGNOSTICS_FILE);
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const keep = Math.max(1, options.keep ?? 3);
  const echo = options.echo ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const min = Math.max(0, LOG_LEVELS.indexOf((options.level ?? 'info') as LogLevel));
  let fd: number | undefined;
  let size = 0;
  let closed = false;
  let failed = false;

  const openFile = (): number => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const opened = openSync(path, OPEN_FLAGS, 0o600);
    try {
      if (process.platform !== 'win32') fchmodSync(opened, 0o600);
      size = fstatSync(opened).size;
    } catch (err) {
      closeSync(opened);
      throw err;
    }
    return opened;
  };
  const rotate = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    rmSync(join(dir, `diagnostics.${keep}.log`), { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      try {
        renameSync(join(dir, `diagnostics.${n}.log`), join(dir, `diagnostics.${n + 1}.log`));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(path, join(dir, 'diagnostics.1.log'));
  };
  const toFile = (text: string): void => {
    if (closed) return;
    try {
      fd ??= openFile();
      const bytes = Buffer.byteLength(text);
      if (size > 0 && size + bytes > maxBytes) {
        rotate();
        fd = openFile();
      }
      writeSync(fd, text);
      size += bytes;
      failed = false;
    } catch (err) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already unusable
        }
      }
      fd = undefined;
      // Said once per run of failures, on the echo: the file is what failed.
      if (!failed)
        echo.error(`cannot write the diagnostics log ${path}: ${(err as Error).message}`);
      failed = true;
    }
  };
  const write = (level: LogLevel) => (message: string) => {
    echo[level](message);
    if (LOG_LEVELS.indexOf(level) < min) return;
    toFile(`${now().toISOString()} ${level} ${diagnosticLine(message)}\n`);
  };

  return {
    path,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    async recent(lines = 50) {
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      try {
        const { size: total } = await handle.stat();
        // The tail of a file no larger than maxBytes: at most the last 64 KiB are read.
        const length = Math.min(total, 64 * 1024);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, total - length);
        const text = buffer.toString('utf8');
        const all = text.split('\n').filter(Boolean);
        // A read that starts mid-file starts mid-line: that first piece is not a whole line.
        if (length < total) all.shift();
        return all.slice(-lines);
      } finally {
        await handle.close();
      }
    },
    close() {
      closed = true;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
