import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootSpecFor, profileProblems, validateProfileSpec } from '../../../src/inventory/profile.ts';
import { isInventoryError } from '../../../src/inventory/errors.ts';

const fields = (spec: unknown) => profileProblems(spec).map((p) => p.field);

describe('profile validation', () => {
  it('accepts each kind with its keys, and returns a clean copy', () => {
    const linux = validateProfileSpec({ kind: 'linux', kernel: 'debian/vmlinuz', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0', description: 'Debian' });
    assert.deepEqual(linux, { description: 'Debian', kind: 'linux', kernel: 'debian/vmlinuz', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0' });
    assert.equal(validateProfileSpec({ kind: 'chain', chain: 'http://198.18.0.1/boot.ipxe' }).chain, 'http://198.18.0.1/boot.ipxe');
    assert.equal(validateProfileSpec({ kind: 'local' }).kind, 'local');
    assert.equal(validateProfileSpec({ kind: 'menu', menu: { items: [{ label: 'Debian', profile: 'debian' }], default: 'debian', timeout_s: 5 } }).menu?.timeout_s, 5);
  });

  it('a linux profile without a kernel names the field and a fix', () => {
    const [p, ...rest] = profileProblems({ kind: 'linux', initrd: ['a.img'] });
    assert.equal(rest.length, 0);
    assert.equal(p?.field, 'kernel');
    assert.match(p?.fix ?? '', /kernel: /);
  });

  it('names fields inside an arch variant, and unknown firmware names', () => {
    assert.deepEqual(fields({ kind: 'local', arch: { 'uefi-x64': { kind: 'linux' } } }), ['arch.uefi-x64.kernel']);
    const [p] = profileProblems({ kind: 'local', arch: { 'uefi-x86': { kind: 'local' } } });
    assert.equal(p?.field, 'arch.uefi-x86');
    assert.match(p?.fix ?? '', /uefi-x64/);
  });

  it('refuses absolute paths, "..", odd URL schemes and line breaks, naming each field', () => {
    assert.deepEqual(fields({ kind: 'linux', kernel: '/srv/tftp/vmlinuz' }), ['kernel']);
    assert.match(profileProblems({ kind: 'linux', kernel: '/srv/tftp/debian/vmlinuz' })[0]?.fix ?? '', /relative to the boot root/);
    assert.deepEqual(fields({ kind: 'linux', kernel: 'k', initrd: ['ok.img', '../etc/shadow'] }), ['initrd[1]']);
    assert.deepEqual(fields({ kind: 'chain', chain: 'file:///etc/passwd' }), ['chain']);
    assert.deepEqual(fields({ kind: 'linux', kernel: 'k', cmdline: 'quiet\n#!ipxe shell' }), ['cmdline']);
  });

  it('flags keys that the kind does not use, and unknown keys', () => {
    assert.deepEqual(fields({ kind: 'local', kernel: 'vmlinuz' }), ['kernel']);
    assert.deepEqual(fields({ kind: 'chain', chain: 'x.efi', cmdline: 'quiet' }), ['cmdline']);
    assert.deepEqual(fields({ kind: 'linux', kernal: 'vmlinuz' }), ['kernal']);
    assert.deepEqual(fields({ kind: 'netboot' }), ['kind']);
    assert.match(profileProblems({ kind: 'netboot' })[0]?.fix ?? '', /linux, chain, menu, local/);
  });

  it('a menu default must be one of its items; labels are unique', () => {
    assert.deepEqual(fields({ kind: 'menu', menu: { default: 'nope', items: [{ label: 'A', profile: 'a' }] } }), ['menu.default']);
    assert.deepEqual(fields({ kind: 'menu', menu: { items: [{ label: 'A', profile: 'a' }, { label: 'A', profile: 'b' }] } }), ['menu.items[1].label']);
  });

  it('validateProfileSpec throws BH_INV_INVALID_PROFILE listing every problem', () => {
    assert.throws(() => validateProfileSpec({ kind: 'linux', initrd: ['/abs'] }, 'web'), (err: unknown) => {
      assert.ok(isInventoryError(err, 'BH_INV_INVALID_PROFILE'));
      assert.match(err.message, /profile "web"/);
      assert.match(err.message, /kernel: is required/);
      assert.match(err.message, /initrd\[0\]: .*absolute path/);
      return true;
    });
  });

  it('bootSpecFor gives the arch variant when there is one, else the top level', () => {
    const spec = validateProfileSpec({ kind: 'linux', kernel: 'bios/vmlinuz', arch: { 'uefi-x64': { kind: 'chain', chain: 'shimx64.efi' } } });
    assert.equal(bootSpecFor(spec, 'uefi-x64').chain, 'shimx64.efi');
    assert.equal(bootSpecFor(spec, 'bios').kernel, 'bios/vmlinuz');
    assert.equal(bootSpecFor(spec, null).kernel, 'bios/vmlinuz');
    assert.equal(bootSpecFor(spec, 'bios').kind, 'linux');
  });
});
