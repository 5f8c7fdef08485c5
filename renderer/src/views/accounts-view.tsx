import { useCallback } from 'react';
import type { AccountDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useLoaded } from '../hooks/use-loaded.ts';
import { useAppEvents } from '../hooks/use-app-events.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorText } from '../components/error-text.tsx';
import { ListTable } from '../components/list-table.tsx';
import { SignInPanel } from './sign-in-panel.tsx';

/** The cached accounts: switch the active one, add and remove accounts. */
export function AccountsView({ refreshStatus }: { refreshStatus: () => Promise<void> }) {
  const api = useApi();
  const {
    data: accounts,
    error: loadError,
    reload: load,
  } = useLoaded(useCallback(() => api.listAccounts({}), [api]));
  useAppEvents((event) => {
    if (event.type === 'status-changed') void load();
  });
  const changed = async () => {
    await load();
    await refreshStatus();
  };
  return (
    <>
      <ErrorText error={loadError} />
      <ListTable
        caption="Accounts signed in on this computer"
        columns={['Username', 'Name', 'Tenant', 'Signed in', 'Actions']}
        items={accounts}
        empty="No accounts are signed in on this computer."
        row={(a) => <AccountRow key={a.homeAccountId} account={a} onChanged={changed} />}
      />
      <section aria-labelledby="accounts-add">
        <h2 id="accounts-add">Add an account</h2>
        <p className="muted">Sign in with another work account; it becomes the active one.</p>
        <SignInPanel label="Add account" />
      </section>
    </>
  );
}

function AccountRow({
  account,
  onChanged,
}: {
  account: AccountDto;
  onChanged: () => Promise<void>;
}) {
  const api = useApi();
  const use = useAction();
  return (
    <tr aria-current={account.active ? 'true' : undefined}>
      <th scope="row">
        {account.username}
        {account.active && <span className="tag"> Active</span>}
      </th>
      <td>{account.name ?? '—'}</td>
      <td>{account.tenantId}</td>
      <td>{account.viaBroker ? 'Via broker' : 'Via browser'}</td>
      <td>
        <div className="actions">
          {!account.active && (
            <button
              type="button"
              className="button"
              aria-label={`Switch to ${account.username}`}
              disabled={use.pending}
              onClick={() =>
                void use.run(async () => {
                  await api.useAccount({ account: account.homeAccountId });
                  await onChanged();
                })
              }
            >
              Switch
            </button>
          )}
          <ConfirmButton
            text="Remove"
            label={`Remove ${account.username}`}
            question={`Remove ${account.username} from MCP Valet? Its cached tokens are deleted, and valet keys that act as it stop working until it signs in again.`}
            confirmText="Remove account"
            onConfirm={async () => {
              await api.signOut({ account: account.homeAccountId });
              await onChanged();
            }}
          />
        </div>
        <ErrorText error={use.error} />
      </td>
    </tr>
  );
}
