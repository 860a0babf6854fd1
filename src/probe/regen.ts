import type { Catalog, KvmDefaultsTable } from '../model/catalog.js';
import type { Arch } from '../model/common.js';
import { probeBuildFacts } from './build-facts.js';
import { probeCatalog } from './catalog-probe.js';
import { probeKvmDefaults, withSourceKvmDefaults } from './kvm-defaults.js';
import type { QemuStarter } from './session.js';

export interface RegenOptions {
  starter: QemuStarter;
  toolVersion: string;
  /** Update this catalog (the build's facts and KVM defaults) instead of probing it all again. */
  base?: Catalog;
  /** The system emulator's architecture (x86_64 when not given). */
  arch?: Arch;
  /** Why KVM cannot be used here, if it cannot: the KVM defaults then come from `table`. */
  noKvm: string | undefined;
  table: KvmDefaultsTable;
  progress?: (done: number, total: number, what: string) => void;
}

/**
 * A shipped catalog as `catalog regen` writes it, in one place (the CLI and the live test that
 * checks the shipped files both call it): the main probe (TCG), the facts asked one question each
 * (feature leaves, option refusals), and what KVM sets on every model (probed, or the cited table).
 */
export async function regenerateCatalog(o: RegenOptions): Promise<Catalog> {
  const main = o.base ?? (await probeCatalog({ starter: o.starter, toolVersion: o.toolVersion, arch: o.arch, progress: o.progress }));
  const withFacts = await probeBuildFacts(o.starter, main, { progress: o.progress });
  // What KVM sets on every model is x86's kvm_default_props; other architectures run under TCG here.
  if (withFacts.arch !== 'x86_64') return withFacts;
  if (o.noKvm) return withSourceKvmDefaults(withFacts, o.table);
  return probeKvmDefaults(o.starter, withFacts, { progress: o.progress && ((d, t, w) => o.progress!(d, t, `KVM ${w}`)) });
}
