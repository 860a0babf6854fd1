import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { isSystemError, RunError, UserError } from './errors.js';
import { checkLimit } from '../resolve/limits.js';

// yaml is loaded when YAML is first read: a command that reads only JSON (host profiles, the
// prebuilt forms of the shipped data) saves its 60-odd files, ~25 ms of a whole run.
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlModule;
}

/** Read a file the user named; a missing or unreadable file is their mistake, said plainly. A
 *  file over the input limit (src/resolve/limits.ts) is refused before it is read. */
export function readUserFile(path: string, what = 'file'): string {
  try {
    const st = statSync(path);
    if (st.isFile()) checkLimit('inputBytes', st.size, `the ${what} is too big`, path);
    const text = readFileSync(path, 'utf8');
    if (!st.isFile()) checkLimit('inputBytes', Buffer.byteLength(text), `the ${what} is too big`, path);
    return text;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (e as Error).message;
    throw new UserError(`cannot read ${what}: ${why}`, path);
  }
}

/** Parse JSON, or YAML when the name says so or the text is not JSON; errors name the line. */
export function parseJsonOrYaml(text: string, source: string): unknown {
  const trimmed = text.trimStart();
  const looksJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  if (looksJson && !/\.ya?ml$/i.test(source)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message);
      const where = m ? lineColumn(text, Number(m[1])) : '';
      throw new UserError(`malformed JSON${where ? ` at ${where}` : ''}: ${(e as Error).message}`, source);
    }
  }
  const { parseDocument, YAMLError } = yaml();
  try {
    // Warnings (an unknown tag taken as a string...) would go to stderr through process.emitWarning:
    // they are the user's to fix, said with the line, like errors.
    const doc = parseDocument(text, { prettyErrors: true, logLevel: 'silent' });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw problem;
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof YAMLError) {
      const pos = e.linePos?.[0];
      const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new UserError(`malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${what}`, source);
    }
    throw new UserError(`malformed YAML: ${(e as Error).message}`, source);
  }
}

export function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/** File systems that hold no files of ours: writing there fails late, oddly (Node's recursive
 *  mkdir loops forever on /proc, which answers ENOENT for a folder whose parent exists), or
 *  replaces a device node. /dev/shm is an ordinary tmpfs. */
const SPECIAL_ROOTS = ['/proc', '/sys', '/dev'];
const ORDINARY_UNDER_SPECIAL = ['/dev/shm'];

export function underSpecialRoot(path: string): string | undefined {
  const inside = (root: string) => path === root || path.startsWith(`${root}/`);
  if (ORDINARY_UNDER_SPECIAL.some(inside)) return undefined;
  return SPECIAL_ROOTS.find(inside);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Whether we may create files in `dir`: tried for real (as root, access(2) says yes to a
 *  read-only mount), with a file removed at once. */
function checkWritableFolder(dir: string, flag: string): void {
  const probe = join(dir, `.guestabi-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot write in ${dir} (${code ?? (e as Error).message})`, flag);
  }
}

/** The real folder an output goes in: it must exist (no folders made on the quiet), be a folder,
 *  not be on a special file system, and take new files. */
function checkParentFolder(path: string, flag: string): void {
  const parent = dirname(path);
  const st = statOrUndefined(parent);
  if (!st) throw new UserError(`folder ${parent} does not exist (create it first)`, flag);
  if (!st.isDirectory()) throw new UserError(`${parent} is not a folder`, flag);
  const special = underSpecialRoot(realpathSync(parent));
  if (special) throw new UserError(`${path} is on ${special}, a special file system: not a place for output files`, flag);
  checkWritableFolder(parent, flag);
}

/**
 * Check an output file named by `flag` before any work is done, so that a long probe does not end
 * in an error: an existing path must be a regular file (not a folder, device, FIFO or socket), and
 * its folder must exist and take new files (the write is a temporary file renamed over it).
 */
export function checkOutputFile(path: string, flag: string): void {
  if (path === '') throw new UserError('give a file name', flag);
  const abs = resolve(path);
  const st = statOrUndefined(abs);
  if (st?.isDirectory()) throw new UserError(`${path} is a folder; give a file name (for example ${join(path, 'out.json')})`, flag);
  if (st && !st.isFile()) throw new UserError(`${path} is not a regular file (a device, FIFO or socket)`, flag);
  const special = underSpecialRoot(abs);
  if (special) throw new UserError(`${path} is on ${special}, a special file system: not a place for output files`, flag);
  checkParentFolder(abs, flag);
}

/**
 * Check an output folder named by `flag`: an existing folder that takes new files, or a new one
 * whose parent exists (made then, like mkdir without -p). A file is refused: the command writes
 * several files into the folder.
 */
export function checkOutputFolder(path: string, flag: string): void {
  if (path === '') throw new UserError('give a folder', flag);
  const abs = resolve(path);
  const st = statOrUndefined(abs);
  if (st && !st.isDirectory()) throw new UserError(`${path} is ${st.isFile() ? 'a file' : 'not a folder'}; ${flag} takes a folder to write files into`, flag);
  const special = underSpecialRoot(abs);
  if (special) throw new UserError(`${path} is on ${special}, a special file system: not a place for output files`, flag);
  if (st) {
    if (underSpecialRoot(realpathSync(abs))) throw new UserError(`${path} is on a special file system: not a place for output files`, flag);
    checkWritableFolder(abs, flag);
  } else {
    checkParentFolder(abs, flag);
  }
}

/** Make `dir` and its missing parents, one level at a time: Node's own recursive mkdir spins at
 *  100% CPU forever where mkdir answers ENOENT although the parent exists (/proc). */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !statOrUndefined(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Write whole or not at all: a temporary file renamed over the target. A failure (disk full, a
 *  path that became a folder) leaves no temporary file and is a RunError naming the file. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    makeFolders(dirname(path));
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (!isSystemError(e)) throw e;
    throw new RunError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
