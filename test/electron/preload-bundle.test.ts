import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const preload = fileURLToPath(new URL('../../preload/', import.meta.url));
const outDir = await mkdtemp(join(tmpdir(), 'mcp-valet-preload-'));
afterAll(() => rm(outDir, { recursive: true, force: true }));

describe('the built preload script', () => {
  it('is under 20 KB and carries no schema library: the contract it uses is names and types', async () => {
    // Into a temporary directory, so the test never races `npm run build` over dist/.
    await build({
      configFile: join(preload, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
    const file = join(outDir, 'index.cjs');
    const { size } = await stat(file);
    expect(size).toBeLessThan(20 * 1024);
    const source = await readFile(file, 'utf8');
    expect(/zod|ZodError|safeParse/.test(source), 'the preload holds zod').toBe(false);
    expect(source).toContain('valet:call:');
    expect(source).toContain('valet:event');
  });
});
