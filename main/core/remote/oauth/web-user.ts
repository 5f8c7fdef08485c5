import type { Request } from 'express';

/** The signed-in web user, as the web sign-in keeps the session at `web:{sid}`. */
export interface WebUser {
  oid: string;
  tid: string;
  homeAccountId: string;
  name: string;
  username: string;
  roles: string[];
  /** The session's CSRF token: every form the user posts carries it. */
  csrf: string;
}

/** The web user of a request, or undefined when the browser is not signed in. */
export type CurrentUser = (req: Request) => WebUser | undefined | Promise<WebUser | undefined>;
