import { join } from 'node:path';
import { SCHEMAS } from '../../model/index.js';
import { UserError } from '../../util/errors.js';
import { checkOutputFolder, writeFileAtomic } from '../../util/files.js';
import { parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';

const USAGE = `guestabi schema [NAME] [--out DIR]
  --out DIR  write every schema into the folder DIR as NAME.schema.json (DIR is made if its parent exists)`;

/** The JSON Schema of guestabi's documents, generated from the same schemas that type and
 *  validate them (src/model/). */
export function schemaCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' } }, USAGE);
  const names = Object.keys(SCHEMAS);
  if (values.out !== undefined) {
    if (positionals.length) throw new UserError(`--out writes every schema; give no NAME with it\nusage: ${USAGE}`);
    checkOutputFolder(values.out, '--out');
    for (const [name, schema] of Object.entries(SCHEMAS)) writeFileAtomic(join(values.out, `${name}.schema.json`), JSON.stringify(schema, null, 2) + '\n');
    print(`wrote ${names.length} schemas to ${values.out}`);
    return 0;
  }
  if (positionals.length === 0) {
    print(names.join('\n'));
    return 0;
  }
  const schema = SCHEMAS[positionals[0]!];
  if (!schema) throw new UserError(`no schema '${positionals[0]}' (have: ${names.join(', ')})`);
  printJson(schema);
  return 0;
}
