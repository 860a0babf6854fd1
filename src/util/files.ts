import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as Yaml from 'yaml';
import { UserError } from './errors.js';

// yaml is loaded when YAML is first read: a command that reads only JSON (host profiles, the
// prebuilt forms of the shipped data) saves its 60-odd files, ~25 ms of a whole run.
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlModule;
}

/** Read a file the user named; a missing or unreadable file is their mistake, said plainly. */
export function readUserFile(path: string, what = 'file'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
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
  const { parse, YAMLParseError } = yaml();
  try {
    return parse(text, { prettyErrors: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      throw new UserError(`malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`, source);
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

/** Write whole or not at all: a temporary file renamed over the target. */
export function writeFileAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
