import type { CatalogIndex } from '../catalog/catalog.js';
import { shippedCatalogs } from '../io/catalog-files.js';
import { parseGuestText } from '../formats/guest-input.js';
import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi, ResolutionPolicy } from '../model/pinned.js';
import type { Reason } from '../model/reason.js';
import { pinnedSpec } from '../resolve/pinned-spec.js';
import { ResolveError, type TargetHost } from '../resolve/target.js';
import { answerResolve } from '../service/answers.js';
import type { ServerContext } from './context.js';
import { HttpProblem } from './problem.js';
import type { GuestPut } from './schemas.js';
import { abiClass, cpuAsWritten, guestFlags } from './summaries.js';

/** A guest as the store keeps it: the definition as given, what it reads as, and its pinned ABI. */
export interface GuestRecord {
  host: string | null;
  format: 'libvirt' | 'argv' | 'spec';
  definition: string;
  spec: GuestSpec;
  pinned: PinnedAbi | null;
  pinError: { message: string; reasons: Reason[] } | null;
  abiClass: string;
  os: string | null;
  machine: string;
  cpu: string;
  pinnedMachine: string | null;
  pinnedCpu: string | null;
  flags: string[];
}

/** The catalog a guest's names are judged in: its host's, else the newest shipped one that knows its machine. */
function catalogOf(spec: GuestSpec, host: TargetHost | undefined): CatalogIndex | undefined {
  return host?.catalog ?? [...shippedCatalogs()].reverse().find((c) => c.machine(spec.machine.type));
}

function pin(spec: GuestSpec, host: TargetHost | undefined, policy: ResolutionPolicy, source: string): Pick<GuestRecord, 'pinned' | 'pinError'> {
  if (!host) return { pinned: null, pinError: null };
  try {
    return { pinned: answerResolve(spec, { kind: 'host', name: host.name, hosts: [host] }, policy, source), pinError: null };
  } catch (e) {
    if (e instanceof ResolveError) return { pinned: null, pinError: { message: e.message, reasons: e.reasons } };
    throw e;
  }
}

/** Read, pin and summarise a guest definition sent to PUT /api/guests/NAME. */
export async function guestRecord(ctx: ServerContext, name: string, body: GuestPut): Promise<GuestRecord> {
  const loaded = parseGuestText(body.definition, `guest '${name}'`, body.format);
  const host = body.host ? await ctx.targetHost(body.host, 'host') : undefined;
  const spec = loaded.spec;
  const { pinned, pinError } = pin(spec, host, body.policy ?? 'highest-runnable', `guest '${name}'`);
  return {
    host: body.host ?? null,
    format: loaded.format,
    definition: body.definition,
    spec,
    pinned,
    pinError,
    abiClass: abiClass(spec, pinned),
    os: spec.os?.shortId ?? spec.os?.id ?? null,
    machine: spec.machine.type,
    cpu: cpuAsWritten(spec),
    pinnedMachine: pinned?.machine.type ?? null,
    pinnedCpu: pinned ? (pinned.cpu.model ?? pinned.cpu.mode) : null,
    flags: guestFlags(spec, pinned, catalogOf(spec, host)),
  };
}

/** The definition checks use for a stored guest: pinned when it is, as written otherwise. */
export function checkedSpec(spec: GuestSpec, pinned: PinnedAbi | null): GuestSpec {
  return pinned ? pinnedSpec(spec, pinned) : spec;
}

/** A PUT body: JSON {definition, ...}, or a domain XML / command line sent as it is. */
export function guestBody(body: unknown, contentType: string | undefined): GuestPut {
  if (typeof body === 'string') {
    const format = /xml/.test(contentType ?? '') ? 'libvirt' : undefined;
    return { definition: body, ...(format ? { format } : {}) };
  }
  if (body === null || typeof body !== 'object') throw new HttpProblem(400, 'BAD_INPUT', 'send {"definition": "..."} as JSON, or the domain XML as application/xml');
  return body as GuestPut;
}
