// Loaded with `node --import` before the team server: any import of a package that is only a
// devDependency fails loudly, naming the package and its importer, as it would in the image,
// whose node_modules hold the production dependencies alone.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const manifest = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { devDependencies: Record<string, string> };
const devOnly = new Set(Object.keys(manifest.devDependencies));

registerHooks({
  resolve(specifier, context, nextResolve) {
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (name && devOnly.has(name))
      throw new Error(
        `the team server imported ${name}, a devDependency the image does not have (from ${context.parentURL ?? 'the command line'})`,
      );
    return nextResolve(specifier, context);
  },
});
