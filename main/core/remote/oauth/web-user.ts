import type { Request } from 'express';
import type { WebSession } from '../web/web-sessions.ts';

/** The signed-in web user: the web sign-in's session, as it keeps it at `web:{sha256(sid)}`. */
export type WebUser = WebSession;

/**
 * The web user of a request: null (the web sign-in's answer) or undefined when the browser is
 * not signed in.
 */
export type CurrentUser = (
  req: Request,
) => WebUser | null | undefined | Promise<WebUser | null | undefined>;
