import { useState, type FormEvent } from 'react';
import {
  TOOL_NAMES,
  type AccountDto,
  type NewKeyDto,
  type ToolNameDto,
} from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { refusedField } from '../api/app-api-error.ts';
import { useAction } from '../hooks/use-action.ts';
import { ErrorText } from '../components/error-text.tsx';

/** The tools that change data: never on a read-only key, and not picked by default. */
export const WRITE_TOOLS: readonly ToolNameDto[] = ['send_mail', 'create_event'];
const READ_TOOLS = TOOL_NAMES.filter((t) => !WRITE_TOOLS.includes(t));

/** The form that creates a valet key. */
export function CreateKeyForm({
  accounts,
  onCreated,
}: {
  accounts: AccountDto[];
  onCreated: (created: NewKeyDto) => void;
}) {
  const api = useApi();
  const [name, setName] = useState('');
  const [tools, setTools] = useState<Set<ToolNameDto>>(() => new Set(READ_TOOLS));
  const [readOnly, setReadOnly] = useState(false);
  const [account, setAccount] = useState(() => accounts.find((a) => a.active)?.homeAccountId ?? '');
  const [invalid, setInvalid] = useState<string | null>(null);
  const create = useAction();
  // The account list may arrive after the form: default to the active account then.
  const chosenAccount = account || accounts.find((a) => a.active)?.homeAccountId || '';
  const toggle = (tool: ToolNameDto, on: boolean) =>
    setTools((current) => {
      const next = new Set(current);
      if (on) next.add(tool);
      else next.delete(tool);
      return next;
    });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const picked = TOOL_NAMES.filter((t) => tools.has(t) && !(readOnly && WRITE_TOOLS.includes(t)));
    const request = {
      name,
      tools: picked,
      readOnly,
      ...(chosenAccount ? { account: chosenAccount } : {}),
    };
    setInvalid(null);
    void create.run(async () => {
      let created: NewKeyDto;
      try {
        created = await api.createKey(request);
      } catch (err) {
        // The core checks the key; a refused name or tool list is explained here.
        if (refusedField(err, 'name'))
          setInvalid(
            'Give the key a name of 1 to 64 characters, for example the client it is for.',
          );
        else if (refusedField(err, 'tools')) setInvalid('Pick at least one tool.');
        else throw err;
        return;
      }
      setName('');
      onCreated(created);
    });
  };
  return (
    <form className="form" onSubmit={submit} noValidate aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create key</h2>
      <div className="field">
        <label htmlFor="key-name">Name</label>
        <input
          id="key-name"
          type="text"
          value={name}
          maxLength={64}
          autoComplete="off"
          onChange={(e) => setName(e.target.value)}
        />
        <p className="hint">One key per client, for example “vscode” or “claude”.</p>
      </div>
      <fieldset>
        <legend>Tools</legend>
        {TOOL_NAMES.map((tool) => {
          const write = WRITE_TOOLS.includes(tool);
          return (
            <label key={tool} className="check">
              <input
                type="checkbox"
                checked={tools.has(tool) && !(readOnly && write)}
                disabled={readOnly && write}
                onChange={(e) => toggle(tool, e.target.checked)}
              />
              {tool}
              {write && <span className="tag"> changes data, asks for approval</span>}
            </label>
          );
        })}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} />
        Read-only (can never call the tools that change data)
      </label>
      {accounts.length > 0 && (
        <div className="field">
          <label htmlFor="key-account">Account</label>
          <select
            id="key-account"
            value={chosenAccount}
            onChange={(e) => setAccount(e.target.value)}
          >
            {accounts.map((a) => (
              <option key={a.homeAccountId} value={a.homeAccountId}>
                {a.username}
                {a.active ? ' (active)' : ''}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="actions">
        <button type="submit" className="button primary" disabled={create.pending}>
          Create key
        </button>
      </div>
      <ErrorText error={invalid ?? create.error} />
    </form>
  );
}
