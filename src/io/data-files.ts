import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { errorMessage, RunError } from '../util/errors.js';
import { parseJsonOrYaml, readUserFile, writeFileAtomic } from '../util/files.js';

/** guestabi's own data: rules, visibility, policy (YAML, with their sources) and catalogs. */
export const DATA_DIR = fileURLToPath(new URL('../../../data/', import.meta.url));

/** What `npm run build` derives from data/ (tools/prebuild-data.ts): never edited, never the source. */
export const PREBUILT_DIR = fileURLToPath(new URL('../../prebuilt/', import.meta.url));

const DATA_JSON_DIR = join(PREBUILT_DIR, 'data');

/** The JSON form of one YAML data file, with the size and time of the file it was made from. */
interface DataJson {
  size: number;
  mtimeMs: number;
  value: unknown;
}

/**
 * A data file (JSON or YAML). A file of data/ is read from the JSON form the build made of it when
 * that is current: the YAML library and parse cost more than the check that reads the rules. Any
 * other file (--rules FILE, --policy FILE) is read as written.
 */
export function readDataFile(path: string, what: string): unknown {
  const rel = relative(DATA_DIR, resolve(path));
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
    const json = join(DATA_JSON_DIR, `${rel}.json`);
    if (existsSync(json)) {
      let d: DataJson;
      try {
        d = JSON.parse(readFileSync(json, 'utf8')) as DataJson;
      } catch (e) {
        throw new RunError(`the prebuilt form ${json} is unreadable (${errorMessage(e)}): rebuild it with npm run build`, { cause: e });
      }
      const now = statSync(path, { throwIfNoEntry: false });
      if (now && now.size === d.size && now.mtimeMs === d.mtimeMs) return d.value;
    }
  }
  return parseJsonOrYaml(readUserFile(path, what), path);
}

/** Write the JSON form of every YAML file of data/ (those JSON can say exactly). */
export function writeDataJson(dir = DATA_DIR, out = DATA_JSON_DIR): string[] {
  const written: string[] = [];
  for (const rel of yamlFiles(dir, '')) {
    const file = join(dir, rel);
    const stat = statSync(file);
    const value = parseJsonOrYaml(readUserFile(file, 'data file'), file);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value)) continue;
    writeFileAtomic(join(out, `${rel}.json`), JSON.stringify({ size: stat.size, mtimeMs: stat.mtimeMs, value } satisfies DataJson) + '\n');
    written.push(rel);
  }
  return written;
}

function yamlFiles(dir: string, rel: string): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? yamlFiles(dir, join(rel, e.name)) : /\.ya?ml$/.test(e.name) ? [join(rel, e.name)] : []));
}
