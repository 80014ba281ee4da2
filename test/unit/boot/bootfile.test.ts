import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideBoot, clientArch, isNonIpxeLoader } from '../../../src/boot/bootfile.ts';
import type { BootContext, BootFacts } from '../../../src/boot/bootfile.ts';
import { ARCHES, archInfo } from '../../../src/boot/arch.ts';

const ctx = (extra: Partial<BootContext> = {}): BootContext => ({
  tftpServer: '198.18.0.1',
  httpBase: 'http://198.18.0.1:8080',
  defaults: { bootfiles: {}, ipxeScript: 'boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}' },
  registrationScript: 'register.ipxe?mac=${net0/mac}',
  ...extra,
});
const pxe = (arch: number, extra: Partial<BootFacts> = {}): BootFacts => ({ arches: [arch], vendorClass: `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`, userClasses: [], ...extra });
const httpc = (arch: number): BootFacts => ({ arches: [arch], vendorClass: `HTTPClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`, userClasses: [] });

test('decision table: firmware clients get Debian\'s loaders over TFTP with siaddr = TFTP server', () => {
  const table: [BootFacts, string, 'tftp' | 'http', 'PXEClient' | 'HTTPClient'][] = [
    [pxe(0), 'undionly.kpxe', 'tftp', 'PXEClient'],
    [pxe(7), 'snponly.efi', 'tftp', 'PXEClient'],
    [pxe(9), 'snponly.efi', 'tftp', 'PXEClient'],
    [pxe(11), 'ipxe-arm64.efi', 'tftp', 'PXEClient'],
    [pxe(6), 'ipxe-i386.efi', 'tftp', 'PXEClient'],
    [pxe(10), 'ipxe-arm32.efi', 'tftp', 'PXEClient'],
    [httpc(16), 'http://198.18.0.1:8080/ipxe.efi', 'http', 'HTTPClient'],
    [httpc(19), 'http://198.18.0.1:8080/ipxe-arm64.efi', 'http', 'HTTPClient'],
  ];
  for (const [facts, file, transport, vc] of table) {
    const d = decideBoot(facts, ctx());
    assert.equal(d.action, 'boot', facts.vendorClass);
    assert.equal(d.file, file, facts.vendorClass);
    assert.equal(d.transport, transport);
    assert.equal(d.vendorClass, vc);
    assert.equal(d.siaddr, '198.18.0.1');
    assert.equal(d.stage, 'firmware');
  }
});

test('a loader Debian does not ship is still named, and `why` says so', () => {
  const d = decideBoot(pxe(11), ctx());
  assert.match(d.why, /ipxe-arm64\.efi is not shipped by Debian/);
  assert.match(d.why, /dhcp\.boot\.bootfiles\.uefi-arm64/);
  assert.doesNotMatch(decideBoot(pxe(0), ctx()).why, /not shipped/);
});

test('iPXE clients get the HTTP script URL, never an iPXE binary (no chainload loop)', () => {
  for (const arch of [0, 7, 9, 11]) {
    const d = decideBoot(pxe(arch, { userClasses: ['iPXE'] }), ctx({ defaults: { bootfiles: { bios: 'undionly.kpxe', 'uefi-x64': 'ipxe.efi' }, ipxeScript: 'boot.ipxe?mac=${net0/mac}' } }));
    assert.equal(d.stage, 'ipxe');
    assert.equal(d.file, 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}');
    assert.doesNotMatch(d.file!, /\.(kpxe|efi)$/);
  }
  // Even a host override of the firmware-stage file does not send iPXE back to a binary.
  const d = decideBoot(pxe(7, { userClasses: ['iPXE'] }), ctx({ host: { bootfile: 'snponly.efi', source: 'reservation' } }));
  assert.match(d.file!, /^http:\/\/198\.18\.0\.1:8080\/boot\.ipxe/);
  // The default script URL carries the iPXE variables the HTTP side expects.
  const def = decideBoot(pxe(0, { userClasses: ['iPXE'] }), ctx());
  assert.equal(def.file, 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}');
});

