import { badRequest } from './errors.ts';

/** The query string of a request, with Graph's case-insensitive option names. */
export class ODataQuery {
  readonly #values = new Map<string, string>();
  readonly #url: URL;

  /** Refuses a repeated option and any `$` option outside `allowed` (lower case, e.g. `$top`). */
  constructor(url: URL, allowed: readonly string[]) {
    this.#url = url;
    for (const [key, value] of url.searchParams) {
      const name = key.toLowerCase();
      if (this.#values.has(name))
        throw badRequest(`Query option '${key}' was specified more than once.`);
      if (name.startsWith('$') && !allowed.includes(name)) {
        throw badRequest(`Query option '${key}' is not supported on this resource.`);
      }
      this.#values.set(name, value);
    }
  }

  /** An option's value by its lower-case name. */
  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** `$top`: a page size between 0 and `max`, `fallback` when absent. */
  top(fallback: number, max: number): number {
    return this.#integer('$top', fallback, max);
  }

  /** `$skip`: how many items to pass over. */
  skip(): number {
    return this.#integer('$skip', 0, Number.MAX_SAFE_INTEGER);
  }

  #integer(name: string, fallback: number, max: number): number {
    const raw = this.#values.get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      throw badRequest(
        `Invalid value '${raw}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`,
      );
    }
    const value = Number(raw);
    if (value > max)
      throw badRequest(
        `The value ${value} of the ${name} query option exceeds the maximum of ${max}.`,
      );
    return value;
  }

  /** `$select` as a list of properties, refusing those the type lacks; undefined when absent. */
  select(properties: readonly string[], typeName: string): string[] | undefined {
    const raw = this.#values.get('$select');
    if (raw === undefined) return undefined;
    const known = new Map(properties.map((name) => [name.toLowerCase(), name]));
    return raw
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
      .map((name) => {
        const canonical = known.get(name.toLowerCase());
        if (!canonical)
          throw badRequest(`Could not find a property named '${name}' on type '${typeName}'.`);
        return canonical;
      });
  }

  /** `$count=true`. */
  count(): boolean {
    const raw = this.#values.get('$count');
    if (raw === undefined || raw.toLowerCase() === 'false') return false;
    if (raw.toLowerCase() === 'true') return true;
    throw badRequest(
      `Invalid value '${raw}' for $count query option found. Valid values are 'true' and 'false'.`,
    );
  }

  /** This request's URL with one option replaced (or added), the way Graph writes its nextLinks. */
  withOption(name: string, value: string): string {
    const params = new URLSearchParams();
    for (const [key, v] of this.#url.searchParams)
      if (key.toLowerCase() !== name) params.append(key, v);
    params.append(name, value);
    return `${this.#url.origin}${this.#url.pathname}?${params.toString().replaceAll('+', '%20')}`;
  }
}

/** An object with only the selected properties, plus those Graph always returns. */
export function project<T extends object>(
  item: T,
  select: readonly string[] | undefined,
  always: readonly string[],
): Partial<T> {
  if (!select) return item;
  const wanted = new Set([...always, ...select]);
  return Object.fromEntries(Object.entries(item).filter(([key]) => wanted.has(key))) as Partial<T>;
}

/** The `@odata.context` of a result, with the selected properties as Graph lists them. */
export function contextUrl(
  root: string,
  path: string,
  select?: readonly string[],
  suffix = '',
): string {
  return `${root}/$metadata#${path}${select ? `(${select.join(',')})` : ''}${suffix}`;
}

/** One page of a collection, with `@odata.nextLink` when more remain. */
export interface PageOptions<T> {
  items: readonly T[];
  top: number;
  skip: number;
  context: string;
  /** The link to the next page, given the number of items it skips. */
  nextLink: (skip: number) => string;
  count?: boolean;
  shape: (item: T) => unknown;
}

/** Graph's collection response for one page. */
export function page<T>(options: PageOptions<T>): Record<string, unknown> {
  const { items, top, skip } = options;
  const slice = items.slice(skip, skip + top);
  const more = skip + top < items.length && top > 0;
  return {
    '@odata.context': options.context,
    ...(options.count ? { '@odata.count': items.length } : {}),
    value: slice.map(options.shape),
    ...(more ? { '@odata.nextLink': options.nextLink(skip + top) } : {}),
  };
}

/** A `$search` value without the double quotes Graph asks for. */
export function searchText(raw: string): string {
  const trimmed = raw.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1)
    : trimmed;
}
