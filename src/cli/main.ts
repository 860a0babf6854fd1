#!/usr/bin/env node
import { GuestabiError, HelpRequested, UserError } from '../util/errors.js';

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
  preflight DOMAIN  before virsh migrate: the domain from --from URI, both hosts from their libvirt,
                    check's verdict, and the virsh command when it is safe
  hook              a libvirt hook (install, status, uninstall) that refuses an incoming migration
                    this host cannot give exactly, and logs what each start finds
  lab migrate       migrate a guest between two real QEMU builds and compare both sides
  lab verify FILE   check and migrate every scenario of a suite: predicted against observed
  registers         KVM/arm64 firmware registers across (kernel, VMM) pairs: list, diff (forward,
                    rollback, fence), matrix
  tier              guest OS support tier on a machine type (--os, --machine; --matrix), from osinfo-db
  viommu GUEST      the rung each assigned device gets of the guest's vIOMMU on --host (exact, shadowed,
                    refused), and for a device hotplugged later
  validate GUEST    vulnerability exposure, best practice and OS tier of a guest on --host: PASS/WARN/FAIL
  schema [NAME]     JSON Schema of guestabi's documents
  codes             every reason and problem code, with its level, effect and meaning
  serve             the HTTP API and web page over a store (SQLite file, or PostgreSQL)
  plan              fleet plans from an inventory: matrix, upgrade waves, baseline, admit a host

Every command prints for a person, or exact JSON with --json.
Exit codes: 0 fine, 1 a negative verdict, 2 bad input or failure to run.`;

type Command = (argv: string[]) => Promise<number> | number;

// Each command's module is imported only when it runs: --help and every other command stay fast
// (an operator's script calls guestabi once per VM), whatever the other commands import.
const COMMANDS: Record<string, () => Promise<Command>> = {
  overview: async () => (await import('./commands/overview.js')).overviewCommand,
  probe: async () => (await import('./commands/probe.js')).probeCommand,
  resolve: async () => (await import('./commands/resolve.js')).resolveCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  preflight: async () => (await import('./commands/preflight.js')).preflightCommand,
  hook: async () => (await import('./commands/hook.js')).hookCommand,
  lab: async () => (await import('./commands/lab.js')).labCommand,
  registers: async () => (await import('./commands/registers.js')).registersCommand,
  tier: async () => (await import('./commands/tier.js')).tierCommand,
  viommu: async () => (await import('./commands/viommu.js')).viommuCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  catalog: async () => (await import('./commands/catalog.js')).catalogCommand,
  schema: async () => (await import('./commands/schema.js')).schemaCommand,
  codes: async () => (await import('./commands/codes.js')).codesCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return (await COMMANDS.overview!())(argv);
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!load) throw new UserError(`unknown command '${first}' (try guestabi --help)`);
  return (await load())(rest);
}

function report(err: unknown): number {
  if (err instanceof HelpRequested) {
    process.stdout.write(`usage: ${err.usage}\n`);
    return 0;
  }
  // Every error guestabi means to throw says what went wrong and its own exit code; anything
  // else is a bug, shown with its stack.
  if (err instanceof GuestabiError) {
    process.stderr.write(`guestabi: ${err.message}\n`);
    if (process.env.GUESTABI_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return err.exitCode;
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
