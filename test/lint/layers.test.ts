import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: '.ci/eslint.config.js' });
});

/** The layer rules' messages for a snippet linted as if it were the file at `filePath`. */
async function refusals(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const messages = result?.messages ?? [];
  // A file the config ignores is "linted" with one warning and no rules: that would pass anything.
  expect(messages.filter((m) => m.message.includes('ignored'))).toEqual([]);
  return messages.filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

const importing = (spec: string) => `import { a } from '${spec}';\nexport const b = a;\n`;
const importingType = (spec: string) => `import type { A } from '${spec}';\nexport type B = A;\n`;
const loading = (spec: string) => `export const m = await import('${spec}');\n`;

describe('lint keeps main/core to itself and the contract', () => {
  const file = 'main/core/mcp/some-file.ts';
  const deep = 'main/core/mcp/tools/some-tool.ts';

  it.each([
    [file, '../../cli/main.ts'],
    [file, '../../demo/demo-ca.ts'],
    [file, '../../electron/ipc.ts'],
    [file, '../../../preload/index.ts'],
    [file, '../../../renderer/src/app.tsx'],
    [file, '../../../test/support/idp.ts'],
    [deep, '../../../cli/output.ts'],
    [deep, '../../../demo/graph/index.ts'],
  ])('%s may not import %s', async (path, spec) => {
    expect(await refusals(path, importing(spec))).toEqual([
      expect.stringContaining('main/core imports only itself and the contract'),
    ]);
  });

  it('refuses a dynamic import of the demo too', async () => {
    expect(await refusals(file, loading('../../demo/demo-environment.ts'))).toEqual([
      expect.stringContaining('main/core imports only itself and the contract'),
    ]);
  });

  it('refuses a package that only the demo and the tests have (the installer leaves it out)', async () => {
    expect(await refusals(file, importing('oidc-provider'))).toEqual([
      expect.stringContaining('only a devDependency'),
    ]);
  });

  it('allows its own files, the contract’s types and names, and packages the app ships', async () => {
    for (const [path, code] of [
      [file, importing('../util/valet-error.ts')],
      [deep, importing('../../util/valet-error.ts')],
      [file, importing('../../../preload/contract.ts')],
      [file, importingType('../../../preload/contract.ts')],
      [deep, importing('../../../../preload/contract.ts')],
      [file, importing('zod')],
      [file, importing('@azure/msal-node')],
    ] as const)
      expect(await refusals(path, code), `${path}: ${code}`).toEqual([]);
  });
});

describe('lint keeps main/demo to itself and the core', () => {
  const file = 'main/demo/graph/some-route.ts';

  it.each(['../../cli/main.ts', '../../electron/desktop-app.ts', '../../../renderer/src/app.tsx'])(
    'may not import %s',
    async (spec) => {
      expect(await refusals(file, importing(spec))).toEqual([
        expect.stringContaining('main/demo imports only itself and main/core'),
      ]);
    },
  );

  it('allows the core and the packages only the demo needs', async () => {
    for (const spec of ['../../core/mcp/tools/event-time.ts', '../store.ts', 'oidc-provider'])
      expect(await refusals(file, importing(spec)), spec).toEqual([]);
  });
});

describe('lint keeps the demo out of main/electron', () => {
  const file = 'main/electron/some-window.ts';

  it('refuses a static or dynamic import of main/demo', async () => {
    for (const code of [importing('../demo/demo-ca.ts'), loading('../demo/demo-environment.ts')])
      expect(await refusals(file, code), code).toEqual([
        expect.stringContaining('main/electron must not import main/demo'),
      ]);
  });

  it('refuses a package the installer leaves out', async () => {
    expect(await refusals(file, importing('oidc-provider'))).toEqual([
      expect.stringContaining('only a devDependency'),
    ]);
  });

  it('allows electron, the core and the CLI', async () => {
    for (const spec of ['electron', '../core/app/app-api.ts', '../cli/main.ts'])
      expect(await refusals(file, importing(spec)), spec).toEqual([]);
  });
});

describe('lint keeps the renderer to itself and the contract', () => {
  const file = 'renderer/src/views/some-view.tsx';

  it.each([
    '../../../main/core/util/valet-error.ts',
    '../../../preload/index.ts',
    '../../../main/demo/graph/index.ts',
  ])('may not import %s', async (spec) => {
    expect(await refusals(file, importing(spec))).toEqual([
      expect.stringContaining('renderer imports only its own files and the contract'),
    ]);
  });

  it('refuses electron', async () => {
    expect(await refusals(file, importing('electron'))).toEqual([
      expect.stringContaining('Only main/electron/** and preload/** may import electron'),
    ]);
  });

  it('allows its own files, the contract and react', async () => {
    for (const spec of ['../../../preload/contract.ts', '../api/current-api.ts', 'react'])
      expect(await refusals(file, importing(spec)), spec).toEqual([]);
  });
});

describe('lint keeps the demo out of the CLI but for its runner', () => {
  it('refuses a static or dynamic import of main/demo anywhere in main/cli', async () => {
    for (const [file, spec] of [
      ['main/cli/commands/some-command.ts', '../../demo/demo-ca.ts'],
      ['main/cli/some-helper.ts', '../demo/graph/index.ts'],
    ] as const)
      for (const code of [importing(spec), loading(spec)])
        expect(await refusals(file, code), `${file}: ${code}`).toEqual([
          expect.stringContaining('main/cli loads main/demo only in commands/demo-run.ts'),
        ]);
  });

  it('allows the demo in commands/demo-run.ts, and the core everywhere', async () => {
    expect(
      await refusals('main/cli/commands/demo-run.ts', importing('../../demo/demo-ca.ts')),
    ).toEqual([]);
    expect(
      await refusals('main/cli/commands/some-command.ts', importing('../../core/app/app-api.ts')),
    ).toEqual([]);
  });
});

describe('lint keeps the CLI off packages the installer leaves out', () => {
  it('refuses oidc-provider in main/cli but allows a type from it', async () => {
    const file = 'main/cli/commands/some-command.ts';
    expect(await refusals(file, importing('oidc-provider'))).toEqual([
      expect.stringContaining('only a devDependency'),
    ]);
    expect(await refusals(file, importingType('oidc-provider'))).toEqual([]);
  });
});
