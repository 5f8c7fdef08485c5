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

/**
 * How the Clients view fits a team server: its keys are made by MCP clients through the
 * server's consent page, never here, so there is no form (nor account picker); each key shows
 * its OAuth client ID and when it was made, and, for an admin who sees every user's, whose it is.
 */
export interface TeamServerClients {
  showUsers: boolean;
}

/** The valet keys: who may call which tools as whom; create and revoke them. */
export function ClientsView({ teamServer }: { teamServer?: TeamServerClients }) {
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
    if (teamServer) return;
    // The account picker is a convenience: without the list the key gets the active account.
    api.listAccounts({}).then(setAccounts, () => setAccounts([]));
  }, [api, teamServer]);
  const onCreated = (result: NewKeyDto) => {
    setCreated(result);
    setKeys((list) => [...(list ?? []).filter((k) => k.id !== result.key.id), result.key]);
  };
  const onRevoked = (key: KeyDto) =>
    setKeys((list) => (list ?? []).map((k) => (k.id === key.id ? key : k)));
  if (teamServer)
    return (
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">
          {teamServer.showUsers ? 'Every user’s MCP clients' : 'Your MCP clients'}
        </h2>
        <ErrorText error={loadError} />
        <ListTable
          caption="MCP clients, each with the access its user gave it"
          columns={[
            'Name',
            'Client ID',
            ...(teamServer.showUsers ? ['User'] : []),
            'Tools',
            'Created',
            'Last used',
            'Status',
            'Actions',
          ]}
          items={keys}
          empty="No MCP client has been given access yet."
          row={(k) => (
            <KeyRow key={k.id} valetKey={k} onRevoked={onRevoked} teamServer={teamServer} />
          )}
        />
      </section>
    );
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
  teamServer,
}: {
  valetKey: KeyDto;
  onRevoked: (key: KeyDto) => void;
  teamServer?: TeamServerClients;
}) {
  const api = useApi();
  return (
    <tr className={k.revokedAt ? 'revoked' : undefined}>
      <th scope="row">
        {k.name}
        {k.readOnly && <span className="tag"> read-only</span>}
      </th>
      {teamServer && (
        <td>
          <code>{k.clientId ?? ''}</code>
        </td>
      )}
      {teamServer?.showUsers && <td>{k.account?.username}</td>}
      <td>{k.tools.join(', ')}</td>
      {teamServer ? (
        <td>{formatTime(k.createdAt)}</td>
      ) : (
        <td>{k.account?.username ?? 'The active account'}</td>
      )}
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
