// Lint rules for every layer. Run from the repository root: `npm run lint`.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const electronOnlyInShell = {
  paths: [
    {
      name: 'electron',
      message:
        'Only main/electron/** and preload/** may import electron; pass what you need in from the shell.',
    },
  ],
  patterns: [
    { group: ['electron/*'], message: 'Only main/electron/** and preload/** may import electron.' },
  ],
};

// The installer packs only `dependencies`: code the packaged app runs must not need a package
// that is only a devDependency (the demo's IdP, the build tools). Types are erased, so they may.
const devOnly = Object.keys(pkg.devDependencies).filter(
  (name) => !(name in pkg.dependencies) && name !== 'electron',
);
const noDevPackages = {
  paths: devOnly.map((name) => ({
    name,
    allowTypeImports: true,
    message: `${name} is only a devDependency, so the desktop installer leaves it out; move it to dependencies or keep this code in main/demo.`,
  })),
  patterns: [
    {
      group: devOnly.map((name) => `${name}/*`),
      allowTypeImports: true,
      message:
        'This package is only a devDependency, so the desktop installer leaves it out; move it to dependencies or keep this code in main/demo.',
    },
  ],
};

// The contract the layers share: its types, call names and channel names. The schemas that
// validate it live in main/, so this is all a layer outside main/ may read of the app.
const CONTRACT = ['preload/contract.ts', 'preload/contract/', 'preload/contract-'];

/**
 * The layers and where each may reach with a relative import (paths from the repository root;
 * one ending in `/` is a folder, one ending in `-` a file-name prefix). `may` lists everything
 * allowed outside the layer's own folder; `mayNot` lists what is refused, everything else allowed.
 */
const LAYERS = [
  {
    dir: 'main/core',
    may: CONTRACT,
    message:
      'main/core imports only itself and the contract (preload/contract): the CLI, the Electron shell and the demo are built on the core, never the other way.',
  },
  {
    dir: 'main/demo',
    may: ['main/core/'],
    message:
      'main/demo imports only itself and main/core: the demo tenant must run without the CLI, the shell or the window.',
  },
  {
    dir: 'main/electron',
    mayNot: ['main/demo/'],
    message:
      'main/electron must not import main/demo: the desktop installer leaves the demo out (run the demo from a checkout: npx mcp-valet demo).',
  },
  {
    dir: 'main/cli',
    mayNot: ['main/demo/'],
    message:
      'main/cli loads main/demo only in commands/demo-run.ts, which the demo command imports when it runs: the desktop installer leaves the demo out.',
  },
  {
    dir: 'renderer',
    may: CONTRACT,
    message:
      'renderer imports only its own files and the contract (preload/contract): it reaches the app through the AppApi alone.',
  },
];

// Slashes are escaped too: the same regex goes into an esquery selector, written /…/.
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A regex alternative for a root-relative target, seen from the folder holding `dir`. */
function target(dir, path) {
  const rel = posix.relative(posix.dirname(dir), path.replace(/[/-]$/, ''));
  if (path.endsWith('/')) return `${escape(rel)}(?:\\/|$)`;
  if (path.endsWith('-')) return `${escape(rel)}-`;
  return `${escape(rel)}$`;
}

/**
 * The specifiers refused in a file `depth` folders below the layer's folder. A relative import
 * leaves the layer when it climbs `depth + 1` times; what follows is then read from the folder
 * that holds the layer, so one regex per depth says exactly where an import lands.
 */
function refusedRegex(layer, depth) {
  const climb = `^(?:\\.\\.\\/){${depth + 1}}`;
  if (layer.mayNot) return `${climb}(?:${layer.mayNot.map((p) => target(layer.dir, p)).join('|')})`;
  const own = `${escape(posix.basename(layer.dir))}(?:\\/|$)`;
  return `${climb}(?!${[own, ...layer.may.map((p) => target(layer.dir, p))].join('|')})`;
}

/** Folders this deep below a layer are more than the app has; the rule covers them all. */
const MAX_DEPTH = 8;
const PRODUCTION = ['main/core', 'main/cli', 'main/electron'];

function layerBlocks(layer) {
  return Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => {
    const regex = refusedRegex(layer, depth);
    const production = PRODUCTION.includes(layer.dir);
    const base = layer.dir === 'main/electron' ? { paths: [], patterns: [] } : electronOnlyInShell;
    return {
      files: [`${layer.dir}/${'*/'.repeat(depth)}*.{ts,tsx,js,mjs,cjs}`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: [...base.paths, ...(production ? noDevPackages.paths : [])],
            patterns: [
              ...base.patterns,
              ...(production ? noDevPackages.patterns : []),
              { regex, message: layer.message },
            ],
          },
        ],
        // no-restricted-imports does not look at import(); the demo is loaded that way.
        'no-restricted-syntax': [
          'error',
          { selector: `ImportExpression[source.value=/${regex}/]`, message: layer.message },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', '.node/**', 'node_modules/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': ['error', electronOnlyInShell],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  ...LAYERS.flatMap(layerBlocks),
  {
    // The demo's runner: the one file of the CLI that may load the demo.
    files: ['main/cli/commands/demo-run.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronOnlyInShell.paths, ...noDevPackages.paths],
          patterns: [...electronOnlyInShell.patterns, ...noDevPackages.patterns],
        },
      ],
      'no-restricted-syntax': 'off',
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
