import { CODES, type Code, type CodeInfo, isCode } from '../../model/codes.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { print, printJson, table } from '../output.js';

const USAGE = 'guestabi codes [CODE ...] [--json]';

export const CODES_SCHEMA_ID = 'guestabi/codes@1';

/** Every code guestabi emits (src/model/codes.ts), or the ones named: what it means, how bad it
 *  is, what it does to a migration verdict and where it appears. */
export function codesCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE);
  const unknown = positionals.filter((c) => !isCode(c));
  if (unknown.length) throw new UserError(`no such code: ${unknown.join(', ')} (guestabi codes lists them all)`);
  const names = (positionals.length ? [...new Set(positionals)] : Object.keys(CODES)).sort() as Code[];
  const entries: ({ code: Code } & CodeInfo)[] = names.map((code) => ({ code, ...CODES[code] }));
  if (values.json) {
    printJson({ schema: CODES_SCHEMA_ID, codes: entries });
    return 0;
  }
  print(
    table(
      entries.map((e) => [e.code, e.level, e.effect, e.documents.join(','), e.meaning]),
      ['CODE', 'LEVEL', 'EFFECT', 'IN', 'MEANING'],
    ),
  );
  print();
  print('LEVEL: the most severe level it comes with. EFFECT: the migration verdict it alone implies (none: it never decides one).');
  print('IN: verdict (check), pinned-abi (resolve), tier, validation, fleet (plans), http (problem answers of serve).');
  return 0;
}
