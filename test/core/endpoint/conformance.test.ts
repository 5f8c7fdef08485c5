import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const run = promisify(execFile);
const fx = useValet(adele, { key: 'conformance' });

/** The server scenarios of the MCP conformance suite that test what MCP Valet offers. */
const APPLICABLE = [
  'server-initialize',
  'ping',
  'tools-list',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
];

const TEST_TOOL = 'calls a test tool of the suite’s reference server';
/** The others, each with why it cannot apply to MCP Valet. */
const NOT_APPLICABLE: Record<string, string> = {
  'logging-set-level': 'MCP Valet offers no logging capability',
  'tools-call-with-logging': 'MCP Valet offers no logging capability',
  'completion-complete': 'MCP Valet offers no completions (it has no prompts or resources)',
  'tools-call-simple-text': `${TEST_TOOL} (test_simple_text); MCP Valet's tool names are fixed`,
  'tools-call-image': `${TEST_TOOL} (test_image_content); no MCP Valet tool returns images`,
  'tools-call-audio': `${TEST_TOOL} (test_audio_content); no MCP Valet tool returns audio`,
  'tools-call-embedded-resource': `${TEST_TOOL} (test_embedded_resource); no resources`,
  'tools-call-mixed-content': `${TEST_TOOL} (test_multiple_content_types); no images or resources`,
  'tools-call-error': `${TEST_TOOL} (test_error_handling); MCP Valet's tool names are fixed`,
  'tools-call-with-progress': `${TEST_TOOL} (test_tool_with_progress); MCP Valet's tool names are fixed`,
  'tools-call-sampling': 'MCP Valet never asks the client for sampling',
  'tools-call-elicitation':
    'MCP Valet never asks the client for elicitation (approvals are its own)',
  'elicitation-sep1034-defaults': 'MCP Valet never asks the client for elicitation',
  'elicitation-sep1330-enums': 'MCP Valet never asks the client for elicitation',
  'json-schema-2020-12': `${TEST_TOOL} (json_schema_2020_12_tool); MCP Valet's tool names are fixed`,
  'server-sse-polling': `${TEST_TOOL} (test_reconnection) and needs resumable streams, which MCP Valet does not keep`,
  'resources-list': 'MCP Valet offers no resources',
  'resources-read-text': 'MCP Valet offers no resources',
  'resources-read-binary': 'MCP Valet offers no resources',
  'resources-templates-read': 'MCP Valet offers no resources',
  'resources-subscribe': 'MCP Valet offers no resources',
  'resources-unsubscribe': 'MCP Valet offers no resources',
  'prompts-list': 'MCP Valet offers no prompts',
  'prompts-get-simple': 'MCP Valet offers no prompts',
  'prompts-get-with-args': 'MCP Valet offers no prompts',
  'prompts-get-embedded-resource': 'MCP Valet offers no prompts',
  'prompts-get-with-image': 'MCP Valet offers no prompts',
};

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** The conformance runner, pinned in package.json, run with this Node. */
function runner(): string {
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve('@modelcontextprotocol/conformance/package.json')),
    'dist',
    'index.js',
  );
}

/**
 * Runs one server scenario against the endpoint, presenting the valet key (the runner has
 * no option for headers: conformance-key.ts adds it), and returns the checks it wrote.
 */
async function scenario(name: string): Promise<Check[]> {
  const out = await mkdtemp(join(tmpdir(), 'valet-conformance-'));
  try {
    const preload = fileURLToPath(new URL('./conformance-key.ts', import.meta.url));
    const url = fx.valet.endpoint.url;
    await run(
      process.execPath,
      ['--import', preload, runner(), 'server', '--url', url, '--scenario', name, '-o', out],
      {
        cwd: out,
        timeout: 30_000,
        env: { ...process.env, VALET_CONFORMANCE_KEY: fx.secret, VALET_CONFORMANCE_URL: url },
      },
    ).catch((err: { code?: number; stderr?: string }) => {
      // Exit 1 means failed checks, which checks.json shows; anything else is the runner's.
      if (err.code !== 1) throw new Error(`conformance runner failed: ${err.stderr ?? err}`);
    });
    const file = (await readdir(out, { recursive: true })).find((f) => f.endsWith('checks.json'));
    if (!file) throw new Error(`the conformance runner wrote no checks for ${name}`);
    return JSON.parse(await readFile(join(out, file), 'utf8')) as Check[];
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

describe('MCP conformance suite, server scenarios', () => {
  it('runs every scenario of the suite here, or names why it cannot apply', async () => {
    const { stdout } = await run(process.execPath, [runner(), 'list', '--server']);
    const listed = stdout
      .split('\n')
      .filter((line) => line.startsWith('  - '))
      .map((line) => line.slice(4).split(' ')[0]!);
    expect(listed.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual([...APPLICABLE, ...Object.keys(NOT_APPLICABLE)].sort());
  });

  it.each(APPLICABLE)('%s passes against the endpoint with a valet key', async (name) => {
    const checks = await scenario(name);
    const failed = checks.filter((c) => c.status === 'FAILURE');
    expect(failed.map((c) => `${c.id}: ${c.errorMessage ?? ''}`)).toEqual([]);
    expect(checks.some((c) => c.status === 'SUCCESS')).toBe(true);
  });
});
