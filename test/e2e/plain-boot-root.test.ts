// A boot root written for dnsmasq or tftp-hpa boots unchanged from bootherd: with nothing in the
// inventory, bootherd generates no per-host file, so pxelinux, after asking for
// pxelinux.cfg/01-<mac>, reaches the operator's own pxelinux.cfg/default (issue: "A boot root from
// dnsmasq or tftp-hpa does not boot unchanged"). Real SeaBIOS + iPXE ROM in QEMU, bootherd as the
// full DHCP server of an isolated lab (198.18.47.0/24), no `bootherd apply`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { canUseNetns } from '../helpers/netns.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { populateBootRoot, writePxelinuxConfig } from './lib/bootroot.ts';
import { startBootherd } from './lib/bootherd.ts';
import type { BootherdServer } from './lib/bootherd.ts';
import { startRadvd } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const run1 = token();

let lab: BootLab;
let server: BootherdServer;

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 47 });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, buildPayload(), false);
  // The operator's tree: only pxelinux.cfg/default, as a tftp-hpa or dnsmasq setup has it.
  writePxelinuxConfig(bootRoot, run1);
  const dir = join(lab.dir, 'bootherd');
  mkdirSync(dir);
  await startRadvd(lab, lab.dir);
  server = await startBootherd(lab, {
    bootRoot,
    dir,
    httpPort: 8080,
    interfaces: [{ name: lab.bridge, mode: 'full' }],
    dhcp: { subnets: [{ subnet: `${lab.prefix}.0/24`, pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }] }] },
    boot: { bios_loader: 'pxelinux' },
  });
});

after(async () => {
  await server?.stop().catch(() => undefined);
  lab?.destroy();
});

test('BIOS, empty inventory: pxelinux falls through 01-<mac> to the boot root\'s own pxelinux.cfg/default and boots its kernel', { skip }, async () => {
  const guest = mac(47);
  const run = await boot(lab, { name: 'plain-pxelinux-default', firmware: 'bios', mac: guest, failOn: /No bootable device|Boot from local disk/ });
  server.writeLog();
  await expectOrKeep(run, [server.dir], () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${run1}\\b`));
    const asked = run.tftp().map((t) => t.file.replace(/^\//, ''));
    const perHost = `pxelinux.cfg/01-${guest.replace(/:/g, '-')}`;
    assert.ok(asked.includes(perHost), `pxelinux asked for ${perHost} first (asked: ${asked.join(', ')})`);
    assert.ok(run.tftp().some((t) => t.file.replace(/^\//, '') === 'pxelinux.cfg/default' && t.dataBlocks > 0), 'the operator\'s pxelinux.cfg/default came over TFTP');
  });
});
