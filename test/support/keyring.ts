import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private D-Bus session with an unlocked gnome-keyring, for processes the test starts. */
export interface Keyring {
  /** Environment for a child process to reach this keyring. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts `dbus-run-session` with gnome-keyring's Secret Service unlocked by a password on
 * stdin, in a fresh XDG_DATA_HOME (an existing login keyring with another password would
 * make gnome-keyring prompt, which fails headless). Throws naming the Debian packages when
 * they are missing, rather than skipping.
 */
export async function startKeyring(): Promise<Keyring> {
  const dataHome = await mkdtemp(join(tmpdir(), 'valet-keyring-'));
  const script = [
    'echo -n valet-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || exit 3',
    'echo "BUS=$DBUS_SESSION_BUS_ADDRESS"',
    'exec sleep 3600',
  ].join('; ');
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', script], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_DATA_HOME: dataHome },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const bus = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('error', (err) =>
      reject(
        new Error(
          `cannot start dbus-run-session (${err.message}): install the Debian packages dbus and gnome-keyring`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(
        new Error(`the keyring session ended early (exit ${code}): is gnome-keyring installed?`),
      ),
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /BUS=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
  });
  return {
    env: { DBUS_SESSION_BUS_ADDRESS: bus, XDG_DATA_HOME: dataHome },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // The whole group: dbus-daemon, gnome-keyring-daemon and sleep.
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}
