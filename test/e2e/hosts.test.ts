// Several hosts at once, and unknown hosts. Two known hosts with different profiles boot at the same
// time (BIOS iPXE → per-host HTTP script) and each gets its own kernel command line; an unknown host
// follows the unknown-host policy: under `ignore` it gets no DHCP answer and does not boot.
//
// Intermediate state: a "profile" is a per-host iPXE script this test writes (its own token and
// profile name on the command line); bootherd assigns each host its script from a reservation.
// Register-and-wait (the unknown host shows as pending) needs the inventory in `bootherd serve`:
// that test is a todo until then.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canUseNetns } from '../helpers/netns.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { cmdline, ipxeScriptPath, populateBootRoot } from './lib/bootroot.ts';
import { startBootherd } from './lib/bootherd.ts';
import type { BootherdServer } from './lib/bootherd.ts';
import { startRadvd } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';
import { dhcpMessages, udpDatagrams } from './lib/pcap.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const HTTP_PORT = 8080;

let lab: BootLab;
let server: BootherdServer;
const profiles = [
  { host: mac(0x81), profile: 'web', token: '' },
  { host: mac(0x82), profile: 'db', token: '' },
];
const unknown = mac(0x8f);

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 42 });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, buildPayload());
  const httpBase = `http://${lab.serverIp}:${HTTP_PORT}`;
  for (const p of profiles) {
    p.token = token();
    const path = join(bootRoot, ipxeScriptPath(p.host));
    mkdirSync(join(bootRoot, 'hosts'), { recursive: true });
    writeFileSync(path, `#!ipxe\nkernel ${httpBase}/vmlinuz initrd=initrd.img ${cmdline(p.token, `bh_profile=${p.profile}`)}\ninitrd ${httpBase}/initrd.img\nboot\n`);
  }
  await startRadvd(lab, lab.dir);
  const serverDir = join(lab.dir, 'bootherd');
  mkdirSync(serverDir);
  server = await startBootherd(lab, {
    bootRoot,
    dir: serverDir,
    httpPort: HTTP_PORT,
    interfaces: [{ name: lab.bridge, mode: 'full' }],
    dhcp: {
      unknown_clients: 'ignore',
      subnets: [
        {
          subnet: `${lab.prefix}.0/24`,
          pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }],
          reservations: profiles.map((p, i) => ({ mac: p.host, ip: `${lab.prefix}.${20 + i}`, ipxe_script: ipxeScriptPath(p.host) })),
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

test('8. two hosts with different profiles boot at the same time, each with its own kernel command line', { skip }, async () => {
  const runs = await Promise.all(profiles.map((p) => boot(lab, { name: `hosts-${p.profile}`, firmware: 'bios', mac: p.host, timeoutMs: 240_000 })));
  server.writeLog();
  for (const [i, run] of runs.entries()) {
    const p = profiles[i]!;
    const other = profiles[1 - i]!;
    await expectOrKeep(run, [server.dir], () => {
      assert.equal(run.end, 'marker', `${p.profile}: no marker; serial log ${run.serialLog}`);
      assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${p.token}\\b`));
      assert.match(run.cmdline ?? '', new RegExp(`\\bbh_profile=${p.profile}\\b`));
      assert.doesNotMatch(run.cmdline ?? '', new RegExp(`${other.token}|bh_profile=${other.profile}\\b`));
    });
  }
});

test('8. an unknown host under unknown_clients: ignore gets no DHCP answer and does not boot', { skip }, async () => {
  // iPXE gives up on DHCP after about 40 s; SeaBIOS then finds nothing to boot.
  const run = await boot(lab, { name: 'hosts-unknown-ignored', firmware: 'bios', mac: unknown, timeoutMs: 120_000, failOn: /No bootable device|No more network devices|Connection timed out|Nothing to boot/i });
  server.writeLog();
  await expectOrKeep(run, [server.dir], () => {
    assert.equal(run.marker, undefined, 'the unknown host must not boot');
    const msgs = dhcpMessages(udpDatagrams(readFileSync(run.pcap))).filter((m) => m.mac === unknown);
    assert.ok(msgs.some((m) => m.op === 1), 'the unknown host did ask (DHCPDISCOVER seen)');
    assert.deepEqual(msgs.filter((m) => m.op === 2), [], 'and nobody answered it');
  });
});

test('8. an unknown host under register-and-wait shows as pending', { skip, todo: 'needs the inventory and boot engine in `bootherd serve` (pending hosts); the DHCP side (registration script) is covered by unit tests' }, () => {
  assert.fail('not wired yet: bootherd serve exposes no inventory of pending hosts');
});
