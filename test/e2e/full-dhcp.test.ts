// End-to-end boots with real firmware (SeaBIOS/iPXE, OVMF, OVMF Secure Boot) in QEMU against
// bootherd as the full DHCP server of an isolated lab (bridge + taps in one namespace, 198.18.40.0/24).
// Each test passes when the guest's initramfs prints the per-run token bootherd handed to that host.
//
// Intermediate state, on purpose: the pxelinux/GRUB/iPXE configs carrying the token are files this
// test writes into the boot root (hosts/<mac>.ipxe, pxelinux.cfg/01-<mac>, grub/grub.cfg); bootherd
// picks the loader and script per host from reservations. When the boot engine serves per-host
// plans, the token moves into bootherd's inventory instead.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { copyFileSync, mkdirSync } from 'node:fs';
import { canUseNetns } from '../helpers/netns.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { populateBootRoot, writeGrubConfig, writeIpxeScript, writePxelinuxConfig, ipxeScriptPath, LOADERS, UNSIGNED_EFI } from './lib/bootroot.ts';
import { startBootherd } from './lib/bootherd.ts';
import type { BootherdServer } from './lib/bootherd.ts';
import { startRadvd } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const HTTP_PORT = 8080;

let lab: BootLab;
let server: BootherdServer;
let bootRoot = '';
let httpBase = '';
const tokens = new Map<number, string>();

// One reservation per boot path: each host gets its own loader and script.
const hosts = {
  pxelinux: { mac: mac(1), ip: '198.18.40.11' },
  biosIpxe: { mac: mac(2), ip: '198.18.40.12' },
  grub: { mac: mac(3), ip: '198.18.40.13' },
  snponly: { mac: mac(4), ip: '198.18.40.14' },
  httpBoot: { mac: mac(5), ip: '198.18.40.15' },
  shim: { mac: mac(6), ip: '198.18.40.16' },
  shimUnsigned: { mac: mac(6, 2), ip: '198.18.40.17' },
};

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 40 });
  const payload = buildPayload();
  bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, payload);
  httpBase = `http://${lab.serverIp}:${HTTP_PORT}`;
  for (const n of [1, 2, 3, 4, 5, 6]) tokens.set(n, token());
  writePxelinuxConfig(bootRoot, tokens.get(1)!, hosts.pxelinux.mac);
  writeIpxeScript(bootRoot, httpBase, tokens.get(2)!, hosts.biosIpxe.mac);
  writeIpxeScript(bootRoot, httpBase, tokens.get(4)!, hosts.snponly.mac);
  writeIpxeScript(bootRoot, httpBase, tokens.get(5)!, hosts.httpBoot.mac);
  // shim loads grubx64.efi from its own directory: unsigned/ holds shim and an unsigned "grubx64.efi".
  mkdirSync(join(bootRoot, 'unsigned'));
  copyFileSync(LOADERS['shimx64.efi']!.from, join(bootRoot, 'unsigned', 'shimx64.efi'));
  copyFileSync(UNSIGNED_EFI, join(bootRoot, 'unsigned', 'grubx64.efi'));

  const reservation = (h: { mac: string; ip: string }, extra: Record<string, string>) => ({ mac: h.mac, ip: h.ip, ...extra });
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
          reservations: [
            // QEMU's BIOS PXE ROM is iPXE (user class iPXE), which bootherd always sends to a script
            // URL; a tftp:// URL makes it chain pxelinux.0 over TFTP.
            reservation(hosts.pxelinux, { ipxe_script: `tftp://${lab.serverIp}/pxelinux.0` }),
            reservation(hosts.biosIpxe, { ipxe_script: ipxeScriptPath(hosts.biosIpxe.mac) }),
            reservation(hosts.grub, { bootfile: 'grubx64.efi' }),
            reservation(hosts.snponly, { bootfile: 'snponly.efi', ipxe_script: ipxeScriptPath(hosts.snponly.mac) }),
            reservation(hosts.httpBoot, { bootfile: 'ipxe.efi', ipxe_script: ipxeScriptPath(hosts.httpBoot.mac) }),
            reservation(hosts.shim, { bootfile: 'shimx64.efi' }),
            reservation(hosts.shimUnsigned, { bootfile: 'unsigned/shimx64.efi' }),
          ],
        },
      ],
      boot: { tftp_server: lab.serverIp, http_base: httpBase },
    },
  });
  if (server.standIns.length > 0) console.error(`e2e: bootherd serve does not run ${server.standIns.join(', ')} yet; stand-ins used (see test/e2e/README.md)`);
});