test('overrides: host over group over per-arch config over default; URLs kept, paths joined for HTTP Boot', () => {
  const base = ctx({ defaults: { bootfiles: { 'uefi-x64': 'ipxe.efi', 'efi-http-x64': 'loaders/ipxe.efi' }, ipxeScript: 'boot.ipxe' } });
  assert.equal(decideBoot(pxe(7), base).file, 'ipxe.efi');
  assert.match(decideBoot(pxe(7), base).why, /configured boot file for uefi-x64/);
  assert.equal(decideBoot(httpc(16), base).file, 'http://198.18.0.1:8080/loaders/ipxe.efi');
  const grouped = { ...base, group: { name: 'workers', bootfiles: { 'uefi-x64': 'grubx64.efi' }, ipxeScript: 'workers.ipxe' } };
  assert.equal(decideBoot(pxe(7), grouped).file, 'grubx64.efi');
  assert.equal(decideBoot(pxe(0), grouped).file, 'undionly.kpxe', 'group has no bios entry: default');
  // The group's BIOS loader is iPXE (the default), so iPXE gets the group's script there.
  assert.equal(decideBoot(pxe(0, { userClasses: ['iPXE'] }), grouped).file, 'http://198.18.0.1:8080/workers.ipxe');
  const hosted = { ...grouped, host: { bootfile: 'shimx64.efi', ipxeScript: 'https://boot.example.test/h/1.ipxe', source: 'inventory' } };
  assert.equal(decideBoot(pxe(7), hosted).file, 'shimx64.efi');
  assert.match(decideBoot(pxe(7), hosted).why, /inventory/);
  const hostedIpxe = { ...grouped, host: { bootfile: 'snponly.efi', ipxeScript: 'https://boot.example.test/h/1.ipxe', source: 'inventory' } };
  assert.equal(decideBoot(pxe(7, { userClasses: ['iPXE'] }), hostedIpxe).file, 'https://boot.example.test/h/1.ipxe');
});

test('registration boot: unknown clients get the registration script in iPXE, and iPXE itself before that', () => {
  const reg = ctx({ registrationOnly: true, host: { bootfile: 'grubx64.efi', source: 'x' } });
  const fw = decideBoot(pxe(7), reg);
  assert.equal(fw.file, 'snponly.efi', 'host overrides do not apply to a registration boot');
  const ipxe = decideBoot(pxe(7, { userClasses: ['iPXE'] }), reg);
  assert.equal(ipxe.file, 'http://198.18.0.1:8080/register.ipxe?mac=${net0/mac}');
  assert.match(ipxe.why, /registration/);
});

test('non-boot clients and unknown architectures get no boot file, with a reason', () => {
  assert.equal(decideBoot({ arches: [], vendorClass: 'MSFT 5.0', userClasses: [] }, ctx()).action, 'none');
  assert.equal(decideBoot({ arches: [], vendorClass: undefined, userClasses: [] }, ctx()).action, 'none');
  const unknown = decideBoot(pxe(31), ctx());
  assert.equal(unknown.action, 'none');
  assert.match(unknown.why, /no default loader for arch 31 \(s390 Basic\); set dhcp\.boot\.bootfiles\.s390-basic/);
  const off = decideBoot(pxe(4242), ctx());
  assert.match(off.why, /not in the IANA registry/);
  // With an override, even an exotic arch boots.
  assert.equal(decideBoot(pxe(31), ctx({ defaults: { bootfiles: { 's390-basic': 'zipl.bin' }, ipxeScript: 'b' } })).file, 'zipl.bin');
});

test('architecture comes from option 93, else from the vendor class', () => {
  assert.equal(clientArch({ arches: [11, 7], vendorClass: 'PXEClient:Arch:00007', userClasses: [] }), 11);
  assert.equal(clientArch({ arches: [], vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClasses: [] }), 7);
  assert.equal(clientArch({ arches: [], vendorClass: 'PXEClient', userClasses: [] }), undefined);
  assert.equal(decideBoot({ arches: [], vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClasses: [] }, ctx()).file, 'undionly.kpxe');
});

test('the registry covers codes 0..41, gives 7 and 9 the same key, and marks HTTP Boot types', () => {
  for (let c = 0; c <= 41; c++) assert.ok(archInfo(c), `arch ${c} missing`);
  assert.equal(archInfo(7)!.key, archInfo(9)!.key);
  for (const c of [15, 16, 18, 19, 20, 28, 40]) assert.equal(archInfo(c)!.http, true, `arch ${c}`);
  for (const c of [0, 6, 7, 11]) assert.equal(archInfo(c)!.http, false);
  assert.equal(ARCHES.size, 42);
});

