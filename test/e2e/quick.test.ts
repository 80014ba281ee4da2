// Quick mode, as its one-line usage promises: `bootherd serve --interface IFACE --kernel FILE
// --initrd FILE --cmdline "…"`, with no inventory and no boot files written anywhere, boots every
// PXE client on the link into that kernel: here a BIOS machine and a UEFI machine, neither known
// to bootherd beforehand. The kernel and initrd stay where they are (the test's cache), outside the
// boot root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canUseNetns } from '../helpers/netns.ts';
import { Daemon } from '../helpers/daemon.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { cmdline } from './lib/bootroot.ts';
import { startRadvd } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const quickToken = token();

let lab: BootLab;
let daemon: Daemon | undefined;
let dir = '';

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 44 });
  const payload = buildPayload();
  await startRadvd(lab, lab.dir);
  dir = join(lab.dir, 'quick');
  mkdirSync(join(dir, 'boot'), { recursive: true });
  chmodSync(dir, 0o755);
  // Only what full-mode DHCP needs (a pool); no inventory, no boot section, an empty boot root.
  const cfg = join(dir, 'bootherd.yaml');
  writeFileSync(
    cfg,
    JSON.stringify({
      state_dir: join(dir, 'state'),
      boot_root: join(dir, 'boot'),
      user: 'nobody',
      shutdown_grace: 1,
      log: { format: 'json' },
      tftp: { address: lab.serverIp },
      http: { address: lab.serverIp },
      dhcp: { subnets: [{ subnet: `${lab.prefix}.0/24`, pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }] }] },
    }),
  );
  daemon = new Daemon(['serve', '--config', cfg, '--interface', `${lab.bridge}:full`, '--kernel', payload.kernel, '--initrd', payload.initrd, '--cmdline', cmdline(quickToken, 'bh_profile=quick')], {
    lab: lab.net,
    ns: lab.ns,
  });
  await daemon.ready();
});

after(async () => {
  await daemon?.stop().catch(() => undefined);
  lab?.destroy();
});

for (const firmware of ['bios', 'uefi'] as const) {
  test(`quick mode: an unknown ${firmware === 'bios' ? 'BIOS' : 'UEFI'} machine boots the kernel given on the command line`, { skip }, async () => {
    const run = await boot(lab, { name: `quick-${firmware}`, firmware, mac: mac(firmware === 'bios' ? 0xa1 : 0xa2) });
    writeFileSync(join(dir, 'bootherd.log'), (daemon?.lines ?? []).map((l) => JSON.stringify(l)).join('\n') + '\n');
    await expectOrKeep(run, [dir], () => {
      assert.equal(run.end, 'marker', `the guest reached the payload; serial log ${run.serialLog}`);
      assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${quickToken}\\b`));
      assert.match(run.cmdline ?? '', /\bbh_profile=quick\b/);
    });
  });
}