after(async () => {
  await server?.stop().catch(() => undefined);
  lab?.destroy();
});

function logs(): string[] {
  server.writeLog();
  return [server.dir];
}

test('1. BIOS: bootherd DHCP → pxelinux over TFTP → kernel + initrd; the marker shows the host\'s token', { skip }, async () => {
  const run = await boot(lab, { name: 'bootherd-bios-pxelinux', firmware: 'bios', mac: hosts.pxelinux.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(1)}\\b`));
    const files = run.tftp().map((t) => t.file);
    assert.ok(files.includes('pxelinux.0') && files.includes('vmlinuz') && files.includes('initrd.img'), `TFTP transfers: ${files.join(', ')}`);
  });
});

test('2. BIOS iPXE → per-host HTTP script → kernel + initrd over HTTP', { skip }, async () => {
  const run = await boot(lab, { name: 'bootherd-bios-ipxe-http', firmware: 'bios', mac: hosts.biosIpxe.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(2)}\\b`));
    assert.equal(run.tftp().length, 0, 'everything came over HTTP');
  });
});

test('3. UEFI PXE (EDK2) → TFTP → signed GRUB netboot image → kernel over TFTP, windowsize negotiated and used', { skip }, async () => {
  writeGrubConfig(bootRoot, tokens.get(3)!);
  const run = await boot(lab, { name: 'bootherd-uefi-grub', firmware: 'uefi', mac: hosts.grub.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(3)}\\b`));
    const grub = run.tftp().filter((t) => t.file === 'grubx64.efi' && t.dataBlocks > 0);
    assert.ok(grub.length > 0, 'GRUB came over TFTP');
    const w = grub[grub.length - 1]!;
    assert.equal(w.requested['windowsize'], '4', 'EDK2 asks for windowsize 4');
    assert.ok(w.acknowledged?.['windowsize'] !== undefined && Number(w.acknowledged['windowsize']) > 1, `OACK ${JSON.stringify(w.acknowledged)}`);
    assert.ok(w.maxBurst > 1, `the server sent ${w.maxBurst} block(s) per ACK at most: windowsize not used`);
    assert.ok(run.tftp().some((t) => t.file.replace(/^\//, '') === 'vmlinuz' && t.dataBlocks > 0), 'the kernel came over TFTP');
  });
});

test('4. UEFI PXE → snponly.efi → iPXE → per-host HTTP script → kernel + initrd over HTTP', { skip }, async () => {
  const run = await boot(lab, { name: 'bootherd-uefi-snponly', firmware: 'uefi', mac: hosts.snponly.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(4)}\\b`));
    assert.deepEqual([...new Set(run.tftp().filter((t) => t.dataBlocks > 0).map((t) => t.file))], ['snponly.efi']);
  });
});

test('5. UEFI HTTP Boot (IPv4 PXE off) → ipxe.efi by URL → per-host script over HTTP', { skip }, async () => {
  const run = await boot(lab, { name: 'bootherd-uefi-httpboot', firmware: 'uefi-http', mac: hosts.httpBoot.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(5)}\\b`));
    assert.equal(run.tftp().length, 0, 'no TFTP at all');
  });
});

test('6. Secure Boot (OVMF, Microsoft keys): shim → GRUB → the Debian-signed kernel', { skip }, async () => {
  writeGrubConfig(bootRoot, tokens.get(6)!);
  const run = await boot(lab, { name: 'bootherd-secureboot', firmware: 'secureboot', mac: hosts.shim.mac });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(6)}\\b`));
    const files = run.tftp().filter((t) => t.dataBlocks > 0).map((t) => t.file.replace(/^\//, ''));
    assert.ok(files.includes('shimx64.efi') && files.includes('grubx64.efi'), files.join(', '));
  });
});

test('6b. Secure Boot refuses an unsigned loader: shim stops, the payload never runs', { skip }, async () => {
  const run = await boot(lab, { name: 'bootherd-secureboot-unsigned', firmware: 'secureboot', mac: hosts.shimUnsigned.mac, timeoutMs: 120_000, failOn: /Security Violation|Verification failed/i });
  await expectOrKeep(run, logs(), () => {
    assert.equal(run.marker, undefined, 'the payload must not run');
    assert.equal(run.end, 'failOn', `shim did not report a verification failure; serial log ${run.serialLog}`);
    assert.ok(run.tftp().some((t) => t.file.endsWith('unsigned/grubx64.efi') && t.dataBlocks > 0), 'shim fetched the unsigned loader (and refused it)');
  });
});
