import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestSpec } from '../src/model/guest.js';
import type { HostProfile } from '../src/model/host.js';
import { hostFacts, type GuestInput, type HostInput } from '../src/store/index.js';
import { FIXTURES } from './helpers.js';

export const HOST_FIXTURE = join(FIXTURES, 'hosts', 'host-7.2-tcg.json');

export function hostProfile(file = HOST_FIXTURE): HostProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as HostProfile;
}

export function hostInput(profile: HostProfile, kind = 'hk-test'): HostInput {
  return { profile, kind, ...hostFacts(profile) };
}

/**
 * A small guest whose content follows from its name and version, so that a reader can tell which
 * write it sees (the kill test checks acknowledged writes this way).
 */
export function guestInput(name: string, version = 1, extra: Partial<GuestInput> = {}): GuestInput {
  const mem = 256 * version;
  const spec: GuestSpec = { name, machine: { type: 'q35' }, cpu: { mode: 'custom', model: 'qemu64' }, memory: { sizeMiB: mem }, vcpus: { count: 1 }, devices: [] };
  return {
    host: null,
    format: 'argv',
    definition: `-name ${name} -machine q35 -cpu qemu64 -m ${mem} -nodefaults`,
    spec,
    pinned: null,
    pinError: null,
    abiClass: `s-${version}`,
    os: null,
    machine: 'q35',
    cpu: 'qemu64',
    pinnedMachine: null,
    pinnedCpu: null,
    flags: ['machine-unpinned', 'not-pinned'],
    ...extra,
  };
}

/** What a stored guest must read back as, without its version fields. */
export function content(g: GuestInput): GuestInput {
  const { host, format, definition, spec, pinned, pinError, abiClass, os, machine, cpu, pinnedMachine, pinnedCpu, flags } = g;
  return { host, format, definition, spec, pinned, pinError, abiClass, os, machine, cpu, pinnedMachine, pinnedCpu, flags };
}
