import { useEffect, useState } from 'react';

/** A button that copies `text` to the clipboard and says whether it worked. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [result, setResult] = useState<'copied' | 'failed' | null>(null);
  useEffect(() => {
    if (result !== 'copied') return;
    const timer = setTimeout(() => setResult(null), 3000);
    return () => clearTimeout(timer);
  }, [result]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setResult('copied');
    } catch {
      // No clipboard permission (some browsers over plain http): the text stays selectable.
      setResult('failed');
    }
  };
  return (
    <span className="copy">
      <button type="button" className="button" aria-label={label} onClick={() => void copy()}>
        Copy
      </button>
      <span role="status" className="copy-result">
        {result === 'copied' && 'Copied'}
        {result === 'failed' && 'Could not copy: select the text and copy it'}
      </span>
    </span>
  );
}
