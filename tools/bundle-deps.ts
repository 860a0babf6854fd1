/**
 * npm run build: each pure-JavaScript dependency the CLI loads on every run, bundled into one
 * package under dist/node_modules/, where Node finds it first for everything in dist/.
 *
 * Why: Node 20 loads an ES module package file by file. @sinclair/typebox is 218 files and took
 * 50-60 ms of a 200 ms `guestabi check` here (an operator's script calls guestabi once per VM);
 * bundled it loads in about 8 ms. The code is the same (same version; each package is one build, so
 * its module state, such as TypeBox's FormatRegistry, stays one), and every subpath the package
 * exports is kept. Without this step (or without rolldown, vite's bundler) the packages load from
 * node_modules/ as before. A test checks that each bundle has its package's version and subpaths.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'dist', 'node_modules');

/** The packages bundled: loaded by most commands, no native code, no files read beside their code.
 *  yaml is left out: util/files.ts loads it on first use of YAML. */
export const BUNDLED_PACKAGES = ['@sinclair/typebox', '@xmldom/xmldom'];

/** What this tool needs of rolldown (a dependency of vite). */
interface Rolldown {
  rolldown(options: { input: Record<string, string>; platform: 'node'; logLevel: 'warn' }): Promise<{
    write(options: { dir: string; format: 'esm'; entryFileNames: string; chunkFileNames: string }): Promise<unknown>;
    close(): Promise<void>;
  }>;
}

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  main?: string;
  exports?: string | Record<string, unknown>;
}

// The conditions Node matches for `import` (in the order the package lists them).
const CONDITIONS = new Set(['node', 'import', 'default']);

function target(spec: unknown): string | undefined {
  if (typeof spec === 'string') return spec;
  if (!spec || typeof spec !== 'object') return undefined;
  for (const [k, v] of Object.entries(spec)) {
    if (!CONDITIONS.has(k)) continue;
    const t = target(v);
    if (t) return t;
  }
  return undefined;
}

/** Each subpath the package exports (no patterns), with the file Node imports for it. */
export function exportedEntries(pkg: PackageJson): [subpath: string, file: string][] {
  const map = pkg.exports === undefined ? { '.': `./${pkg.main ?? 'index.js'}` } : typeof pkg.exports === 'string' ? { '.': pkg.exports } : pkg.exports;
  const out: [string, string][] = [];
  for (const [sub, spec] of Object.entries(map)) {
    if (sub.includes('*') || sub === './package.json' || !sub.startsWith('.')) continue;
    const file = target(spec);
    if (file && !file.endsWith('.json')) out.push([sub, file]);
  }
  return out;
}

function entryName(subpath: string): string {
  return subpath === '.' ? 'index' : subpath.slice(2).replace(/[^\w-]/g, '-');
}

/** A CommonJS file as an ES module with the same default and named exports. */
function esmWrapper(file: string, scratch: string, name: string): string {
  const req = createRequire(file);
  const names = Object.keys(req(file) as object).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  const wrapper = join(scratch, `${name}.mjs`);
  writeFileSync(wrapper, `import m from ${JSON.stringify(file)};\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`);
  return wrapper;
}

async function bundle(rolldown: Rolldown, name: string): Promise<void> {
  const dir = join(ROOT, 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  const scratch = join(OUT, '.scratch', name);
  mkdirSync(scratch, { recursive: true });
  const input: Record<string, string> = {};
  const exportsMap: Record<string, string> = {};
  for (const [sub, rel] of exportedEntries(pkg)) {
    const file = join(dir, rel);
    const isEsm = file.endsWith('.mjs') || (file.endsWith('.js') && pkg.type === 'module');
    const e = entryName(sub);
    input[e] = isEsm ? file : esmWrapper(file, scratch, e);
    exportsMap[sub] = `./${e}.mjs`;
  }
  const dest = join(OUT, name);
  rmSync(dest, { recursive: true, force: true });
  const build = await rolldown.rolldown({ input, platform: 'node', logLevel: 'warn' });
  await build.write({ dir: dest, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: 'chunk-[hash].mjs' });
  await build.close();
  const shadow = { name, version: pkg.version, type: 'module', exports: { ...exportsMap, './package.json': './package.json' } };
  writeFileSync(join(dest, 'package.json'), JSON.stringify(shadow, null, 2) + '\n');
}

async function loadRolldown(): Promise<Rolldown | undefined> {
  const name = 'rolldown';
  try {
    return (await import(name)) as Rolldown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return undefined;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const rolldown = await loadRolldown();
  if (!rolldown) {
    console.log('bundle-deps: rolldown is not installed; the dependencies load from node_modules/ (a slower start)');
  } else {
    for (const name of BUNDLED_PACKAGES) await bundle(rolldown, name);
    rmSync(join(OUT, '.scratch'), { recursive: true, force: true });
    console.log(`bundle-deps: ${BUNDLED_PACKAGES.join(', ')} into ${OUT}`);
  }
}
