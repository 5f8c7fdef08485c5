import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const argv = process.argv;

/** A fresh module registry per test, so the entry evaluates again; the fake comes with it. */
async function freshElectron() {
  vi.resetModules();
  const fake = await import('./fake-electron.ts');
  fake.resetFakeElectron();
  return fake;
}

beforeEach(async () => {
  // The entry reads the real environment: point it at a scratch data folder and a free port.
  process.env.VALET_DATA_DIR = await mkdtemp(join(tmpdir(), 'valet-entry-'));
  process.env.VALET_PORT = '0';
  delete process.env.VALET_KEY;
});
afterEach(() => {
  process.argv = argv;
});

async function settled(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

describe('the main process entry', () => {
  it('finishes evaluating before ready (as Electron requires), then starts the app', async () => {
    const { app, BrowserWindow, platform, Tray } = await freshElectron();
    platform.holdReady = true;
    process.argv = ['/opt/electron', '/opt/mcp-valet'];
    expect(await settled(import('../../main/electron/index.ts'), 10_000)).toBe(true);
    // app:// was declared privileged while the entry evaluated, before ready.
    expect(platform.schemes).toHaveLength(1);
    expect(BrowserWindow.all).toHaveLength(0);
    app.markReady();
    for (let i = 0; i < 200 && Tray.all.length === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(BrowserWindow.all).toHaveLength(1);
    expect(Tray.all).toHaveLength(1);
    app.quit();
    for (let i = 0; i < 200 && !platform.quitted; i++) await new Promise((r) => setTimeout(r, 25));
    expect(platform.quitted).toBe(true);
  });

  it('runs as Claude Desktop’s stdio bridge without a window, and says what is missing', async () => {
    const { BrowserWindow, platform, Tray } = await freshElectron();
    process.argv = ['/opt/electron', '/opt/mcp-valet', 'stdio'];
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await import('../../main/electron/index.ts');
      for (let i = 0; i < 200 && platform.exitCode === undefined; i++)
        await new Promise((r) => setTimeout(r, 25));
    } finally {
      write.mockRestore();
    }
    expect(platform.exitCode).toBe(1);
    expect(written.join('')).toContain('VALET_KEY is not set');
    expect(BrowserWindow.all).toHaveLength(0);
    expect(Tray.all).toHaveLength(0);
  });

  it('sets V8’s heap limits before it loads the app', async () => {
    const { platform } = await freshElectron();
    process.argv = ['/opt/electron', '/opt/mcp-valet', 'stdio'];
    const order: string[] = [];
    const setFlags = vi
      .spyOn(v8, 'setFlagsFromString')
      .mockImplementation((flag: string) => void order.push(flag));
    vi.doMock('../../main/electron/desktop-app.ts', async (importOriginal) => {
      order.push('the app');
      return importOriginal();
    });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await import('../../main/electron/index.ts');
      for (let i = 0; i < 200 && platform.exitCode === undefined; i++)
        await new Promise((r) => setTimeout(r, 25));
    } finally {
      write.mockRestore();
      setFlags.mockRestore();
      vi.doUnmock('../../main/electron/desktop-app.ts');
    }
    expect(order).toEqual(['--semi-space-growth-factor=1', '--heap-growing-percent=30', 'the app']);
  });
});
