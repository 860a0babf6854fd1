#!/usr/bin/env node
import { QmpCommandError, QmpTimeoutError, QmpClosedError } from '../qmp/client.js';
import { HelpRequested, RunError, UserError } from '../util/errors.js';
import { catalogCommand } from './commands/catalog.js';
import { checkCommand } from './commands/check.js';
import { labCommand } from './commands/lab.js';
import { overviewCommand } from './commands/overview.js';
import { probeCommand } from './commands/probe.js';
import { resolveCommand } from './commands/resolve.js';
import { schemaCommand } from './commands/schema.js';
import { serveCommand } from './commands/serve.js';
import { tierCommand } from './commands/tier.js';
import { validateCommand } from './commands/validate.js';

const HELP = `guestabi: will this guest keep its platform when it starts, migrates or rolls back?

usage: guestabi [COMMAND] [OPTIONS]

  (no command)      probe this machine and summarise what it can run (without QEMU:
                    show and diff the shipped catalogs)
  probe             probe a QEMU build and this host: catalog and host profile
  catalog list      the shipped catalogs
  catalog show V    one catalog: --machines, --cpus, --machine NAME, --cpu NAME
  catalog diff A B  how two QEMU builds differ, machine type by machine type
  catalog regen     re-probe the fetched QEMU builds into data/catalog/
  resolve GUEST     pin a guest (libvirt XML, QEMU argv, JSON/YAML) against --host or --cluster:
                    versioned machine type and CPU model, every device's properties
  check GUEST       can it migrate --from HOST --to HOST (and back, --both-ways)?
  lab migrate       migrate a guest between two real QEMU builds and compare both sides
  lab verify FILE   check and migrate every scenario of a suite: predicted against observed
  tier              guest OS support tier on a machine type (--os, --machine; --matrix), from osinfo-db
  validate GUEST    vulnerability exposure, best practice and OS tier of a guest on --host: PASS/WARN/FAIL
  schema [NAME]     JSON Schema of guestabi's documents
  serve             the HTTP API and web page over a store (SQLite file, or PostgreSQL)

Every command prints for a person, or exact JSON with --json.
Exit codes: 0 fine, 1 a negative verdict, 2 bad input or failure to run.`;

type Command = (argv: string[]) => Promise<number> | number;

const COMMANDS: Record<string, Command> = {
  overview: overviewCommand,
  probe: probeCommand,
  resolve: resolveCommand,
  check: checkCommand,
  lab: labCommand,
  tier: tierCommand,
  validate: validateCommand,
  catalog: catalogCommand,
  schema: schemaCommand,
  serve: serveCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return overviewCommand(argv);
  const command = COMMANDS[first];
  if (!command) throw new UserError(`unknown command '${first}' (try guestabi --help)`);
  return command(rest);
}

function report(err: unknown): number {
  if (err instanceof HelpRequested) {
    process.stdout.write(`usage: ${err.usage}\n`);
    return 0;
  }
  if (err instanceof UserError || err instanceof RunError || err instanceof QmpCommandError || err instanceof QmpTimeoutError || err instanceof QmpClosedError) {
    process.stderr.write(`guestabi: ${err.message}\n`);
    if (process.env.GUESTABI_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return 2;
  }
  process.stderr.write(`guestabi: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 2;
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntryPoint || process.env.GUESTABI_CLI === '1') {
  // Output piped into head(1) and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = report(err);
    },
  );
}
