import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadGuest, type LoadedGuest } from '../formats/guest-input.js';
import { HelpRequested, UserError } from '../util/errors.js';
import { LIMIT_SETTINGS, limitsFromEnv, parseLimit, setLimits, type Limits } from '../resolve/limits.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
}

/** Flags that may not be given together, each pair named as the user wrote them. */
const EXCLUSIVE: [string, string][] = [
  ['dest-guest', 'dest-guest-argv'],
  ['host', 'cluster'],
];

/** The limit flags every command takes (src/resolve/limits.ts); GUESTABI_MAX_* set the same. */
const LIMIT_FLAGS = new Map(Object.entries(LIMIT_SETTINGS).map(([key, s]) => [s.flag, key as keyof Limits]));

/**
 * node:util parseArgs with errors that name the flag, as UserErrors (exit 2). A flag given twice
 * is an error (unless it takes several values), never a silent last-one-wins; so are two flags
 * that exclude each other. The limit flags (--max-input-bytes...) are taken here for every command.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string): Parsed<O> {
  setLimits(limitsFromEnv(process.env));
  // A value may start with '-' (--guest-argv "-machine q35 ..."): bind it to its option.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '--help' || a === '-h') throw new HelpRequested(usage);
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const limit = LIMIT_FLAGS.get(flag);
    if (limit !== undefined) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UserError(`${flag} needs a value\nusage: ${usage}`);
      setLimits({ [limit]: parseLimit(v, flag) });
      continue;
    }
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && argv[i + 1]?.startsWith('-')) args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  let r: ReturnType<typeof parseArgs>;
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    throw new UserError(`${msg}\nusage: ${usage}`);
  }
  checkRepeatsAndPairs(r.tokens ?? [], options, usage);
  return { values: r.values, positionals: r.positionals } as unknown as Parsed<O>;
}

function checkRepeatsAndPairs(tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>, options: Options, usage: string): void {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name) && !options[t.name]?.multiple) throw new UserError(`${t.rawName} is given more than once: give it once\nusage: ${usage}`);
    seen.add(t.name);
  }
  for (const [a, b] of EXCLUSIVE) {
    if (seen.has(a) && seen.has(b)) throw new UserError(`give --${a} or --${b}, not both\nusage: ${usage}`);
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
