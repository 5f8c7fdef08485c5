import { useState } from 'react';
import type { SignInStartDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useAppEvents } from '../hooks/use-app-events.ts';
import { useNow } from '../hooks/use-now.ts';
import { formatTimeLeft, isWebUrl } from '../format.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorText } from '../components/error-text.tsx';

type Method = 'auto' | 'browser' | 'device-code';

/** Props of SignInPanel. */
export interface SignInPanelProps {
  /** The main button's text and the group's name: "Sign in", "Add account", "Grant Mail.Read". */
  label: string;
  /** Graph permissions to ask consent for. */
  scopes?: string[];
}

/**
 * Starts an interactive sign-in (the OS broker or system browser, a browser URL, or a device
 * code) and shows what the user must do next, until `status-changed` says it is done.
 */
export function SignInPanel({ label, scopes }: SignInPanelProps) {
  const api = useApi();
  const start = useAction();
  const cancel = useAction();
  const [started, setStarted] = useState<{ dto: SignInStartDto; at: number } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useAppEvents((event) => {
    if (event.type === 'status-changed') setStarted(null);
    if (event.type === 'sign-in-failed') {
      setStarted(null);
      setFailure(event.message);
    }
  });
  const signIn = (method: Method) => {
    setFailure(null);
    void start.run(async () => {
      const dto = await api.signIn(scopes?.length ? { method, scopes } : { method });
      // 'noopener' keeps the sign-in page from reaching back into this window; it also makes
      // window.open return null, so the link below is always there as the fallback.
      if (dto.kind === 'browser' && isWebUrl(dto.url)) window.open(dto.url, '_blank', 'noopener');
      setStarted({ dto, at: Date.now() });
    });
  };
  const stop = () =>
    void cancel.run(async () => {
      await api.cancelSignIn({});
      setStarted(null);
    });
  return (
    <div className="sign-in" role="group" aria-label={label}>
      {!started && (
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={start.pending}
            onClick={() => signIn('auto')}
          >
            {label}
          </button>
          <button
            type="button"
            className="button"
            disabled={start.pending}
            onClick={() => signIn('browser')}
          >
            Use a browser
          </button>
          <button
            type="button"
            className="button"
            disabled={start.pending}
            onClick={() => signIn('device-code')}
          >
            Use a device code
          </button>
        </div>
      )}
      {started && (
        <div className="sign-in-progress" aria-live="polite">
          <NextStep dto={started.dto} startedAt={started.at} />
          <button type="button" className="button" disabled={cancel.pending} onClick={stop}>
            Cancel sign-in
          </button>
          <ErrorText error={cancel.error} />
        </div>
      )}
      <ErrorText error={start.error ?? failure} />
    </div>
  );
}

/** What the user does next to finish the sign-in. */
function NextStep({ dto, startedAt }: { dto: SignInStartDto; startedAt: number }) {
  if (dto.kind === 'system') {
    return (
      <p>Finish signing in in the window that opened (your system’s sign-in prompt or browser).</p>
    );
  }
  if (dto.kind === 'browser') {
    if (!isWebUrl(dto.url))
      return <p className="error">The sign-in address is not a web address.</p>;
    return (
      <p>
        A browser window should open for you to sign in. If none did,{' '}
        <a href={dto.url} target="_blank" rel="noopener noreferrer">
          open the sign-in page
        </a>
        .
      </p>
    );
  }
  return <DeviceCode dto={dto} startedAt={startedAt} />;
}

/** The device code and where to enter it. */
function DeviceCode({
  dto,
  startedAt,
}: {
  dto: Extract<SignInStartDto, { kind: 'device-code' }>;
  startedAt: number;
}) {
  const now = useNow();
  const expiresAt = new Date(startedAt + dto.expiresInSeconds * 1000).toISOString();
  return (
    <div className="device-code">
      <p>
        On any device, go to{' '}
        {isWebUrl(dto.verificationUri) ? (
          <a href={dto.verificationUri} target="_blank" rel="noopener noreferrer">
            {dto.verificationUri}
          </a>
        ) : (
          <code>{dto.verificationUri}</code>
        )}{' '}
        and enter this code:
      </p>
      <p className="user-code">
        <code className="code-value">{dto.userCode}</code>{' '}
        <CopyButton text={dto.userCode} label="Copy device code" />
      </p>
      <p className="muted">The code expires in {formatTimeLeft(expiresAt, now)}.</p>
    </div>
  );
}
