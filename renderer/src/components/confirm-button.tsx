import { useEffect, useId, useRef, useState } from 'react';
import { useAction } from '../hooks/use-action.ts';
import { ErrorText } from './error-text.tsx';

/** Props of ConfirmButton. */
export interface ConfirmButtonProps {
  /** The visible text of the first button ("Remove"). */
  text: string;
  /** Its accessible name, starting with `text` ("Remove adele@contoso.com"). */
  label: string;
  /** What will happen, asked before doing it. */
  question: string;
  /** The text of the button that does it ("Remove account"). */
  confirmText: string;
  onConfirm: () => Promise<unknown>;
}

/**
 * A destructive action asked twice: the first button shows the question inline with the
 * button that does it and Cancel. Inline rather than a modal dialog, so focus stays in place.
 */
export function ConfirmButton({
  text,
  label,
  question,
  confirmText,
  onConfirm,
}: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const action = useAction();
  const questionId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    // Cancel is the safe default focus; after closing, focus returns to the opener.
    if (asking) cancelRef.current?.focus();
    else if (wasAsking.current) openerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  const confirm = async () => {
    if (await action.run(onConfirm)) setAsking(false);
  };
  if (!asking) {
    return (
      <button
        type="button"
        className="button"
        ref={openerRef}
        aria-label={label}
        onClick={() => {
          action.clearError();
          setAsking(true);
        }}
      >
        {text}
      </button>
    );
  }
  return (
    <div
      className="confirm"
      role="group"
      aria-labelledby={questionId}
      onKeyDown={(e) => {
        if (e.key === 'Escape') setAsking(false);
      }}
    >
      <p id={questionId}>{question}</p>
      <button
        type="button"
        className="button danger"
        disabled={action.pending}
        onClick={() => void confirm()}
      >
        {confirmText}
      </button>
      <button type="button" className="button" ref={cancelRef} onClick={() => setAsking(false)}>
        Cancel
      </button>
      <ErrorText error={action.error} />
    </div>
  );
}
