import { beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '../../../../main/core/graph/graph-client.ts';
import { MeCache } from '../../../../main/core/graph/me-cache.ts';
import type { GraphUser, ToolDefinition } from '../../../../main/core/mcp/tool-definition.ts';
import { ToolRunner } from '../../../../main/core/mcp/tool-runner.ts';
import { listMessages } from '../../../../main/core/mcp/tools/list-messages.ts';
import { listEvents } from '../../../../main/core/mcp/tools/list-events.ts';
import { sendMail } from '../../../../main/core/mcp/tools/send-mail.ts';
import { createEvent } from '../../../../main/core/mcp/tools/create-event.ts';
import { runnerPolicyDeps } from '../../../support/runner.ts';
import {
  alex,
  graph,
  guardedFetch,
  signIn,
  keyFor,
  call,
  refused,
  graphCalls,
  useToolFixture,
} from './tool-fixture.ts';

useToolFixture();

it('a key that lacks a tool gets the runner’s tool error, and Graph sees nothing', async () => {
  const before = graph.requests.length;
  const text = await refused(
    sendMail,
    { to: [alex.username], subject: 'x', body: 'y' },
    { key: keyFor(['list_messages'], 'reader') },
  );
  expect(text).toBe(
    "The valet key 'reader' may not call send_mail; it may call list_messages. Create a key that includes it: `mcp-valet keys create --name <name> --tools send_mail`",
  );
  expect(graph.requests.length).toBe(before);
});

describe('with fewer scopes consented', () => {
  let alexRunner: ToolRunner;

  beforeAll(async () => {
    const signedIn = await signIn(alex, ['Calendars.Read']);
    alexRunner = new ToolRunner({
      auth: signedIn.auth,
      graph: new GraphClient({ baseUrl: graph.url, fetch: guardedFetch }),
      meCache: new MeCache<GraphUser>(),
      ...runnerPolicyDeps(),
    });
  });

  it('a tool whose scope was never consented names the scope and the login command', async () => {
    expect(await refused(listMessages, {}, { via: alexRunner })).toBe(
      'Mail.Read has not been consented: run `mcp-valet login --scopes Mail.Read` or approve it in the app',
    );
    expect(
      await refused(
        createEvent,
        { subject: 'x', start: '2031-01-15T10:00:00', end: '2031-01-15T11:00:00' },
        { via: alexRunner },
      ),
    ).toBe(
      'Calendars.ReadWrite has not been consented: run `mcp-valet login --scopes Calendars.ReadWrite` or approve it in the app',
    );
    const events = await call(listEvents, {}, { via: alexRunner });
    expect(events.isError).toBeFalsy();
  });

  it("Graph's 403 for a token without the permission names the scope and the login command", async () => {
    // A tool declaring too little, so a consented token reaches Graph without Mail.Read.
    const misdeclared = {
      ...listMessages,
      scopes: ['Calendars.Read'],
    } as unknown as ToolDefinition;
    expect(await refused(misdeclared, {}, { via: alexRunner })).toBe(
      'Microsoft Graph denied access (ErrorAccessDenied): this needs Calendars.Read; run `mcp-valet login --scopes Calendars.Read` or ask your admin to grant it',
    );
    expect(graphCalls('GET', '/v1.0/me/messages').at(-1)).toMatchObject({
      status: 403,
      userId: alex.id,
    });
  });
});
