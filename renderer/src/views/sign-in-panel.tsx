import { useEffect, useRef, useState } from 'react';
import type { SignInStepDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { isRunning, useSignInProgress } from '../hooks/use-sign-in-progress.tsx';
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
 * Starts an interactive sign-in and shows the step it is at, as the core reports it: the
 * system's sign-in prompt, a sign-in page, or a device code to enter when the others failed.
 * A sign-in the tray started shows here too, and can be cancelled here.
 */
export function SignInPanel({ label, scopes }: SignInPanelProps) {
  const api = useApi();
  const { latest: progress, reported } = useSignInProgress();
  const start = useAction();
  const cancel = useAction();
  // The attempt this panel started: its page is opened here, and its failure is shown here.
  const [mine, setMine] = useState<string | null>(null);
  const opened = useRef(new Set<string>());
  const ofMine = progress !== null && progress.attemptId === mine;
  useEffect(() => {
    if (!ofMine || progress.step.kind !== 'browser' || progress.step.opened) return;
    if (opened.current.has(progress.attemptId) || !isWebUrl(progress.step.url)) return;
    opened.current.add(progress.attemptId);
    // 'noopener' keeps the sign-in page from reaching back into this window; it also makes
    // window.open return null, so the link in the step is always there as the fallback.
    window.open(progress.step.url, '_blank', 'noopener');
  }, [ofMine, progress]);

  const signIn = (method: Method) =>
    void start.run(async () => {
      setMine(null);
      const { attemptId } = await api.signIn(scopes?.length ? { method, scopes } : { method });
      setMine(attemptId);
    });
  const running = isRunning(progress) ? progress : null;
  // Started here, and the core has not reported a step of it yet.
  const starting = mine !== null && !reported(mine) ? mine : null;
  const attemptId = running?.attemptId ?? starting;
  const stop = (id: string) => void cancel.run(() => api.cancelSignIn({ attemptId: id }));
  const failure = ofMine && progress.step.kind === 'failed' ? progress.step.message : null;
  return (
    <div className="sign-in" role="group" aria-label={label}>
      {!attemptId && (
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
      {attemptId && (
        <div className="sign-in-progress" aria-live="polite">
          {running ? <NextStep step={running.step} /> : <p>Starting the sign-in…</p>}
          <button
            type="button"
            className="button"
            disabled={cancel.pending}
            onClick={() => stop(attemptId)}
          >
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
function NextStep({ step }: { step: SignInStepDto }) {
  switch (step.kind) {
    case 'broker':
      return <p>Finish signing in in the window that opened (your system’s sign-in prompt).</p>;
    case 'browser':
      if (!isWebUrl(step.url))
        return <p className="error">The sign-in address is not a web address.</p>;
      return (
        <p>
          A browser window should open for you to sign in. If none did,{' '}
          <a href={step.url} target="_blank" rel="noopener noreferrer">
            open the sign-in page
          </a>
          .
        </p>
      );
    case 'device-code':
      return <DeviceCode step={step} />;
    default:
      return null;
  }
}

/** The device code and where to enter it. */
function DeviceCode({ step }: { step: Extract<SignInStepDto, { kind: 'device-code' }> }) {
  const now = useNow();
  return (
    <div className="device-code">
      <p>
        On any device, go to{' '}
        {isWebUrl(step.verificationUri) ? (
          <a href={step.verificationUri} target="_blank" rel="noopener noreferrer">
            {step.verificationUri}
          </a>
        ) : (
          <code>{step.verificationUri}</code>
        )}{' '}
        and enter this code:
      </p>
      <p className="user-code">
        <code className="code-value">{step.userCode}</code>{' '}
        <CopyButton text={step.userCode} label="Copy device code" />
      </p>
      <p className="muted">The code expires in {formatTimeLeft(step.expiresAt, now)}.</p>
    </div>
  );
}
