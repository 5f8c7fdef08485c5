import { randomUUID } from 'node:crypto';
import { CryptoProvider } from '@azure/msal-node';
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Browser } from 'playwright-core';
import { newUserContext, signInAtIdp } from './browser.ts';
import type { IdpCredentials } from './browser.ts';
import type { WebCallback } from './web-callback.ts';

/** What a web sign-in gave the app, with what it asked for so a test can check the answer. */
export interface WebSignInResult {
  result: AuthenticationResult;
  nonce: string;
  state: string;
}

/**
 * The web sign-in a server does with its confidential client: auth code + PKCE + nonce,
 * the user signing in (and consenting if asked) in a fresh Chromium context, then the code
 * redeemed with the verifier, nonce and state. The code redemption is where the client
 * authenticates with its credential.
 */
export async function signInThroughWebApp(
  browser: Browser,
  callback: WebCallback,
  cca: ConfidentialClientApplication,
  user: IdpCredentials,
  scopes: string[] = ['User.Read'],
): Promise<WebSignInResult> {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const nonce = randomUUID();
  const state = randomUUID();
  const url = await cca.getAuthCodeUrl({
    scopes,
    redirectUri: callback.redirectUri,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    nonce,
    state,
  });
  const context = await newUserContext(browser);
  try {
    const page = await context.newPage();
    const arrived = callback.next();
    await page.goto(url);
    await signInAtIdp(page, user);
    const query = await arrived;
    if (query.get('state') !== state) throw new Error('The IdP sent back another state.');
    const code = query.get('code');
    if (!code) throw new Error(`The IdP sent back no code: ${query.toString()}`);
    const result = await cca.acquireTokenByCode({
      code,
      scopes,
      redirectUri: callback.redirectUri,
      codeVerifier: verifier,
      nonce,
      state,
    });
    return { result, nonce, state };
  } finally {
    await context.close();
  }
}
