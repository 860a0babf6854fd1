import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLED_PACKAGES, exportedEntries } from '../../tools/bundle-deps.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// npm run build bundles these into dist/node_modules/ (tools/bundle-deps.ts), where everything in
// dist/ finds them first: each must be the installed version, with every subpath and export.
for (const name of BUNDLED_PACKAGES) {
  test(`the bundled ${name} is the installed one, with all its subpaths and exports`, async (t) => {
    const shadowDir = join(ROOT, 'dist', 'node_modules', name);
    if (!existsSync(join(shadowDir, 'package.json'))) {
      t.skip(`${name} is not bundled (npm run build bundles it)`);
      return;
    }
    const realDir = join(ROOT, 'node_modules', name);
    const real = JSON.parse(readFileSync(join(realDir, 'package.json'), 'utf8'));
    const shadow = JSON.parse(readFileSync(join(shadowDir, 'package.json'), 'utf8'));
    assert.equal(shadow.version, real.version, `dist/node_modules/${name} is stale: run npm run build`);
    for (const [sub, file] of exportedEntries(real)) {
      assert.ok(shadow.exports[sub], `${name}: subpath ${sub}`);
      const original = (await import(pathToFileURL(join(realDir, file)).href)) as Record<string, unknown>;
      const bundled = (await import(pathToFileURL(join(shadowDir, shadow.exports[sub])).href)) as Record<string, unknown>;
      for (const key of Object.keys(original)) assert.equal(typeof bundled[key], typeof original[key], `${name}${sub.slice(1)}: export ${key}`);
    }
  });
}
