import type { ToolName } from '../../mcp/tool-definition.ts';
import { escapeHtml } from '../web/pages.ts';

/** One tool as the consent page lists it. */
export interface ConsentTool {
  name: ToolName;
  title: string;
  kind: 'read' | 'write';
  checked: boolean;
  /** The client asked for it (by scope) beyond what the user granted before. */
  requested: boolean;
}

/** Everything the consent page shows; client-supplied strings are escaped when rendered. */
export interface ConsentView {
  /** Where the form posts: this page's path under the public URL (`/team/consent/<id>`). */
  action: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  localhostOnly: boolean;
  tools: ConsentTool[];
  readOnly: boolean;
  account: { name: string; username: string };
  /** The nonce of the page's one inline style, as the CSP header names it. */
  styleNonce: string;
  /** A line to show above the form (a choice that could not be taken). */
  notice?: string;
}

/**
 * The consent page: which client (its name, ID and the host its redirect goes to, with a warning
 * when that is only this computer), which account, and which tools; read tools start checked,
 * write tools are opt-in. The form carries the session's CSRF token.
 */
export function renderConsentPage(view: ConsentView): string {
  const e = escapeHtml;
  const tools = view.tools
    .map(
      (
        t,
      ) => `      <li><label><input type="checkbox" name="tools" value="${e(t.name)}"${t.checked ? ' checked' : ''}>
        ${e(t.title)} <code>${e(t.name)}</code>${t.kind === 'write' ? ' <strong>(writes: sends or creates as you)</strong>' : ''}${t.requested ? ' <em>requested</em>' : ''}</label></li>`,
    )
    .join('\n');
  const warning = view.localhostOnly
    ? `\n    <p class="warn" id="localhost-warning">This client redirects only to this computer (${e(view.redirectHost)}). Allow it only if you started it yourself just now.</p>`
    : '';
  const notice = view.notice ? `\n    <p class="warn" id="notice">${e(view.notice)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Allow ${e(view.clientName)} to use MCP Valet?</title>
  <style nonce="${e(view.styleNonce)}">
    body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
    .warn { background: #fff3cd; border: 1px solid #e0c36a; padding: .5rem .75rem; }
    ul { list-style: none; padding: 0; } li { margin: .35rem 0; }
    button { font-size: 1rem; padding: .4rem 1.2rem; margin-right: .5rem; }
  </style>
</head>
<body>
  <main>
    <h1>Allow <span id="client-name">${e(view.clientName)}</span> to use MCP Valet?</h1>
    <p>It will act as <strong id="account">${e(view.account.name)}</strong> (${e(view.account.username)}) through the tools you allow below.</p>
    <p>After you decide, your browser goes back to <strong id="redirect-host">${e(view.redirectHost)}</strong>.</p>
    <p>Client ID: <code id="client-id">${e(view.clientId)}</code></p>${warning}${notice}
    <form method="post" action="${e(view.action)}">
      <input type="hidden" name="csrf" value="${e(view.csrf)}">
      <fieldset>
        <legend>Tools</legend>
        <ul>
${tools}
        </ul>
        <label><input type="checkbox" name="readOnly" value="1" id="read-only"${view.readOnly ? ' checked' : ''}> Read only: never send or create anything</label>
      </fieldset>
      <p>
        <button type="submit" id="allow" name="decision" value="allow">Allow</button>
        <button type="submit" id="deny" name="decision" value="deny">Deny</button>
      </p>
    </form>
  </main>
</body>
</html>
`;
}
