// Server-rendered pages of the IdP. No scripts, no external resources: they must work
// offline and under any CSP, and every control has a visible label for screen readers
// and for the browser tests that find controls by label.

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{font-weight:600;color:#505050;margin:0 0 16px}
h1{font-size:1.5rem;font-weight:600;margin:0 0 16px}
label{display:block;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;font-size:1rem;border:1px solid #666}
.actions{display:flex;gap:8px;justify-content:flex-end;margin-top:24px}
button{padding:8px 20px;font-size:1rem;border:1px solid #0067b8;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1b1b1b;border-color:#8c8c8c}
.error{color:#a4262c}
ul.scopes{padding-left:20px}
.code{font-family:ui-monospace,monospace;font-size:1.4rem;letter-spacing:.1em}
.muted{color:#505050;font-size:.9rem}`;

/** Wraps page content in the IdP's layout. */
export function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Contoso test sign-in</p>
${content}
</main>
</body>
</html>`;
}

function errorLine(error: string | undefined): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

/** The username and password form. */
export function signInPage(input: {
  action: string;
  appName: string;
  username?: string;
  error?: string;
}): string {
  return page(
    'Sign in to your account',
    `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(input.appName)}</p>
${errorLine(input.error)}
<form method="post" action="${escapeHtml(input.action)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(input.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  );
}

/** One requested permission on the consent page. */
export interface ConsentItem {
  scope: string;
  description: string;
}

/** Lists the permissions the app asks for, with Accept and Cancel. */
export function consentPage(input: {
  action: string;
  appName: string;
  username: string;
  items: readonly ConsentItem[];
}): string {
  const items = input.items
    .map(
      (item) =>
        `<li data-scope="${escapeHtml(item.scope)}">${escapeHtml(item.description)} <span class="muted">(${escapeHtml(item.scope)})</span></li>`,
    )
    .join('\n');
  return page(
    'Permissions requested',
    `<p class="muted">${escapeHtml(input.username)}</p>
<h1>Permissions requested</h1>
<p><strong>${escapeHtml(input.appName)}</strong> would like to:</p>
<ul class="scopes" aria-label="Requested permissions">
${items}
</ul>
<p class="muted">Accepting allows this app to use your data as described. You can change these permissions later.</p>
<form method="post" action="${escapeHtml(input.action)}">
<div class="actions">
<button type="submit" class="secondary" name="decision" value="cancel">Cancel</button>
<button type="submit" name="decision" value="accept">Accept</button>
</div>
</form>`,
  );
}

/** Where the user types the device code; `form` is oidc-provider's form with its CSRF token. */
export function deviceCodeEntryPage(form: string, error?: string): string {
  // oidc-provider's input has no id; give it one so that the label below belongs to it.
  const labelled = form.replace('name="user_code"', 'id="user_code" name="user_code"');
  return page(
    'Enter code',
    `<h1>Enter code</h1>
${errorLine(error)}
<label for="user_code">Code</label>
${labelled}
<p class="muted">Enter the code displayed on your app or device.</p>
<div class="actions"><button type="submit" form="op.deviceInputForm">Next</button></div>`,
  );
}

/** Asks the user to confirm the device sign-in; `form` is oidc-provider's confirm form. */
export function deviceConfirmPage(form: string, appName: string, userCode: string): string {
  return page(
    'Confirm sign-in',
    `<h1>Are you trying to sign in to ${escapeHtml(appName)}?</h1>
<p>Code: <span class="code">${escapeHtml(userCode)}</span></p>
<p class="muted">Only continue if you started this sign-in and the code matches the one on your device.</p>
${form}
<div class="actions">
<button type="submit" class="secondary" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button>
<button type="submit" form="op.deviceConfirmForm">Continue</button>
</div>`,
  );
}

/** Shown in the browser once a device sign-in completed. */
export function deviceSuccessPage(appName: string): string {
  return page(
    'Signed in',
    `<h1>${escapeHtml(appName)}</h1>
<p role="status">You have signed in to the ${escapeHtml(appName)} application on your device. You may now close this window.</p>`,
  );
}

/** Shown when the user cancelled a device sign-in. */
export function deviceCancelledPage(): string {
  return page(
    'Sign-in cancelled',
    `<h1>Sign-in cancelled</h1><p role="status">The sign-in request was cancelled. You may close this window.</p>`,
  );
}

/** Shown for errors that cannot be sent back to the app. */
export function errorPage(error: string, description: string | undefined): string {
  return page(
    'Sign-in error',
    `<h1>Something went wrong</h1>
<p class="error" role="alert">${escapeHtml(error)}</p>
${description ? `<p>${escapeHtml(description)}</p>` : ''}`,
  );
}

/** Asks whether to sign out; `form` is oidc-provider's logout form. */
export function signOutPage(form: string): string {
  return page(
    'Sign out',
    `<h1>Sign out?</h1>
${form}
<div class="actions">
<button type="submit" class="secondary" form="op.logoutForm">Stay signed in</button>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
</div>`,
  );
}

/** Shown after signing out. */
export function signedOutPage(): string {
  return page(
    'Signed out',
    `<h1>You signed out of your account</h1><p>It's a good idea to close all browser windows.</p>`,
  );
}
