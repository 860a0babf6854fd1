import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadGuest, type LoadedGuest } from '../formats/guest-input.js';
import { HelpRequested, UserError } from '../util/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
}

/** node:util parseArgs with errors that name the flag, as UserErrors (exit 2). */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string): Parsed<O> {
  // A value may start with '-' (--guest-argv "-machine q35 ..."): bind it to its option.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '--help' || a === '-h') throw new HelpRequested(usage);
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && argv[i + 1]?.startsWith('-')) args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return r as unknown as Parsed<O>;
  } catch (e) {
    const msg = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    throw new UserError(`${msg}\nusage: ${usage}`);
  }
}

export function requireOne(positionals: string[], what: string, usage: string): string {
  if (positionals.length !== 1) {
    throw new UserError(`expected one ${what}, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}\nusage: ${usage}`);
  }
  return positionals[0]!;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`must be one of ${allowed.join(', ')}, not '${value}'`, flag);
  return value as T;
}

/** The options of every command that reads one guest (resolve, check, validate). */
export const GUEST_OPTIONS = {
  'guest-argv': { type: 'string' },
  catalog: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/** The options of the commands that weigh a guest OS (tier, validate). */
export const OS_POLICY_OPTIONS = {
  osinfo: { type: 'string' },
  policy: { type: 'string' },
  today: { type: 'string' },
} as const;

/** The one guest a command reads: a file argument or --guest-argv. */
export function loadOneGuest(positionals: string[], argvText: string | undefined, usage: string): LoadedGuest {
  if (positionals.length > 1) throw new UserError(`one guest at a time\nusage: ${usage}`);
  return loadGuest({ file: positionals[0], argv: argvText });
}
