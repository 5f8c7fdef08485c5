/** The views of the window, in navigation order. */
export const VIEWS = [
  { id: 'status', title: 'Status' },
  { id: 'accounts', title: 'Accounts' },
  { id: 'clients', title: 'Clients' },
  { id: 'activity', title: 'Activity' },
  { id: 'approvals', title: 'Approvals' },
  { id: 'tools', title: 'Tools and policy' },
] as const;

/** One of the views. */
export type ViewId = (typeof VIEWS)[number]['id'];

/** A view as the navigation lists it. */
export interface NavView {
  id: ViewId;
  title: string;
}

/**
 * The left navigation: one button per view (every view, or the `views` a shell offers), the
 * current one marked, approvals counted.
 */
export function NavBar({
  current,
  pendingApprovals,
  onSelect,
  views = VIEWS,
}: {
  current: ViewId;
  pendingApprovals: number;
  onSelect: (view: ViewId) => void;
  views?: readonly NavView[];
}) {
  return (
    <nav className="nav" aria-label="Views">
      <ul>
        {views.map((v) => (
          <li key={v.id}>
            <button
              type="button"
              className="nav-item"
              aria-current={v.id === current ? 'page' : undefined}
              onClick={() => onSelect(v.id)}
            >
              {v.title}
              {v.id === 'approvals' && pendingApprovals > 0 && (
                <>
                  <span className="badge" aria-hidden="true">
                    {pendingApprovals}
                  </span>
                  <span className="visually-hidden">, {pendingApprovals} pending</span>
                </>
              )}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
