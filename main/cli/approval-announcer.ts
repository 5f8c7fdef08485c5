import type { PendingApproval } from '../core/approvals/approval-service.ts';
import type { ValetCore } from '../core/app/valet-core.ts';
import { describeError } from '../core/util/valet-error.ts';
import { commandFor } from './find-instance.ts';
import type { Output } from './output.ts';

/**
 * The prompt's lines shown in the terminal: who gets it and what it is called, as the prompt
 * marks them. Never the body, a description or its links: the terminal may be shared or logged.
 */
const SHOWN = new Set(['To', 'Cc', 'Bcc', 'Invites', 'Subject', 'When']);

/** Where the serving process is, so that the decision commands reach it. */
export interface AnnounceOptions {
  /** The environment the server was started with (npx, VALET_DATA_DIR). */
  env: NodeJS.ProcessEnv;
  /** A new one-use link to the window, when it is served (`--ui`). */
  windowLink?: () => string | undefined;
}

/**
 * Announces each call that waits for approval on the terminal of `serve` or `demo`: what it
 * is, the exact commands that approve or deny it, and the window's link when there is one;
 * then how it ended. Under --json, as `approval_pending` and `approval_ended` events.
 */
export function announceApprovals(core: ValetCore, out: Output, options: AnnounceOptions): void {
  core.approvals.on('approval-requested', (approval) => {
    void announce(core, out, options, approval).catch((err: unknown) =>
      core.logger.error(`could not announce approval ${approval.id}: ${describeError(err)}`),
    );
  });
  core.approvals.on('approval-decided', (decided) => {
    out.event({
      event: 'approval_ended',
      id: decided.id,
      tool: decided.tool,
      outcome: decided.outcome,
    });
    out.say(`Approval ${decided.id} (${decided.tool}): ${OUTCOME[decided.outcome]}.`);
  });
}

const OUTCOME = {
  approved: 'approved once',
  'approved-by-window': 'approved for a while',
  denied: 'denied',
  'timed-out': 'nobody decided in time, so it was denied',
  cancelled: 'the client gave up waiting',
} as const;

async function announce(
  core: ValetCore,
  out: Output,
  options: AnnounceOptions,
  approval: PendingApproval,
): Promise<void> {
  const { dataDir } = core.config;
  const approve = await commandFor(`approvals approve ${approval.id}`, dataDir, options.env);
  const deny = await commandFor(`approvals deny ${approval.id}`, dataDir, options.env);
  const list = await commandFor('approvals list', dataDir, options.env);
  const window = options.windowLink?.();
  const shown = approval.summary.filter((line) => SHOWN.has(line.label));
  out.event({
    event: 'approval_pending',
    id: approval.id,
    tool: approval.tool,
    action: approval.action,
    key: approval.key.name,
    client: approval.client,
    account: approval.account,
    summary: shown,
    expires_at: approval.expiresAt,
    approve,
    deny,
    ...(window ? { ui_url: window } : {}),
  });
  const client = approval.client ? ` (${approval.client.name} ${approval.client.version})` : '';
  out.say('');
  out.say(`Approval needed: ${approval.action} (${approval.tool}) as ${approval.account}`);
  out.say(`  asked by key '${approval.key.name}'${client}; id ${approval.id}`);
  for (const line of shown) out.say(`  ${line.label.padEnd(8)} ${line.value}`);
  out.say(`  approve:  ${approve}`);
  out.say(`  deny:     ${deny}`);
  if (window) out.say(`  or in the window: ${window} (opens it once, within 10 minutes)`);
  out.say(`  (\`${list}\` shows all of it; no decision by ${approval.expiresAt} is a deny.)`);
  out.say('');
}
