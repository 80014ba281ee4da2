// Several hosts at once, and unknown hosts, against `bootherd serve` with its inventory:
// - two hosts with different profiles (each profile's command line holds its own token and name)
//   boot at the same time (BIOS iPXE → per-host HTTP script) and each gets its own command line;
// - boot.unknown_hosts: ignore — an unknown host gets no DHCP answer and does not boot;
// - boot.unknown_hosts: register — an unknown host shows as pending (`bootherd hosts list`), waits,
//   and boots its profile once an operator approves it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canUseNetns } from '../helpers/netns.ts';
import { BootLab } from './lib/lab.ts';
import { buildPayload } from './lib/payload.ts';
import { cmdline, populateBootRoot } from './lib/bootroot.ts';
import { fleetFile, payloadProfile, startBootherd } from './lib/bootherd.ts';
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
  { host: mac(0x81), profile: 'web', token: token() },
  { host: mac(0x82), profile: 'db', token: token() },
];
const approvedToken = token();
const ignored = mac(0x8e);
const registering = mac(0x8f);

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 42 });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, buildPayload(), false);
  await startRadvd(lab, lab.dir);
  const serverDir = join(lab.dir, 'bootherd');
  mkdirSync(serverDir);
  const fleetProfiles: Record<string, Record<string, unknown>> = { approved: payloadProfile(cmdline(approvedToken, 'bh_profile=approved')) };
  for (const p of profiles) fleetProfiles[p.profile] = payloadProfile(cmdline(p.token, `bh_profile=${p.profile}`));
  server = await startBootherd(lab, {
    bootRoot,
    dir: serverDir,
    httpPort: HTTP_PORT,
    interfaces: [{ name: lab.bridge, mode: 'full' }],
    dhcp: { subnets: [{ subnet: `${lab.prefix}.0/24`, pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }] }] },
    boot: { unknown_hosts: 'ignore' },
    fleet: fleetFile(fleetProfiles, profiles.map((p) => ({ mac: p.host, hostname: p.profile, profile: p.profile }))),
  });
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

test('8. unknown host under unknown_hosts: ignore: no DHCP answer, no boot', { skip }, async () => {
  // iPXE gives up on DHCP after about 40 s ("No more network devices").
  const run = await boot(lab, { name: 'hosts-unknown-ignored', firmware: 'bios', mac: ignored, timeoutMs: 150_000, failOn: /No more network devices|No bootable device/ });
  server.writeLog();
  await expectOrKeep(run, [server.dir], () => {
    assert.equal(run.marker, undefined, 'the unknown host must not boot');
    assert.equal(run.end, 'failOn', `iPXE did not give up on DHCP; serial log ${run.serialLog}`);
    const msgs = dhcpMessages(udpDatagrams(readFileSync(run.pcap))).filter((m) => m.mac === ignored);
    assert.ok(msgs.some((m) => m.op === 1), 'the unknown host did ask (DHCPDISCOVER seen)');
    assert.deepEqual(msgs.filter((m) => m.op === 2), [], 'and nobody answered it');
  });
});

interface HostRow {
  macs?: string[];
  state?: string;
}

function hostState(m: string): string | undefined {
  const rows = JSON.parse(server.cli(['hosts', 'list', '--json'])) as HostRow[];
  return rows.find((h) => (h.macs ?? []).map((x) => x.toLowerCase()).includes(m))?.state;
}

test('8. unknown host under unknown_hosts: register: it shows as pending, waits, and boots once approved', { skip }, async () => {
  await server.restart({ unknown_hosts: 'register', pending_poll: 5 });
  const guest = boot(lab, { name: 'hosts-register-and-wait', firmware: 'bios', mac: registering, timeoutMs: 240_000, failOn: /No bootable device/ });
  let state: string | undefined;
  for (let i = 0; i < 90 && state !== 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    state = hostState(registering);
  }
  let early: string | undefined;
  if (state === 'pending') {
    // Still waiting: nothing booted before the approval.
    early = await Promise.race([guest.then((r) => r.marker ?? `ended: ${r.end}`), new Promise<undefined>((r) => setTimeout(() => r(undefined), 8000))]);
    server.cli(['hosts', 'set', registering, '--profile', 'approved']);
    server.cli(['hosts', 'approve', registering]);
  }
  const run = await guest;
  server.writeLog();
  await expectOrKeep(run, [server.dir], () => {
    assert.equal(state, 'pending', 'the unknown host was registered as pending (bootherd hosts list)');
    assert.equal(early, undefined, 'it did not boot before the approval');
    assert.equal(run.end, 'marker', `it booted after the approval; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${approvedToken}\\b`));
    assert.equal(hostState(registering), 'active');
  });
});
