import type { AuthenticationResult, PublicClientApplication } from '@azure/msal-node';
import { describeError, ValetError } from '../util/valet-error.ts';
import type { AccountSummary, DeviceCodePrompt, SignInMethod } from './auth-types.ts';

/** How to sign in. Everything is optional: the default is broker → browser → device code. */
export interface SignInOptions {
  method?: 'auto' | SignInMethod;
  /** Scopes to consent to now, in addition to User.Read. */
  scopes?: string[];
  /** The native window handle that parents the broker's prompt (Electron's getNativeWindowHandle()). */
  windowHandle?: Buffer;
  /** Pre-fills the username, e.g. when adding consent for an existing account. */
  loginHint?: string;
  /** false: never launch a browser, only hand the URL to onBrowserUrl (`--no-open`). */
  openBrowser?: boolean;
  /** The OS broker's prompt is about to show. */
  onBroker?: () => void;
  /** The sign-in page's URL, before the system browser is asked to open it. */
  onBrowserUrl?: (url: string) => void;
  /** A device code for the person to enter, once the identity provider has issued it. */
  onDeviceCode?: (prompt: DeviceCodePrompt) => void;
  /** Cancels a browser or device code sign-in in progress. */
  signal?: AbortSignal;
}

/** The account that signed in, and how. */
export interface SignInResult {
  account: AccountSummary;
  method: SignInMethod;
  scopes: string[];
}

interface Flow {
  pca: PublicClientApplication;
  brokerPca: PublicClientApplication | undefined;
  brokerReason: string | undefined;
  scopes: string[];
  options: SignInOptions;
  openBrowser: ((url: string) => Promise<void>) | undefined;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  onBrokerFallback: (reason: string) => void;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:system-ui;margin:3rem"><h1>${title}</h1><p>${text}</p></body></html>`;
const SUCCESS_PAGE = PAGE(
  'Signed in to MCP Valet',
  'You can close this tab and return to MCP Valet.',
);
const ERROR_PAGE = PAGE(
  'Sign-in did not finish',
  'Return to MCP Valet to see what went wrong and try again.',
);

/** Whether a browser can be shown on this machine (a desktop session, or Windows/macOS). */
export function canShowBrowser(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean {
  if (platform === 'win32' || platform === 'darwin') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.WSL_DISTRO_NAME);
}

/** Runs the interactive order: broker (if available) → system browser → device code. */
export async function runInteractiveSignIn(
  flow: Flow,
): Promise<{ result: AuthenticationResult; method: SignInMethod }> {
  const { options } = flow;
  const method = options.method ?? 'auto';
  if (method === 'broker' || method === 'auto') {
    if (flow.brokerPca) {
      try {
        options.onBroker?.();
        const result = await flow.brokerPca.acquireTokenInteractive({
          scopes: flow.scopes,
          openBrowser: async () => {},
          ...(options.windowHandle ? { windowHandle: options.windowHandle } : {}),
          ...(options.loginHint ? { loginHint: options.loginHint } : {}),
        });
        return { result, method: 'broker' };
      } catch (err) {
        if (method === 'broker' || isCancellation(err)) throw err;
        flow.onBrokerFallback(describeError(err));
      }
    } else if (method === 'broker') {
      throw new ValetError(
        'broker_unavailable',
        `The OS broker is not available: ${flow.brokerReason ?? 'unknown reason'}`,
      );
    }
  }
  const printOnly = options.openBrowser === false;
  const browserPossible =
    printOnly || (flow.openBrowser !== undefined && canShowBrowser(flow.platform, flow.env));
  if (method === 'browser' || (method === 'auto' && browserPossible)) {
    try {
      return { result: await browserSignIn(flow, printOnly), method: 'browser' };
    } catch (err) {
      if (method === 'browser' || !(err instanceof BrowserLaunchError)) throw err;
    }
  }
  return { result: await deviceCodeSignIn(flow), method: 'device-code' };
}

class BrowserLaunchError extends ValetError {
  constructor(cause: unknown) {
    super(
      'browser_unavailable',
      `No browser could be opened (${describeError(cause)}): use \`mcp-valet login --device-code\` or \`--no-open\``,
      { cause },
    );
  }
}

async function browserSignIn(flow: Flow, printOnly: boolean): Promise<AuthenticationResult> {
  const { options } = flow;
  let authorizeUrl: string | undefined;
  const abort = () => {
    if (authorizeUrl) void cancelLoopback(authorizeUrl);
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await flow.pca.acquireTokenInteractive({
      scopes: flow.scopes,
      successTemplate: SUCCESS_PAGE,
      errorTemplate: ERROR_PAGE,
      ...(options.loginHint ? { loginHint: options.loginHint } : { prompt: 'select_account' }),
      openBrowser: async (url) => {
        authorizeUrl = url;
        options.onBrowserUrl?.(url);
        if (options.signal?.aborted) abort();
        if (printOnly) return;
        if (!flow.openBrowser) throw new BrowserLaunchError('no browser opener is configured');
        try {
          await flow.openBrowser(url);
        } catch (err) {
          throw new BrowserLaunchError(err);
        }
      },
    });
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

/**
 * Ends MSAL's loopback wait the way the identity provider would on "cancel": a form post
 * of `error=access_denied` with the request's own state, so MSAL closes its server.
 */
async function cancelLoopback(authorizeUrl: string): Promise<void> {
  const params = new URL(authorizeUrl).searchParams;
  const redirect = params.get('redirect_uri');
  const state = params.get('state');
  if (!redirect || !state) return;
  const body = new URLSearchParams({
    error: 'access_denied',
    error_description: 'Sign-in was cancelled in MCP Valet',
    state,
  });
  await fetch(redirect, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }).catch(() => undefined);
}

async function deviceCodeSignIn(flow: Flow): Promise<AuthenticationResult> {
  const { options } = flow;
  const request = {
    scopes: flow.scopes,
    cancel: false,
    deviceCodeCallback: (r: {
      verificationUri: string;
      userCode: string;
      message: string;
      expiresIn: number;
    }) =>
      options.onDeviceCode?.({
        verificationUri: r.verificationUri,
        userCode: r.userCode,
        message: r.message,
        expiresInSeconds: r.expiresIn,
      }),
  };
  const cancel = () => {
    request.cancel = true;
  };
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const result = await flow.pca.acquireTokenByDeviceCode(request);
    if (!result) throw new ValetError('cancelled', 'Sign-in was cancelled');
    return result;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
}

function isCancellation(err: unknown): boolean {
  const code = (err as { errorCode?: string }).errorCode;
  return code === 'user_canceled' || code === 'access_denied';
}
