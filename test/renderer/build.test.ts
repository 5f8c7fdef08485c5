import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const renderer = fileURLToPath(new URL('../../renderer/', import.meta.url));
const outDir = await mkdtemp(join(tmpdir(), 'mcp-valet-renderer-'));
afterAll(() => rm(outDir, { recursive: true, force: true }));

describe('The built window', () => {
  it('has no inline script, style or event handler, and keeps its CSP', async () => {
    // Into a temporary directory, so the test never races `npm run build` over dist/.
    await build({
      configFile: join(renderer, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    expect(html).toContain(
      `content="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"`,
    );
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).toMatch(/<link rel="stylesheet"[^>]*href="\.\/assets\/[^"]+\.css"/);
    const assets = await readdir(join(outDir, 'assets'));
    expect(assets.some((f) => f.endsWith('.css'))).toBe(true);
  });

  it('carries no schema library: the window takes only names and types from the contract', async () => {
    const scripts = (await readdir(join(outDir, 'assets'))).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const source = await readFile(join(outDir, 'assets', script), 'utf8');
      expect(/ZodError|safeParse|\$ZodType/.test(source), `${script} holds zod`).toBe(false);
    }
  });

  it('sets no style attributes and no raw HTML in its source', async () => {
    const files = (await readdir(join(renderer, 'src'), { recursive: true })).filter((f) =>
      f.endsWith('.tsx'),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const source = await readFile(join(renderer, 'src', file), 'utf8');
      expect(source, file).not.toMatch(/\bstyle=\{/);
      expect(source, file).not.toMatch(/dangerouslySetInnerHTML/);
    }
  });
});
