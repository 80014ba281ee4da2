// End-to-end boots with real firmware (SeaBIOS + iPXE ROM, OVMF, OVMF Secure Boot) in QEMU against
// `bootherd serve` as the full DHCP, TFTP and HTTP server of an isolated lab (bridge + taps in one
// namespace, 198.18.40.0/24). The inventory (one profile per path, whose command line holds a fresh
// token, and one host per path) is loaded with `bootherd apply`; bootherd finds Debian's loaders
// itself and generates the per-host iPXE scripts, pxelinux.cfg and grub.cfg. A test passes when the
// guest's initramfs prints the token of that host's profile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { copyFileSync, mkdirSync } from 'node:fs';
import { canUseNetns } from '../helpers/netns.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { cmdline, populateBootRoot, LOADERS, UNSIGNED_EFI } from './lib/bootroot.ts';
import { fleetFile, payloadProfile, startBootherd } from './lib/bootherd.ts';
import type { BootherdServer } from './lib/bootherd.ts';
import { startRadvd } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const HTTP_PORT = 8080;

// The loader chains are settings of the whole server: pxelinux/GRUB for one group of paths, iPXE for the other.
const CLASSIC = { bios_loader: 'pxelinux', uefi_loader: 'grub' };
const IPXE = { bios_loader: 'ipxe', uefi_loader: 'ipxe' };

let lab: BootLab;
let server: BootherdServer;
let current: Record<string, string> = CLASSIC;
const paths = [1, 2, 3, 4, 5, 6] as const;
const tokens = new Map<number, string>(paths.map((n) => [n, token()]));
const hostMac = (n: number): string => mac(n);
/** Not in the inventory: a DHCP reservation sends it to shim with an unsigned "grubx64.efi". */
const unsignedMac = mac(6, 2);

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 40 });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, buildPayload(), false);
  // The negative Secure Boot case: shim loads grubx64.efi from its own directory.
  mkdirSync(join(bootRoot, 'unsigned'));
  copyFileSync(LOADERS['shimx64.efi']!.from, join(bootRoot, 'unsigned', 'shimx64.efi'));
  copyFileSync(UNSIGNED_EFI, join(bootRoot, 'unsigned', 'grubx64.efi'));
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const n of paths) profiles[`path${n}`] = payloadProfile(cmdline(tokens.get(n)!), n === 6 ? { secure_boot: true } : {});
  const serverDir = join(lab.dir, 'bootherd');
  mkdirSync(serverDir);
  await startRadvd(lab, lab.dir);
  server = await startBootherd(lab, {
    bootRoot,
    dir: serverDir,
    httpPort: HTTP_PORT,
    interfaces: [{ name: lab.bridge, mode: 'full' }],
    dhcp: {
      subnets: [
        {
          subnet: `${lab.prefix}.0/24`,
          pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }],
          reservations: [{ mac: unsignedMac, ip: `${lab.prefix}.60`, bootfile: 'unsigned/shimx64.efi' }],
        },
      ],
    },
    boot: current,
    fleet: fleetFile(profiles, paths.map((n) => ({ mac: hostMac(n), hostname: `path${n}`, profile: `path${n}` }))),
  });
});

after(async () => {
  await server?.stop().catch(() => undefined);
  lab?.destroy();
});

async function using(chains: Record<string, string>): Promise<void> {
  if (chains === current) return;
  await server.restart(chains);
  current = chains;
}

function logs(): string[] {
  server.writeLog();
  return [server.dir];
}

function tokenOf(n: number): RegExp {
  return new RegExp(`\\bbh_token=${tokens.get(n)}\\b`);
}

// QEMU's BIOS PXE ROM is iPXE (user class iPXE): on the pxelinux chain it must still get pxelinux.0.
test('1. BIOS: DHCP → pxelinux over TFTP → kernel + initrd (boot.bios_loader: pxelinux)', { skip }, async () => {
  await using(CLASSIC);
  const run = await boot(lab, { name: 'bootherd-bios-pxelinux', firmware: 'bios', mac: hostMac(1) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(1));
    const files = run.tftp().filter((t) => t.dataBlocks > 0).map((t) => t.file);
    assert.ok(files.includes('pxelinux.0'), `pxelinux.0 came over TFTP (TFTP transfers: ${files.join(', ') || 'none'})`);
    assert.ok(files.some((f) => f.endsWith('vmlinuz')) && files.some((f) => f.endsWith('initrd.img')), `kernel and initrd over TFTP: ${files.join(', ')}`);
  });
});

