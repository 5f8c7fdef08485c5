import type { ReactNode } from 'react';

/**
 * A captioned table of items, one row each, or a sentence when there are none. Nothing is
 * shown while `items` is still loading (null).
 */
export function ListTable<T>({
  caption,
  columns,
  items,
  empty,
  row,
}: {
  caption: string;
  columns: string[];
  items: T[] | null;
  empty: string;
  row: (item: T) => ReactNode;
}) {
  if (!items) return null;
  if (items.length === 0) return <p>{empty}</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{items.map(row)}</tbody>
    </table>
  );
}
