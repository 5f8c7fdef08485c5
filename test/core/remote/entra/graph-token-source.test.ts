import { InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  explainOnBehalfOfError,
  GraphGrantRequiredError,
} from '../../../../main/core/remote/entra/graph-grant-error.ts';
import { accountTokenSource } from '../../../../main/core/remote/entra/graph-token-source.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../../../main/demo/idp/index.ts';
import { createTestAuth } from '../../../support/auth.ts';
import { startTestIdp } from '../../../support/idp.ts';

const [adele] = DEMO_USERS as [IdpUser];
const PUBLIC_URL = 'https://valet.contoso.test';
const TOKENISH = 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln';

describe('what an on-behalf-of failure tells the user', () => {
  it('turns a needed sign-in (MFA, Conditional Access) into the grant page for the tool’s scopes', () => {
    // As MSAL throws it for Entra's answer (code, correlation ID, description, suberror).
    const mfa = new InteractionRequiredAuthError(
      'invalid_grant',
      'c0ffee00-0000-4000-8000-000000000000',
      'AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.',
      'basic_action',
    );
    const error = explainOnBehalfOfError(mfa, ['Mail.Send', 'User.Read'], PUBLIC_URL);
    expect(error).toBeInstanceOf(GraphGrantRequiredError);
    expect(error).toMatchObject({
      code: 'interaction_required',
      scopes: ['Mail.Send', 'User.Read'],
      url: `${PUBLIC_URL}/auth/grant?scopes=Mail.Send+User.Read`,
    });
    expect(error.message).toContain(`open ${PUBLIC_URL}/auth/grant?scopes=Mail.Send+User.Read`);
  });

  it('names MSAL’s code and the AADSTS number of any other failure, never the IdP’s text', () => {
    const failure = new ServerError(
      'invalid_client',
      'c0ffee00-0000-4000-8000-000000000000',
      `AADSTS7000215: Invalid client secret provided. Assertion: ${TOKENISH}`,
    );
    const error = explainOnBehalfOfError(failure, ['User.Read'], PUBLIC_URL);
    expect(error).not.toBeInstanceOf(GraphGrantRequiredError);
    expect(error.code).toBe('graph_token_failed');
    expect(error.message).toBe(
      "No Microsoft Graph token could be obtained on your behalf for User.Read (invalid_client, AADSTS7000215): check the app registration's API permissions and credential",
    );
    const offline = explainOnBehalfOfError(
      new TypeError(`fetch failed ${TOKENISH}`),
      ['User.Read'],
      PUBLIC_URL,
    );
    expect(offline.message).not.toContain('eyJ');
  });
});

describe('the desktop’s Graph token source', () => {
  let idp: RunningIdp;

  beforeAll(async () => {
    idp = await startTestIdp();
  });

  afterAll(async () => {
    await idp?.close();
  });

  it('gives the signed-in account’s token for the scopes asked, as the auth service does', async () => {
    const { auth } = await createTestAuth(idp);
    const { account } = await auth.signIn({
      method: 'device-code',
      onDeviceCode: (prompt) => void idp.approveDeviceCode(prompt.userCode, adele.username),
    });
    const source = accountTokenSource(auth, account.homeAccountId);
    const token = await source.getToken({ scopes: ['User.Read'] });
    const direct = await auth.getToken({ account: account.homeAccountId, scopes: ['User.Read'] });
    expect(token).toEqual({
      accessToken: direct.accessToken,
      expiresOn: direct.expiresOn,
      scopes: direct.scopes,
      fromCache: true,
    });
  });
});
