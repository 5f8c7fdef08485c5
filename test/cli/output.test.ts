import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toolCallEvent } from '../../main/cli/commands/serve-command.ts';
import { LIVE_FLUSH_MS, Output } from '../../main/cli/output.ts';
import type { ToolCallRecord } from '../../main/core/mcp/tool-runner.ts';

/** A stream that keeps each write apart, to count them. */
function recorder() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, writes };
}

function output(json: boolean) {
  const stdout = recorder();
  const stderr = recorder();
  const out = new Output({ stdout: stdout.stream, stderr: stderr.stream, env: {} }, json);
  return { out, stdout: stdout.writes, stderr: stderr.writes };
}

const call: ToolCallRecord = {
  tool: 'get_user_details',
  keyId: '0123456789ab',
  keyName: 'vscode "dev"',
  account: undefined,
  client: 'Client 1',
  outcome: 'failed',
  errorCode: 'no_account',
  durationMs: 1.25,
  graphRequestIds: ['r-1'],
};

const settle = () => new Promise((r) => setTimeout(r, LIVE_FLUSH_MS * 3));

describe('the CLI output', () => {
  it('writes live-log events in one write per batch, in order, within the flush interval', async () => {
    const { out, stdout } = output(true);
    out.liveEvent('{"event":"tool_call","n":1}');
    out.liveEvent('{"event":"tool_call","n":2}');
    out.liveEvent('{"event":"tool_call","n":3}');
    expect(stdout).toEqual([]);
    await settle();
    expect(stdout).toEqual([
      '{"event":"tool_call","n":1}\n{"event":"tool_call","n":2}\n{"event":"tool_call","n":3}\n',
    ]);
  });

  it('writes other events and errors at once, after the live-log events that wait', () => {
    const { out, stdout, stderr } = output(true);
    out.liveEvent('{"event":"tool_call","n":1}');
    out.event({ event: 'ready', url: 'http://127.0.0.1:1/mcp' });
    expect(stdout.join('')).toBe(
      '{"event":"tool_call","n":1}\n{"event":"ready","url":"http://127.0.0.1:1/mcp"}\n',
    );
    out.liveEvent('{"event":"tool_call","n":2}');
    out.fail(new Error('boom'));
    expect(stdout.join('').split('\n').slice(2, 4)).toEqual([
      '{"event":"tool_call","n":2}',
      '{"event":"error","code":"unexpected","message":"Unexpected error: boom"}',
    ]);
    expect(stderr.join('')).toBe('mcp-valet: Unexpected error: boom\n');
  });

  it('keeps lines for people in order too, and writes nothing to stdout without --json', async () => {
    const { out, stdout, stderr } = output(false);
    out.liveEvent('{"event":"tool_call"}');
    out.liveSay('call 1');
    out.say('Stopped');
    out.liveSay('call 2');
    await settle();
    expect(stdout).toEqual([]);
    expect(stderr).toEqual(['call 1\n', 'Stopped\n', 'call 2\n']);
  });

  it('writes a tool_call event as the JSON the contract names', () => {
    expect(JSON.parse(toolCallEvent(call))).toEqual({
      event: 'tool_call',
      tool: 'get_user_details',
      key: 'vscode "dev"',
      account: null,
      outcome: 'failed',
      duration_ms: 1.25,
      graph_request_ids: ['r-1'],
      error: 'no_account',
    });
    const ok = { ...call, account: 'adele@contoso.test', outcome: 'ok' as const };
    delete ok.errorCode;
    expect(JSON.parse(toolCallEvent(ok))).toEqual({
      event: 'tool_call',
      tool: 'get_user_details',
      key: 'vscode "dev"',
      account: 'adele@contoso.test',
      outcome: 'ok',
      duration_ms: 1.25,
      graph_request_ids: ['r-1'],
    });
  });
});
