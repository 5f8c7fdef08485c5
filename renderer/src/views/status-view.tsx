import type { StatusDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useNow } from '../hooks/use-now.ts';
import { formatList, formatTime, formatTimeLeft } from '../format.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorText } from '../components/error-text.tsx';
import { StatusTiles } from '../components/status-tiles.tsx';
import { DiagnosticsSection } from './diagnostics-section.tsx';
import { SignInPanel } from './sign-in-panel.tsx';

/** The home view: the state at a glance, then who is signed in, token freshness, broker, cache, endpoint and diagnostics. */
export function StatusView({
  status,
  refresh,
}: {
  status: StatusDto;
  refresh: () => Promise<void>;
}) {
  return (
    <>
      <StatusTiles status={status} />
      {status.demo && (
        <p className="note">
          Demo mode: a built-in tenant and Graph stand-in on this machine; no real data.
        </p>
      )}
      <AccountSection status={status} refresh={refresh} />
      <TokensSection status={status} />
      <EndpointSection endpoint={status.endpoint} />
      <SignInSystemSection status={status} />
      <DiagnosticsSection />
    </>
  );
}

function AccountSection({ status, refresh }: { status: StatusDto; refresh: () => Promise<void> }) {
  const api = useApi();
  const signOut = useAction();
  const { account, missingScopes } = status;
  return (
    <section aria-labelledby="status-account">
      <h2 id="status-account">Account</h2>
      {!account && (
        <div className="callout">
          <p>
            Nobody is signed in. Sign in with your work account so that your MCP clients can use
            Microsoft Graph as you.
          </p>
          <SignInPanel label="Sign in" />
        </div>
      )}
      {account && (
        <>
          <dl className="facts">
            <dt>Name</dt>
            <dd>{account.name ?? '—'}</dd>
            <dt>Username</dt>
            <dd>{account.username}</dd>
            <dt>Tenant</dt>
            <dd>{account.tenantId}</dd>
            {account.roles.length > 0 && (
              <>
                <dt>App roles</dt>
                <dd>{account.roles.join(', ')}</dd>
              </>
            )}
            <dt>Signed in</dt>
            <dd>{account.viaBroker ? 'Through the system broker' : 'Through the browser'}</dd>
          </dl>
          <div className="actions">
            <button
              type="button"
              className="button"
              disabled={signOut.pending}
              onClick={() =>
                void signOut.run(async () => {
                  await api.signOut({ account: account.homeAccountId });
                  await refresh();
                })
              }
            >
              Sign out
            </button>
          </div>
          <ErrorText error={signOut.error} />
        </>
      )}
      {account && missingScopes.length > 0 && (
        <div className="callout warning">
          <p>Some tools need permissions you have not granted yet: {formatList(missingScopes)}.</p>
          <SignInPanel label={`Grant ${missingScopes.join(', ')}`} scopes={missingScopes} />
        </div>
      )}
    </section>
  );
}

function TokensSection({ status }: { status: StatusDto }) {
  const now = useNow(1000);
  if (!status.account) return null;
  return (
    <section aria-labelledby="status-tokens">
      <h2 id="status-tokens">Tokens</h2>
      {status.tokens.length === 0 ? (
        <p className="muted">
          No cached access tokens yet: MCP Valet gets one when a tool needs it.
        </p>
      ) : (
        <table>
          <caption>Cached access tokens (the tokens themselves are never shown)</caption>
          <thead>
            <tr>
              <th scope="col">Permissions</th>
              <th scope="col">Expires</th>
              <th scope="col">Time left</th>
            </tr>
          </thead>
          <tbody>
            {status.tokens.map((t) => (
              <tr key={`${t.scopes.join(' ')}|${t.expiresOn}`}>
                <td>{t.scopes.join(', ')}</td>
                <td>{formatTime(t.expiresOn)}</td>
                <td>{t.expired ? 'expired' : formatTimeLeft(t.expiresOn, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function EndpointSection({ endpoint }: { endpoint: StatusDto['endpoint'] }) {
  return (
    <section aria-labelledby="status-endpoint">
      <h2 id="status-endpoint">MCP endpoint</h2>
      {endpoint.url ? (
        <p className="endpoint">
          <code>{endpoint.url}</code> <CopyButton text={endpoint.url} label="Copy endpoint URL" />
        </p>
      ) : (
        <p className="muted">No endpoint address yet.</p>
      )}
      <p>
        {endpoint.running ? 'Running: clients can connect.' : 'Stopped: clients cannot connect.'}
      </p>
    </section>
  );
}

function SignInSystemSection({ status }: { status: StatusDto }) {
  const { broker, cache } = status;
  // The demo signs in at its own tenant and forgets its tokens when it stops: neither the
  // broker nor a keyring has anything to do there, so they are not shown as problems.
  const demo = status.demo;
  return (
    <section aria-labelledby="status-system">
      <h2 id="status-system">Sign-in and token cache</h2>
      <dl className="facts">
        <dt>Broker</dt>
        <dd>
          {demo ? (
            'Not needed in the demo'
          ) : (
            <>
              {broker.available ? 'Available' : 'Not available'} (mode {broker.mode}):{' '}
              {broker.reason}
            </>
          )}
          {broker.lastFallback && (
            <>
              <br />
              Last fell back at {formatTime(broker.lastFallback.at)}: {broker.lastFallback.reason}
            </>
          )}
        </dd>
        <dt>Token cache</dt>
        <dd>
          {demo && !cache.protected ? (
            'Not needed in the demo'
          ) : (
            <>
              {cache.persisted ? 'Saved' : 'Not saved to disk'} ({cache.kind}): {cache.reason}
            </>
          )}
        </dd>
        <dt>Application (client) ID</dt>
        <dd>{status.clientId ?? '—'}</dd>
        <dt>Directory (tenant) ID</dt>
        <dd>{status.tenantId}</dd>
        <dt>Authority</dt>
        <dd>{status.authority}</dd>
      </dl>
    </section>
  );
}
