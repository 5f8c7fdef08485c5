import type { KoaContextWithOIDC } from 'oidc-provider';
import { DEMO_APP_NAME } from './directory.ts';
import {
  deviceCancelledPage,
  deviceCodeEntryPage,
  deviceConfirmPage,
  deviceSuccessPage,
  errorPage,
  signOutPage,
  signedOutPage,
} from './pages.ts';

function html(ctx: KoaContextWithOIDC, body: string): void {
  ctx.type = 'html';
  ctx.body = body;
}

function appName(ctx: KoaContextWithOIDC): string {
  return ctx.oidc.client?.clientName ?? DEMO_APP_NAME;
}

/** The device code pages oidc-provider renders through its `deviceFlow` hooks. */
export const deviceFlowPages = {
  userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: Error): void {
    if (err?.name === 'AbortedError') {
      html(ctx, deviceCancelledPage());
      return;
    }
    const wrongCode = err && ('userCode' in err || err.name === 'NoCodeError');
    let message: string | undefined;
    if (wrongCode) message = "That code didn't work. Check the code and try again.";
    else if (err)
      message =
        'This code has expired or was already used. Start the sign-in on your device again.';
    html(ctx, deviceCodeEntryPage(form, message));
  },
  userCodeConfirmSource(
    ctx: KoaContextWithOIDC,
    form: string,
    client: { clientName?: string | undefined; clientId: string },
    _deviceInfo: unknown,
    userCode: string,
  ): void {
    html(ctx, deviceConfirmPage(form, client.clientName ?? client.clientId, userCode));
  },
  successSource(ctx: KoaContextWithOIDC): void {
    html(ctx, deviceSuccessPage(appName(ctx)));
  },
};

/** The sign-out pages of the logout endpoint. */
export const signOutPages = {
  logoutSource(ctx: KoaContextWithOIDC, form: string): void {
    html(ctx, signOutPage(form));
  },
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
    html(ctx, signedOutPage());
  },
};

/** Renders errors that cannot be returned to the client, e.g. a bad redirect_uri. */
export function errorPageFor(
  ctx: KoaContextWithOIDC,
  out: { error: string; error_description?: string | undefined },
): void {
  html(ctx, errorPage(out.error, out.error_description));
}
