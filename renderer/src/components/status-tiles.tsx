import { useEffect, useState, type ReactNode } from 'react';
import type { ActivityDto, StatusDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { formatClock, formatTimeLeft } from '../format.ts';
import { useAppEvents } from '../hooks/use-app-events.ts';
import { useNow } from '../hooks/use-now.ts';

/** Whether a tile's fact is fine as it is, or asks the user to look. */
type Verdict = 'good' | 'attention';

/** What one tile shows: its fact, the verdict on it, and what lies behind it. */
interface TileProps {
  title: string;
  /** None for a fact that is neither (no call made yet). */
  verdict?: Verdict;
  value: string;
  children?: ReactNode;
}

const VERDICT_WORDS: Record<Verdict, string> = { good: 'Good', attention: 'Needs attention' };
const VERDICT_MARKS: Record<Verdict, string> = { good: '✓', attention: '!' };

/** One fact at a glance: its verdict in words and a mark as well as in colour. */
function Tile({ title, verdict, value, children }: TileProps) {
  return (
    <li className={`tile tile-${verdict ?? 'quiet'}`} aria-label={title}>
      <p className="tile-title">{title}</p>
      {verdict && (
        <p className="tile-verdict">
          <span className="tile-mark" aria-hidden="true">
            {VERDICT_MARKS[verdict]}
          </span>{' '}
          {VERDICT_WORDS[verdict]}
        </p>
      )}
      <p className="tile-value">{value}</p>
      {children && <div className="tile-detail">{children}</div>}
    </li>
  );
}

const KEYRING_NAMES: Record<string, string> = {
  dpapi: 'Windows DPAPI',
  keychain: 'the macOS Keychain',
  libsecret: 'the Secret Service keyring',
};

function EndpointTile({ endpoint }: { endpoint: StatusDto['endpoint'] }) {
  return (
    <Tile
      title="MCP endpoint"
      verdict={endpoint.running ? 'good' : 'attention'}
      value={endpoint.running ? 'Up: clients can connect' : 'Down: clients cannot connect'}
    >
      {endpoint.url ? <code>{endpoint.url}</code> : 'No address yet'}
    </Tile>
  );
}

function CacheTile({ status }: { status: StatusDto }) {
  const { cache } = status;
  if (cache.protected)
    return (
      <Tile title="Token cache" verdict="good" value="Protected by the OS keyring">
        Kept by {KEYRING_NAMES[cache.kind] ?? cache.kind}
      </Tile>
    );
  // The demo's tenant is on this machine and its tokens open nothing else.
  if (status.demo)
    return <Tile title="Token cache" verdict="good" value="Not needed in the demo" />;
  return (
    <Tile
      title="Token cache"
      verdict="attention"
      value={
        cache.kind === 'plaintext' ? 'Not protected: a plain file' : 'Not saved: kept in memory'
      }
    >
      {cache.reason}
    </Tile>
  );
}

function TokenTile({ status }: { status: StatusDto }) {
  const now = useNow(1000);
  if (!status.account)
    return <Tile title="Access token" verdict="attention" value="Not signed in" />;
  const live = status.tokens
    .filter((t) => !t.expired && Date.parse(t.expiresOn) > now)
    .sort((a, b) => Date.parse(a.expiresOn) - Date.parse(b.expiresOn));
  const soonest = live[0];
  if (soonest)
    return (
      <Tile
        title="Access token"
        verdict="good"
        value={`Lasts ${formatTimeLeft(soonest.expiresOn, now)}`}
      >
        {soonest.scopes.join(', ')}
      </Tile>
    );
  if (status.tokens.length > 0)
    return <Tile title="Access token" verdict="good" value="Expired — refreshes on next call" />;
  return <Tile title="Access token" verdict="good" value="None yet — fetched on the first call" />;
}

/** The latest tool call a client made, followed live: which client, which tool, how it ended. */
function LatestCallTile() {
  const api = useApi();
  const [latest, setLatest] = useState<ActivityDto | null | undefined>(undefined);
  useEffect(() => {
    let current = true;
    api
      .listActivity({ limit: 1 })
      .then((page) => {
        if (current) setLatest((seen) => seen ?? page.items[0] ?? null);
      })
      // The Activity view says why the log cannot be read; here the tile stays empty.
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [api]);
  useAppEvents((event) => {
    if (event.type === 'activity') setLatest(event.item);
  });
  if (latest === undefined) return null;
  if (latest === null)
    return (
      <Tile title="Latest call" value="No calls yet">
        Create a key under Clients and add it to an MCP client
      </Tile>
    );
  return (
    <Tile
      title="Latest call"
      verdict={latest.outcome === 'allowed' ? 'good' : 'attention'}
      value={`${latest.tool ?? latest.type}: ${latest.outcome}`}
    >
      By {latest.keyName ?? 'an unknown key'}
      {latest.client && ` (${latest.client})`} at {formatClock(latest.time)}
    </Tile>
  );
}

/**
 * The Status view at a glance: whether the endpoint is up, whether the token cache is
 * protected, how long the access token lasts (counting down), and the latest call a client made.
 */
export function StatusTiles({ status }: { status: StatusDto }) {
  return (
    <ul className="tiles" aria-label="At a glance">
      <EndpointTile endpoint={status.endpoint} />
      <CacheTile status={status} />
      <TokenTile status={status} />
      <LatestCallTile />
    </ul>
  );
}
