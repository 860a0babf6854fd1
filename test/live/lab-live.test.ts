import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { migrationRules } from '../../src/io/rules-files.js';
import { ScenarioFile } from '../../src/lab/scenarios.js';
import { verifyScenarios } from '../../src/lab/verify.js';
import { validate } from '../../src/model/validate.js';
import { liveQemuCount } from '../../src/qmp/launcher.js';
import type { QemuArch } from '../../src/qmp/build.js';
import { parseJsonOrYaml, readUserFile } from '../../src/util/files.js';
import { requireQemu } from '../helpers.js';

const suiteFile = (name: string) => fileURLToPath(new URL(`../../../lab/${name}`, import.meta.url));

/** Run one scenario file: no false safe, 95% agreement, and every scenario's expect observed. */
async function verifySuite(t: TestContext, file: string, arch: QemuArch, atLeast: number): Promise<void> {
  for (const v of ['5.2', '7.2', '10.0']) if (!requireQemu(t, v, arch)) return;
  const suite = validate(ScenarioFile, parseJsonOrYaml(readUserFile(file), file), file);
  assert.ok(suite.scenarios.length >= atLeast, `at least ${atLeast} scenarios`);
  assert.ok(suite.scenarios.every((s) => (s.arch ?? 'x86_64') === arch), `every scenario of ${file} is ${arch}`);
  const summary = await verifyScenarios(suite.scenarios, migrationRules());
  if (summary.skipped) {
    // Printed, also under CI=true: a machine without /dev/kvm runs the TCG scenarios only.
    console.log(`# notice: ${summary.skipped.names.length} KVM lab scenarios skipped: ${summary.skipped.why}`);
    t.diagnostic(`skipped ${summary.skipped.names.length} KVM scenarios: ${summary.skipped.why}`);
  } else if (suite.scenarios.some((s) => s.accel === 'kvm')) {
    assert.ok(summary.results.some((r) => suite.scenarios.find((s) => s.name === r.name)?.accel === 'kvm'), 'the KVM scenarios ran where KVM is usable');
  }
  const lines = summary.results.filter((r) => !r.agree).map((r) => `${r.name}: predicted ${r.predicted}, observed ${r.observed} (${r.lab.error ?? r.lab.differences.map((d) => `${d.where} ${d.property}`).join(', ')})`);
  t.diagnostic(`agreement ${(summary.agreement * 100).toFixed(1)}% of ${summary.results.length}; false safe ${summary.falseSafe}; ${Math.round(summary.durationMs / 1000)} s`);
  for (const l of lines) t.diagnostic(`disagreement: ${l}`);
  assert.equal(summary.falseSafe, 0, `predicted safe but not safe:\n${lines.join('\n')}`);
  assert.ok(summary.agreement >= 0.95, `agreement ${summary.agreement}:\n${lines.join('\n')}`);
  // Where a scenario says what it is known to do, the lab saw that.
  for (const s of suite.scenarios.filter((x) => x.expect && x.expect !== 'unknown' && !summary.skipped?.names.includes(x.name))) {
    assert.equal(summary.results.find((r) => r.name === s.name)!.observed, s.expect, `${s.name}: ${s.why}`);
  }
  assert.equal(liveQemuCount(), 0, 'every QEMU the lab started was stopped');
}

test('lab verify: every scenario of the suite predicted by check and observed in a real migration', (t) => verifySuite(t, suiteFile('scenarios.yaml'), 'x86_64', 60));
test('lab verify ppc64: the pseries suite under TCG', (t) => verifySuite(t, suiteFile('scenarios-ppc64.yaml'), 'ppc64', 40));
test('lab verify aarch64: the virt suite under TCG', (t) => verifySuite(t, suiteFile('scenarios-aarch64.yaml'), 'aarch64', 40));
