import type { Reply } from './http.ts';
import type { UserData } from './model.ts';
import type { ODataQuery } from './odata.ts';
import type { ScopeRule } from './scopes.ts';
import type { GraphStore } from './store.ts';

/** What a handler gets to answer one authenticated request. */
export interface HandlerContext {
  userId: string;
  data: UserData;
  store: GraphStore;
  query: ODataQuery;
  /** Base URL of this server, `http://127.0.0.1:<port>/v1.0`, for links and `@odata.context`. */
  root: string;
  /** Path parameters, decoded. */
  params: string[];
  /** Parsed JSON body of a POST. */
  body: unknown;
  /** The clock of the seeded world, for timestamps of new items. */
  now: () => Date;
  /** The request's Prefer header, by lower-case preference name, values unquoted. */
  prefer: ReadonlyMap<string, string>;
}

/** One method on one resource. */
export interface Endpoint {
  scope: ScopeRule;
  /** OData system query options the endpoint understands, lower case (`$top`). */
  options: readonly string[];
  /** Whether the request carries a JSON body. */
  body?: boolean;
  handle: (ctx: HandlerContext) => Reply;
}

/** A resource: how to recognise its path, and its methods. */
export interface Route {
  /** The path parameters when `segments` (decoded, after /v1.0) name this resource. */
  match: (segments: readonly string[]) => string[] | undefined;
  methods: Partial<Record<'GET' | 'POST', Endpoint>>;
}

/** Matches fixed segments (case-insensitive, as Graph is) with `*` standing for one parameter. */
export function segments(...pattern: string[]): Route['match'] {
  return (actual) => {
    if (actual.length !== pattern.length) return undefined;
    const params: string[] = [];
    for (const [i, expected] of pattern.entries()) {
      const segment = actual[i] ?? '';
      if (expected === '*') {
        if (segment === '') return undefined;
        params.push(segment);
      } else if (segment.toLowerCase() !== expected.toLowerCase()) {
        return undefined;
      }
    }
    return params;
  };
}
