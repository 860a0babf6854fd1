import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestAccel, isAccelFailure, withAccel } from '../../src/lab/preflight.js';

test('withAccel: --accel replaces every way a command line names an accelerator', () => {
  const args = ['-machine', 'pc-q35-7.2,accel=kvm:tcg,smm=on', '-enable-kvm', '-accel', 'kvm,kernel-irqchip=on', '-m', '256'];
  assert.deepEqual(withAccel(args, 'tcg'), { args: ['-machine', 'pc-q35-7.2,smm=on', '-m', '256', '-accel', 'tcg'], accel: 'tcg' });
  assert.deepEqual(withAccel(['-m', '256'], undefined), { args: ['-m', '256', '-accel', 'tcg'], accel: 'tcg' }, 'no accelerator: TCG');
  assert.deepEqual(withAccel(['-accel', 'kvm'], undefined), { args: ['-accel', 'kvm'], accel: 'kvm' }, 'the guest keeps its own');
  assert.equal(guestAccel(['-machine', 'q35,accel=kvm']), 'kvm');
  assert.equal(guestAccel(['-enable-kvm', '-accel', 'tcg']), 'kvm', 'the first one QEMU tries');
  assert.equal(guestAccel(['-m', '1G']), undefined);
});

test('accelerator failures are told from guest refusals by QEMU words', () => {
  assert.ok(isAccelFailure('QEMU did not start: qemu exited (exit code 1): Could not access KVM kernel module: No such file or directory | qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory'));
  assert.ok(isAccelFailure('qemu-system-x86_64: invalid accelerator nope'));
  assert.ok(!isAccelFailure("qemu-system-x86_64: -device no-such-device: 'no-such-device' is not a valid device model name"));
  assert.ok(!isAccelFailure(undefined));
});
