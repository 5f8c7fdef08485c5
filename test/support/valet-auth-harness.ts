import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { ResolveHost } from '../../main/core/remote/oauth/cimd-clients.ts';
import {
  createValetAuthServer,
  type ValetAuthConfig,
  type ValetAuthServer,
} from '../../main/core/remote/oauth/valet-auth-router.ts';
import type { WebUser } from '../../main/core/remote/oauth/web-user.ts';
import { MemoryStore } from '../../main/core/remote/store/memory-store.ts';

/** The cookie the harness's stand-in for the web sign-in reads. */
const SESSION_COOKIE = 'mv_web';

/** A web user as the sign-in would keep one. */
export const ALICE: Omit<WebUser, 'csrf'> = {
  oid: '00000000-0000-0000-0000-00000000a11c',
  tid: '11111111-1111-1111-1111-111111111111',
  homeAccountId: '00000000-0000-0000-0000-00000000a11c.11111111-1111-1111-1111-111111111111',
  name: 'Alice Example',
  username: 'alice@contoso.example',
  roles: [],
};

/** Every response a test saw, for the scan that no Entra token (a JWT, `eyJ…`) ever leaves. */
export interface Seen {
  url: string;
  status: number;
  headers: string;
  body: string;
}

/** Valet mode's authorization server on a real loopback port, over a real MemoryStore. */
export interface ValetAuthHarness {
  url: string;
  mcpUrl: string;
  store: MemoryStore;
  /** Every write the server made to the store (the method, its key and its values). */
  writes: string[];
  server: ValetAuthServer;
  /** A fetch that records every response (pass it to the SDK's auth() too). */
  fetch: typeof fetch;
  seen: Seen[];
  /** Writes a web session for `user` as the sign-in would; resolves to its cookie header and CSRF token. */
  signIn(user?: Omit<WebUser, 'csrf'>): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

/** Starts the harness; `config` overrides valet mode's settings. */
export async function startValetAuth(
  config: Partial<ValetAuthConfig> = {},
  resolveHost?: ResolveHost,
): Promise<ValetAuthHarness> {
  const store = new MemoryStore();
  const writes: string[] = [];
  const WRITES = new Set(['set', 'hSet', 'sAdd', 'zAdd']);
  const recordingStore = new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (WRITES.has(String(name))) writes.push(`${String(name)} ${JSON.stringify(args)}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const app = express();
  const http: Server = createServer(app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const currentUser = async (req: Request): Promise<WebUser | undefined> => {
    const sid = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!sid) return undefined;
    const f = await store.hGetAll(`web:${sid}`);
    if (!f.oid) return undefined;
    return {
      oid: f.oid,
      tid: f.tid ?? '',
      homeAccountId: f.homeAccountId ?? '',
      name: f.name ?? '',
      username: f.username ?? '',
      roles: JSON.parse(f.roles ?? '[]') as string[],
      csrf: f.csrf ?? '',
    };
  };
  const server = createValetAuthServer({
    config: {
      publicUrl: url,
      mcpUrl: `${url}/mcp`,
      dcr: true,
      cimd: true,
      cimdHosts: { anyPublic: true, hosts: ['localhost'] },
      tokenTtlSeconds: 3600,
      refreshTtlSeconds: 2_592_000,
      consentTtlDays: 90,
      ...config,
    },
    store: recordingStore,
    currentUser,
    resolveHost,
  });
  app.use(server.router);
  const seen: Seen[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const body = await res.clone().text();
    seen.push({
      url: input instanceof Request ? input.url : String(input),
      status: res.status,
      headers: JSON.stringify([...res.headers]),
      body,
    });
    return res;
  };
  return {
    url,
    mcpUrl: `${url}/mcp`,
    store,
    writes,
    server,
    fetch: recording,
    seen,
    async signIn(user = ALICE) {
      const sid = randomBytes(16).toString('base64url');
      const csrf = randomBytes(16).toString('base64url');
      await store.hSet(
        `web:${sid}`,
        { ...user, roles: JSON.stringify(user.roles), csrf },
        { ttlMs: 8 * 3600_000 },
      );
      return { cookie: `${SESSION_COOKIE}=${sid}`, csrf };
    },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await store.close();
    },
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/**
 * The SDK client's side of OAuth, as an MCP client keeps it: client information, tokens and the
 * PKCE verifier in memory; the authorization URL is kept for the test to open instead of a browser.
 */
export class TestOAuthClient implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly clientMetadataUrl: string | undefined;
  authorizationUrl: URL | undefined;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = '';
  readonly #name: string;

  constructor(options: { redirectUrl?: string; clientMetadataUrl?: string; name?: string } = {}) {
    this.redirectUrl = options.redirectUrl ?? 'http://127.0.0.1:53682/callback';
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#name = options.name ?? 'Test MCP client';
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.#name,
      redirect_uris: [this.redirectUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }

  state(): string {
    return 'state-' + randomBytes(8).toString('hex');
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }
}

/** The CSRF token and checked tools of a consent page's form. */
export function readConsentForm(html: string): { csrf: string; checked: string[]; action: string } {
  const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1] ?? '';
  const checked = [...html.matchAll(/name="tools" value="([^"]+)" checked/g)].map(
    (m) => m[1] ?? '',
  );
  return { csrf, checked, action };
}

/** What the browser did between the client's authorization URL and its redirect URI. */
export interface ConsentRun {
  /** Where the consent answer sent the browser (the client's redirect URI with the answer). */
  redirect: URL;
  /** The consent page's URL, HTML and response. */
  consentUrl: URL;
  page: string;
  pageResponse: Response;
}

/**
 * Plays the browser: opens the client's authorization URL with the signed-in session, follows
 * it to the consent page, and posts the page's form with `decision` (and the checked tools
 * unless `tools` says otherwise).
 */
export async function answerConsent(
  h: ValetAuthHarness,
  authorizationUrl: URL,
  session: { cookie: string },
  answer: { decision?: 'allow' | 'deny'; tools?: string[]; readOnly?: boolean } = {},
): Promise<ConsentRun> {
  const start = await h.fetch(authorizationUrl, {
    redirect: 'manual',
    headers: { cookie: session.cookie },
  });
  const consentUrl = start.headers.get('location');
  if (start.status !== 302 || !consentUrl)
    throw new Error(
      `/authorize answered ${start.status} ${await start.text()} instead of sending the browser to consent`,
    );
  const consentPage = new URL(consentUrl, h.url);
  const pageResponse = await h.fetch(consentPage, {
    headers: { cookie: session.cookie },
  });
  const page = await pageResponse.text();
  const form = readConsentForm(page);
  const body = new URLSearchParams({ csrf: form.csrf, decision: answer.decision ?? 'allow' });
  for (const tool of answer.tools ?? form.checked) body.append('tools', tool);
  if (answer.readOnly) body.set('readOnly', '1');
  const posted = await h.fetch(new URL(form.action, h.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const location = posted.headers.get('location');
  if (posted.status !== 303 || !location)
    throw new Error(
      `the consent post answered ${posted.status} instead of redirecting back to the client`,
    );
  return { redirect: new URL(location), consentUrl: consentPage, page, pageResponse };
}
