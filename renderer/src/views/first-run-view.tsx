import { useEffect, useState, type FormEvent } from 'react';
import type { SettingsDto, StatusDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { refusedField } from '../api/app-api-error.ts';
import { errorMessage } from '../api/error-message.ts';
import { useAction } from '../hooks/use-action.ts';
import { ErrorText } from '../components/error-text.tsx';

type Field = 'clientId' | 'tenantId';
const FIELD_ERRORS: Record<Field, string> = {
  clientId:
    'The application (client) ID must be a GUID, like 11111111-2222-3333-4444-555555555555.',
  tenantId:
    'The directory (tenant) ID is required: a GUID or a domain such as contoso.onmicrosoft.com.',
};

/** The first-run form: the Entra app registration's client and tenant IDs. */
export function FirstRunView({ onSaved }: { onSaved: (status: StatusDto) => void }) {
  const api = useApi();
  const [settings, setSettings] = useState<SettingsDto | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [clientId, setClientId] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [invalid, setInvalid] = useState<Partial<Record<Field, string>>>({});
  const save = useAction();
  useEffect(() => {
    api.getSettings({}).then(
      (s) => {
        setSettings(s);
        setClientId(s.clientId ?? '');
        setTenantId(s.tenantId);
      },
      (e: unknown) => setLoadError(errorMessage(e)),
    );
  }, [api]);
  const locked = (field: Field) => settings?.lockedByEnvironment.includes(field) ?? false;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setInvalid({});
    void save.run(async () => {
      let saved: SettingsDto;
      try {
        saved = await api.saveSettings({ clientId, tenantId });
      } catch (err) {
        // The core checks the settings; the fields it refused are marked here.
        const fields = (['clientId', 'tenantId'] as const).filter((f) => refusedField(err, f));
        if (fields.length === 0) throw err;
        setInvalid(Object.fromEntries(fields.map((f) => [f, FIELD_ERRORS[f]])));
        document.getElementById(fields.includes('clientId') ? 'client-id' : 'tenant-id')?.focus();
        return;
      }
      const status = await api.getStatus({});
      // A core that needs a moment to pick up the settings still reports them as saved.
      onSaved(
        status.configured
          ? status
          : {
              ...status,
              configured: saved.configured,
              clientId: saved.clientId,
              tenantId: saved.tenantId,
            },
      );
    });
  };
  return (
    <>
      <p>
        MCP Valet signs you in with an app registration of your organization’s Microsoft Entra ID.
        Ask your administrator for its IDs, or register it yourself: see “Register the app in Entra
        ID” in the README that comes with MCP Valet.
      </p>
      <details className="steps">
        <summary>How to register the app</summary>
        <ol>
          <li>Entra admin center → App registrations → New registration, named MCP Valet.</li>
          <li>Copy the Application (client) ID and the Directory (tenant) ID from its Overview.</li>
          <li>
            Authentication → Add a platform → Mobile and desktop applications, with the redirect
            URIs <code>http://localhost</code> and{' '}
            <code>ms-appx-web://Microsoft.AAD.BrokerPlugin/&lt;client-id&gt;</code>.
          </li>
          <li>Set “Allow public client flows” to Yes.</li>
          <li>Add the delegated Microsoft Graph permissions the tools need.</li>
        </ol>
      </details>
      <ErrorText error={loadError} />
      {!settings && !loadError && <p className="muted">Loading…</p>}
      {(settings || loadError) && (
        <form className="form" onSubmit={submit} noValidate aria-label="App registration">
          <TextField
            id="client-id"
            label="Application (client) ID"
            value={clientId}
            onChange={setClientId}
            locked={locked('clientId')}
            envName="VALET_CLIENT_ID"
            error={invalid.clientId}
          />
          <TextField
            id="tenant-id"
            label="Directory (tenant) ID"
            value={tenantId}
            onChange={setTenantId}
            locked={locked('tenantId')}
            envName="VALET_TENANT_ID"
            error={invalid.tenantId}
          />
          <div className="actions">
            <button type="submit" className="button primary" disabled={save.pending}>
              Save
            </button>
          </div>
          <ErrorText error={save.error} />
        </form>
      )}
    </>
  );
}

interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  locked: boolean;
  envName: string;
  error: string | undefined;
}

function TextField({ id, label, value, onChange, locked, envName, error }: TextFieldProps) {
  const describedBy = [locked && `${id}-locked`, error && `${id}-error`].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        spellCheck={false}
        autoComplete="off"
        value={value}
        readOnly={locked}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {locked && (
        <p className="hint" id={`${id}-locked`}>
          Set by {envName} in the environment: change it there.
        </p>
      )}
      {error && (
        <p className="error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
