import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Builds the preload script. Sandboxed preloads cannot load other files, so Vite bundles it
 * into one CommonJS file; `electron` stays external because Electron provides it.
 */
export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('../dist/preload', import.meta.url)),
    // tsc has already put the compiled contract here (the main process imports it).
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: true,
    lib: {
      entry: fileURLToPath(new URL('./index.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'index.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
