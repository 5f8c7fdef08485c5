import { useCallback, useEffect, useState } from 'react';
import type { AccountDto, KeyDto, NewKeyDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { formatTime } from '../format.ts';
import { useLoaded } from '../hooks/use-loaded.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorText } from '../components/error-text.tsx';
import { ListTable } from '../components/list-table.tsx';
import { CreateKeyForm } from './create-key-form.tsx';
import { NewKeySecret } from './new-key-secret.tsx';

/** The valet keys: who may call which tools as whom; create and revoke them. */
export function ClientsView() {
  const api = useApi();
  const {
    data: keys,
    setData: setKeys,
    error: loadError,
  } = useLoaded(useCallback(() => api.listKeys({}), [api]));
  const [accounts, setAccounts] = useState<AccountDto[]>([]);
  // The only place a secret lives in the window: gone on "Done" or when the view closes.
  const [created, setCreated] = useState<NewKeyDto | null>(null);
  useEffect(() => {
    // The account picker is a convenience: without the list the key gets the active account.
    api.listAccounts({}).then(setAccounts, () => setAccounts([]));
  }, [api]);
  const onCreated = (result: NewKeyDto) => {
    setCreated(result);
    setKeys((list) => [...(list ?? []).filter((k) => k.id !== result.key.id), result.key]);
  };
  const onRevoked = (key: KeyDto) =>
    setKeys((list) => (list ?? []).map((k) => (k.id === key.id ? key : k)));
  return (
    <>
      {created ? (
        <NewKeySecret created={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateKeyForm accounts={accounts} onCreated={onCreated} />
      )}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Valet keys</h2>
        <ErrorText error={loadError} />
        <ListTable
          caption="Valet keys, one per client"
          columns={['Name', 'Tools', 'Account', 'Last used', 'Status', 'Actions']}
          items={keys}
          empty="No keys yet: create one for each MCP client."
          row={(k) => <KeyRow key={k.id} valetKey={k} onRevoked={onRevoked} />}
        />
      </section>
    </>
  );
}

function KeyRow({
  valetKey: k,
  onRevoked,
}: {
  valetKey: KeyDto;
  onRevoked: (key: KeyDto) => void;
}) {
  const api = useApi();
  return (
    <tr className={k.revokedAt ? 'revoked' : undefined}>
      <th scope="row">
        {k.name}
        {k.readOnly && <span className="tag"> read-only</span>}
      </th>
      <td>{k.tools.join(', ')}</td>
      <td>{k.account?.username ?? 'The active account'}</td>
      <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never'}</td>
      <td>{k.revokedAt ? `Revoked ${formatTime(k.revokedAt)}` : 'Active'}</td>
      <td>
        {!k.revokedAt && (
          <ConfirmButton
            text="Revoke"
            label={`Revoke ${k.name}`}
            question={`Revoke “${k.name}”? Its client is refused from its next request on, even mid-session. This cannot be undone.`}
            confirmText="Revoke key"
            onConfirm={async () => onRevoked(await api.revokeKey({ id: k.id }))}
          />
        )}
      </td>
    </tr>
  );
}
