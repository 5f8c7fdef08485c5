import { useEffect, useRef } from 'react';
import type { NewKeyDto } from '../../../preload/contract.ts';
import { CopyButton } from '../components/copy-button.tsx';

const CONFIGS: Array<{
  id: keyof NewKeyDto['configs'];
  title: string;
  where: string;
  name: string;
  /** Where the secret goes: asked for by the client, or written in the file. */
  secret: string;
}> = [
  {
    id: 'vscode',
    title: 'VS Code',
    where: '.vscode/mcp.json in your workspace',
    name: 'VS Code',
    secret:
      'This file holds no secret: VS Code asks for the key when it first starts the server and keeps it in its own secret storage. Paste the secret above when it asks.',
  },
  {
    id: 'cursor',
    title: 'Cursor',
    where: '~/.cursor/mcp.json, or .cursor/mcp.json in a project',
    name: 'Cursor',
    secret: 'This file holds the secret: keep it out of version control.',
  },
  {
    id: 'claudeDesktop',
    title: 'Claude Desktop',
    where: 'claude_desktop_config.json (Settings → Developer → Edit Config)',
    name: 'Claude Desktop',
    secret: 'This file holds the secret: keep it out of version control.',
  },
];

/** A new key's secret, shown this once, and the configurations to paste into clients. */
export function NewKeySecret({ created, onDone }: { created: NewKeyDto; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="callout success" aria-labelledby="new-key-title">
      <h2 id="new-key-title" tabIndex={-1} ref={heading}>
        Key “{created.key.name}” created
      </h2>
      <p className="warning-text">
        <strong>This secret will not be shown again.</strong> Copy it now into your client; MCP
        Valet keeps only its hash.
      </p>
      <p className="secret">
        <code>{created.secret}</code> <CopyButton text={created.secret} label="Copy secret" />
      </p>
      {CONFIGS.map((c) => (
        <section key={c.id} aria-labelledby={`config-${c.id}`}>
          <h3 id={`config-${c.id}`}>{c.title}</h3>
          <p className="muted">
            Paste into {c.where}. {c.secret}
          </p>
          <pre className="config">{created.configs[c.id]}</pre>
          <CopyButton text={created.configs[c.id]} label={`Copy ${c.name} configuration`} />
        </section>
      ))}
      <div className="actions">
        <button type="button" className="button primary" onClick={onDone}>
          Done, I have copied it
        </button>
      </div>
    </section>
  );
}