test('property: any facts give a decision; a boot decision has a file, and iPXE never gets a binary', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 3 }),
      fc.oneof(fc.constant(undefined), fc.string(), fc.constantFrom('PXEClient:Arch:00007', 'HTTPClient:Arch:00016', 'PXEClient')),
      fc.array(fc.oneof(fc.string(), fc.constant('iPXE')), { maxLength: 3 }),
      fc.record({ bios: fc.constantFrom('ipxe' as const, 'pxelinux' as const), uefi: fc.constantFrom('ipxe' as const, 'grub' as const) }),
      fc.constantFrom(undefined, 'undionly.kpxe', 'snponly.efi', 'pxelinux.0', 'grubx64.efi', 'shimx64.efi', 'custom/loader.bin', 'http://198.18.0.9/x.efi'),
      (arches, vendorClass, userClasses, chains, hostFile) => {
        const d = decideBoot({ arches, vendorClass, userClasses }, ctx({ chains, ...(hostFile !== undefined ? { host: { bootfile: hostFile, source: 'inventory' } } : {}) }));
        if (d.action === 'boot') assert.ok(d.file !== undefined && d.file.length > 0);
        if (userClasses.includes('iPXE')) {
          // Already in iPXE: never a file that may be iPXE (no chainload loop), only the script or a non-iPXE loader.
          assert.equal(d.stage, 'ipxe');
          const base = d.file!.split('/').pop()!;
          if (d.transport === 'http') assert.ok(d.file!.startsWith('http://198.18.0.1:8080/boot.ipxe'), d.file);
          else assert.ok(['pxelinux.0', 'grubx64.efi', 'grubaa64.efi', 'grubia32.efi', 'shimx64.efi'].includes(base), d.file);
          assert.ok(!['undionly.kpxe', 'snponly.efi', 'ipxe.efi', 'loader.bin', 'x.efi'].includes(base), d.file);
        }
        assert.ok(d.why.length > 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('loader chains: bios_loader pxelinux and uefi_loader grub change the firmware default, not iPXE or HTTP Boot', () => {
  const chained = ctx({ chains: { bios: 'pxelinux', uefi: 'grub' } });
  assert.equal(decideBoot(pxe(0), chained).file, 'pxelinux.0');
  assert.match(decideBoot(pxe(0), chained).why, /default pxelinux loader/);
  assert.equal(decideBoot(pxe(7), chained).file, 'grubx64.efi');
  assert.equal(decideBoot(pxe(11), chained).file, 'grubaa64.efi');
  assert.equal(decideBoot(httpc(16), chained).file, 'http://198.18.0.1:8080/ipxe.efi');
  // An explicit per-arch setting still wins over the chain.
  assert.equal(decideBoot(pxe(7), { ...chained, defaults: { bootfiles: { 'uefi-x64': 'shimx64.efi' }, ipxeScript: 'b' } }).file, 'shimx64.efi');
});

test('a client already running iPXE (an iPXE NIC ROM) gets the chain\'s first loader when it is not iPXE, else the script', () => {
  const ipxeRom = (arch: number) => pxe(arch, { userClasses: ['iPXE'] });
  // bios_loader pxelinux: QEMU's BIOS PXE ROM is iPXE; pxelinux does no DHCP, so no loop.
  const classic = ctx({ chains: { bios: 'pxelinux', uefi: 'grub' } });
  for (const [arch, file] of [[0, 'pxelinux.0'], [7, 'grubx64.efi']] as const) {
    const d = decideBoot(ipxeRom(arch), classic);
    assert.equal(d.file, file);
    assert.equal(d.transport, 'tftp');
    assert.equal(d.siaddr, '198.18.0.1');
    assert.match(d.why, /not iPXE/);
  }
  // A host whose plan starts pxelinux (the boot engine's bootfile) gets it under the iPXE default too.
  assert.equal(decideBoot(ipxeRom(0), ctx({ host: { bootfile: 'pxelinux.0', source: 'inventory' } })).file, 'pxelinux.0');
  assert.equal(decideBoot(ipxeRom(7), ctx({ host: { bootfile: 'unsigned/shimx64.efi', source: 'reservation' } })).file, 'unsigned/shimx64.efi');
  // The loop rule: a chain whose first loader is (or may be) iPXE gives iPXE the script.
  for (const c of [ctx(), ctx({ chains: { bios: 'ipxe', uefi: 'ipxe' } }), ctx({ host: { bootfile: 'undionly.kpxe', source: 'inventory' } }), ctx({ host: { bootfile: 'my/own-build.bin', source: 'inventory' } }), ctx({ host: { bootfile: 'http://198.18.0.9/grubx64.efi', source: 'inventory' } })]) {
    const d = decideBoot(ipxeRom(0), c);
    assert.equal(d.transport, 'http');
    assert.match(d.file!, /^http:\/\/198\.18\.0\.1:8080\/boot\.ipxe\?/);
  }
  // HTTP Boot always starts iPXE; iPXE there gets the script.
  assert.match(decideBoot({ arches: [16], vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', userClasses: ['iPXE'] }, classic).file!, /boot\.ipxe/);
  // Registration: on the pxelinux chain the ROM loads pxelinux (its config waits for approval); on iPXE the registration script.
  const reg = decideBoot(ipxeRom(0), { ...classic, registrationOnly: true });
  assert.equal(reg.file, 'pxelinux.0');
  assert.match(reg.why, /asks again until it is approved/);
  assert.match(decideBoot(ipxeRom(0), ctx({ registrationOnly: true })).file!, /register\.ipxe/);
});

test('isNonIpxeLoader: pxelinux, GRUB and shim by base name; iPXE builds, unknown files and URLs are not trusted', () => {
  for (const f of ['pxelinux.0', 'lpxelinux.0', 'grubx64.efi', 'grubaa64.efi', 'shimx64.efi', 'unsigned/shimx64.efi', 'boot/GRUBX64.EFI']) assert.equal(isNonIpxeLoader(f), true, f);
  for (const f of ['undionly.kpxe', 'snponly.efi', 'ipxe.efi', 'ipxe-arm64.efi', 'custom.efi', 'pxelinux.0.bak', 'http://x/pxelinux.0', '']) assert.equal(isNonIpxeLoader(f), false, f);
});