test('3. UEFI PXE (EDK2) → TFTP → signed GRUB netboot image → kernel over TFTP, windowsize negotiated and used', { skip }, async () => {
  await using(CLASSIC);
  const run = await boot(lab, { name: 'bootherd-uefi-grub', firmware: 'uefi', mac: hostMac(3) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(3));
    const grub = run.tftp().filter((t) => t.file === 'grubx64.efi' && t.dataBlocks > 0);
    assert.ok(grub.length > 0, 'GRUB came over TFTP');
    const w = grub[grub.length - 1]!;
    assert.equal(w.requested['windowsize'], '4', 'EDK2 asks for windowsize 4');
    assert.ok(Number(w.acknowledged?.['windowsize'] ?? 1) > 1, `OACK ${JSON.stringify(w.acknowledged)}`);
    assert.ok(w.maxBurst > 1, `the server sent at most ${w.maxBurst} block(s) per ACK: windowsize not used`);
    assert.ok(run.tftp().some((t) => t.file.endsWith('vmlinuz') && t.dataBlocks > 0), 'the kernel came over TFTP');
  });
});

test('6. Secure Boot (OVMF, Microsoft keys): shim → GRUB → the Debian-signed kernel (profile secure_boot: true)', { skip }, async () => {
  await using(CLASSIC);
  const run = await boot(lab, { name: 'bootherd-secureboot', firmware: 'secureboot', mac: hostMac(6) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(6));
    const files = run.tftp().filter((t) => t.dataBlocks > 0).map((t) => t.file.replace(/^\//, ''));
    assert.ok(files.includes('shimx64.efi') && files.includes('grubx64.efi'), files.join(', '));
  });
});

test('6b. Secure Boot refuses an unsigned loader: shim stops, the payload never runs', { skip }, async () => {
  await using(CLASSIC);
  const run = await boot(lab, { name: 'bootherd-secureboot-unsigned', firmware: 'secureboot', mac: unsignedMac, timeoutMs: 120_000, failOn: /Security Violation|Verification failed/i });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.marker, undefined, 'the payload must not run');
    assert.equal(run.end, 'failOn', `shim did not report a verification failure; serial log ${run.serialLog}`);
    assert.ok(run.tftp().some((t) => t.file.endsWith('unsigned/grubx64.efi') && t.dataBlocks > 0), 'shim fetched the unsigned loader (and refused it)');
  });
});

test('2. BIOS iPXE → per-host HTTP script → kernel + initrd over HTTP', { skip }, async () => {
  await using(IPXE);
  const run = await boot(lab, { name: 'bootherd-bios-ipxe-http', firmware: 'bios', mac: hostMac(2) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(2));
    assert.equal(run.tftp().length, 0, 'everything came over HTTP');
  });
});

test('4. UEFI PXE → snponly.efi → iPXE → per-host HTTP script → kernel + initrd over HTTP', { skip }, async () => {
  await using(IPXE);
  const run = await boot(lab, { name: 'bootherd-uefi-snponly', firmware: 'uefi', mac: hostMac(4) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(4));
    assert.deepEqual([...new Set(run.tftp().filter((t) => t.dataBlocks > 0).map((t) => t.file))], ['snponly.efi']);
  });
});

test('5. UEFI HTTP Boot (IPv4 PXE off) → ipxe.efi by URL → per-host script over HTTP', { skip }, async () => {
  await using(IPXE);
  const run = await boot(lab, { name: 'bootherd-uefi-httpboot', firmware: 'uefi-http', mac: hostMac(5) });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', tokenOf(5));
    assert.equal(run.tftp().length, 0, 'no TFTP at all');
  });
});
