import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CatalogIndex } from '../../src/catalog/catalog.js';
import { checkMigration } from '../../src/check/check.js';
import { shippedCatalogs } from '../../src/io/catalog-files.js';
import { kvmDefaultsTable, migrationRules } from '../../src/io/rules-files.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { HostProfile } from '../../src/model/host.js';
import { validate } from '../../src/model/validate.js';
import { withoutKvm, withSourceKvmDefaults } from '../../src/probe/kvm-defaults.js';
import { indexHost } from '../../src/resolve/target.js';
import { compareVersions } from '../../src/util/versions.js';
import { FIXTURES } from '../helpers.js';

const table = kvmDefaultsTable();
const rules = migrationRules();

function profile(name: string): HostProfile {
  const file = join(FIXTURES, 'hosts', `${name}.json`);
  return validate(HostProfile, JSON.parse(readFileSync(file, 'utf8')), file);
}

test('every shipped catalog probed under KVM agrees with the cited kvm_default_props table', () => {
  for (const c of shippedCatalogs()) {
    const kvm = c.kvmDefaultsFrom();
    assert.ok(kvm, `${c.id} records what KVM sets on every model`);
    if (kvm.from !== 'probe') continue;
    const v = `${c.qemu.major}.${c.qemu.minor}`;
    const rows = table.rows.filter((r) => compareVersions(v, r.from) >= 0 && compareVersions(v, r.to) <= 0);
    assert.ok(rows.length, `the table has rows for ${v}`);
    const machine = c.defaultMachine()!.name;
    let checked = 0;
    // base is no model definition (x86_cpu_load_model() never runs for it): KVM sets nothing on it.
    for (const model of c.data.cpuModels.filter((m) => !m.hostDependent && m.name !== 'base')) {
      const tcg = c.cpuOnMachine(model.name, machine)!;
      const kvmCpu = { ...tcg, ...c.kvmCpuDelta(model.name, machine) };
      for (const r of rows.filter((x) => x.property in tcg)) {
        assert.equal(kvmCpu[r.property], r.value, `${c.id} ${model.name} on ${machine}: ${r.property} under KVM (${r.source})`);
        checked++;
      }
    }
    assert.ok(checked > 100, `${c.id}: ${checked} model properties checked`);
  }
});

test('a catalog made without KVM takes the cited table; without either, a KVM check across builds is unknown', () => {
  const [a, b] = ['7.2', '10.0'].map((v) => shippedCatalogs().find((c) => c.qemu.major === Number(v.split('.')[0]) && c.qemu.minor === Number(v.split('.')[1]))!);
  const fromSource = new CatalogIndex(withSourceKvmDefaults(a!.data, table));
  assert.equal(fromSource.kvmDefaultsFrom()?.from, 'source');
  assert.deepEqual(fromSource.kvmCpuDelta('qemu64', 'pc-q35-7.2'), Object.fromEntries(table.rows.map((r) => [r.property, r.value])));
  const guest = parseGuestText('-machine pc-q35-7.2 -cpu qemu64 -m 128 -nodefaults -accel kvm', 'guest', 'argv').spec;
  const p7 = profile('host-7.2-kvm');
  const p10 = profile('host-10.0-kvm');
  assert.equal(p7.accelCpu, undefined, 'the fixture profiles have no KVM sample: the catalogs alone must answer');
  const known = checkMigration({ source: guest, from: indexHost(p7, a!), to: indexHost(p10, b!), rules }).forward;
  assert.equal(known.outcome, 'safe');
  const shown = known.reasons.find((r) => r.code === 'CPU_KVM_DEFAULTS')!;
  assert.ok(String(shown.a).includes('kvmclock=true') && String(shown.b).includes('kvmclock=true'), 'both builds\' KVM defaults are in the reasons');
  const unknown = checkMigration({ source: guest, from: indexHost(p7, new CatalogIndex(withoutKvm(a!.data))), to: indexHost(p10, b!), rules }).forward;
  assert.equal(unknown.outcome, 'unknown');
  assert.ok(unknown.reasons.some((r) => r.code === 'CPU_KVM_DEFAULTS_UNKNOWN'));
});

test('under KVM a paravirtual feature turned off on one side is a CPU difference', () => {
  const c = shippedCatalogs().find((x) => x.qemu.major === 7)!;
  const h = indexHost(profile('host-7.2-kvm'), c);
  const src = parseGuestText('-machine pc-q35-7.2 -cpu qemu64 -m 128 -nodefaults -accel kvm', 'guest', 'argv').spec;
  const dst = parseGuestText('-machine pc-q35-7.2 -cpu qemu64,kvmclock=off -m 128 -nodefaults -accel kvm', 'guest', 'argv').spec;
  const v = checkMigration({ source: src, destination: dst, from: h, to: h, rules }).forward;
  assert.equal(v.outcome, 'unsafe');
  assert.ok(v.reasons.some((r) => JSON.stringify(r).includes('kvmclock')));
});
