import open from 'open';
import { canShowBrowser } from '../core/auth/sign-in.ts';

/**
 * Opens a URL in the user's browser. Fails when this machine shows none (SSH, CI), so the
 * caller prints the link instead. A launcher that cannot start only emits 'error' on its
 * child process, which would crash the CLI unhandled; it is logged through `onError`.
 */
export async function openInBrowser(
  url: string,
  env: NodeJS.ProcessEnv,
  onError: (message: string) => void = () => {},
): Promise<void> {
  if (!canShowBrowser(process.platform, env))
    throw new Error('no browser can be shown on this machine');
  const child = await open(url, { wait: false });
  child.on('error', (err) => onError(`the browser launcher failed: ${err.message}`));
  if (child.pid === undefined) throw new Error('the system browser launcher could not be started');
}
