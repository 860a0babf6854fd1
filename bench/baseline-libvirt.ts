/**
 * guestabi plan baseline beside libvirt's baseline of the same hosts (python3-libvirt and a running
 * libvirtd): features each keeps, and mitigation features every host has that each drops.
 *   node dist/bench/baseline-libvirt.js [--kinds 15]
 * Hosts: the TCG fixture profiles of QEMU 5.2, 7.2, 10.0 masked into CPU generations (bench/fleet-gen.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planBaseline } from '../src/fleet/index.js';
import { vulnerabilityMap } from '../src/service/answers.js';
import { indexHost } from '../src/resolve/target.js';
import { kindProfiles } from './fleet-gen.js';

const LIBVIRT_FEATURES = '/usr/share/libvirt/cpu_map/x86_features.xml';
const PY = fileURLToPath(new URL('../../bench/libvirt-baseline.py', import.meta.url));
/** QEMU feature names libvirt spells otherwise (libvirt's cpu_map/x86_features.xml). */
const SPELLING: Record<string, string> = { pclmulqdq: 'pclmuldq', 'sse4.1': 'sse4.1', 'sse4.2': 'sse4.2', 'tsc-deadline': 'tsc-deadline', 'ds-cpl': 'ds_cpl', 'lahf-lm': 'lahf_lm', 'fxsr-opt': 'fxsr_opt', 'cr8legacy': 'cr8legacy', 'perfctr-core': 'perfctr_core', 'perfctr-nb': 'perfctr_nb', 'nodeid-msr': 'nodeid_msr', 'tsc-adjust': 'tsc_adjust' };

const { values } = parseArgs({ options: { kinds: { type: 'string' } } });
const kinds = kindProfiles(Number(values.kinds ?? 15)).filter((k) => k.profile.accel === 'tcg');
const hosts = kinds.map((k, i) => indexHost(k.profile, k.catalog, `host${i}`));
const known = existsSync(LIBVIRT_FEATURES) ? new Set([...readFileSync(LIBVIRT_FEATURES, 'utf8').matchAll(/<feature name='([^']+)'/g)].map((m) => m[1]!)) : new Set<string>();
const toLibvirt = (f: string) => [SPELLING[f], f, f.replace(/-/g, '_')].find((x) => x !== undefined && known.has(x));
const fromLibvirt = new Map<string, string>();

function hostFeatures(i: number): string[] {
  const props = hosts[i]!.profile.hostCpu.props ?? {};
  return Object.keys(props).filter((k) => props[k] === true && hosts[i]!.catalog.cpuFeatures().has(k));
}
const cpus = hosts.map((h, i) => {
  const feats = hostFeatures(i).map((f) => {
    const l = toLibvirt(f);
    if (l) fromLibvirt.set(l, f);
    return l;
  });
  const vendor = String(h.profile.hostCpu.props?.vendor ?? '') === 'GenuineIntel' ? 'Intel' : 'AMD';
  return `<cpu><arch>x86_64</arch><model>qemu64</model><vendor>${vendor}</vendor>${feats.filter(Boolean).map((f) => `<feature name='${f}'/>`).join('')}</cpu>`;
});
const everyHost = hosts.map((_, i) => new Set(hostFeatures(i))).reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
const mitigation = new Set(vulnerabilityMap().rows.flatMap((r) => [...(r.needs ?? []).flat(), ...(r.recommended ?? [])]));
const mitigationsOnAll = [...everyHost].filter((f) => mitigation.has(f)).sort();

const b = planBaseline({ hosts, vulnerabilityMap: vulnerabilityMap() });
const top = b.candidates[0]!;
const e = hosts[0]!.catalog.cpuOnMachine(top.cpu, top.machine) ?? {};
const ours = new Set([...Object.keys(e).filter((k) => e[k] === true && hosts[0]!.catalog.cpuFeatures().has(k)), ...Object.entries(top.features).filter(([, on]) => on).map(([f]) => f)]);
const report = (label: string, model: string, feats: Set<string>) =>
  console.log(`${label.padEnd(44)} ${model.padEnd(22)} ${String(feats.size).padStart(4)} features; mitigations every host has and it drops: ${mitigationsOnAll.filter((m) => !feats.has(m)).join(' ') || 'none'}`);
console.log(`${hosts.length} hosts (TCG profiles of 5.2, 7.2, 10.0 in CPU generations); ${everyHost.size} features every host CPU has; mitigation features on every host: ${mitigationsOnAll.join(' ') || 'none'}`);
report('guestabi plan baseline (top candidate)', top.cpu, ours);
const py = spawnSync('/usr/bin/python3', [PY], { input: JSON.stringify({ cpus }), encoding: 'utf8' });
const lv = JSON.parse(py.stdout || '{}') as Record<string, { model?: string; features?: string[]; error?: string }> & { skipped?: string };
if (lv.skipped) console.log(`libvirt: skipped: ${lv.skipped}`);
for (const [api, r] of Object.entries(lv)) {
  if (typeof r !== 'object') continue;
  if (r.error) console.log(`libvirt ${api}: ${r.error}`);
  else report(`libvirt ${api === 'hypervisor' ? 'baselineHypervisorCPU (qemu/TCG)' : 'baselineCPU'}`, r.model ?? '?', new Set((r.features ?? []).map((f) => fromLibvirt.get(f) ?? f)));
}
