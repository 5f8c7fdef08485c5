import { calendarRoutes } from './calendar.ts';
import type { Endpoint, Route } from './endpoint.ts';
import { GraphError } from './errors.ts';
import { fileRoutes } from './files.ts';
import { mailRoutes } from './mail.ts';
import { peopleRoutes } from './people.ts';
import { profileRoutes } from './profile.ts';

const ROUTES: readonly Route[] = [
  ...profileRoutes,
  ...mailRoutes,
  ...calendarRoutes,
  ...fileRoutes,
  ...peopleRoutes,
];

/** The endpoint for a method and a raw path below the version (`/me/messages/AAMk…%3D`), with its decoded parameters. */
export function resolveEndpoint(
  method: string,
  rawPath: string,
): { endpoint: Endpoint; params: string[] } {
  // Empty segments carry nothing: a trailing slash names the same resource.
  const segments = rawPath.split('/').filter(Boolean);
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    throw new GraphError(
      400,
      'BadRequest',
      'The request URI is not valid: it has a malformed percent-encoding.',
    );
  }
  for (const route of ROUTES) {
    const params = route.match(decoded);
    if (!params) continue;
    const endpoint = method === 'GET' || method === 'POST' ? route.methods[method] : undefined;
    if (!endpoint) {
      throw new GraphError(
        405,
        'Request_BadRequest',
        'Specified HTTP method is not allowed for the request target.',
        {
          headers: { allow: Object.keys(route.methods).join(', ') },
        },
      );
    }
    return { endpoint, params };
  }
  const segment = decoded.at(-1) ?? '';
  throw new GraphError(404, 'UnknownError', `Resource not found for the segment '${segment}'.`);
}
