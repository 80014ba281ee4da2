// ProxyDHCP end to end: a plain dnsmasq in its own namespace hands out the addresses (no boot
// options at all), and bootherd in proxy mode on the same bridge answers only with boot information.
// Boot paths 2 (BIOS iPXE → HTTP), 4 (UEFI PXE → snponly.efi → HTTP) and 5 (UEFI HTTP Boot).
// UEFI PXE straight into GRUB is not among them: Debian's GRUB 2.06 ignores the proxy offer
// (FIELD-NOTES.md), so proxy setups chain UEFI clients through iPXE.
//
// The inventory (a profile per path whose command line holds a fresh token, a host per path) is
// loaded with `bootherd apply`; bootherd generates the per-host iPXE scripts.
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
import { startDnsmasq, startRadvd } from './lib/servers.ts';
import type { Proc } from './lib/servers.ts';
import { boot, expectOrKeep, mac, token } from './lib/run.ts';
import type { BootRun } from './lib/run.ts';
import { dhcpMessages, udpDatagrams } from './lib/pcap.ts';

const root = canUseNetns();
const skip = root ? false : 'needs root (network namespaces, taps)';
const HTTP_PORT = 8080;

let lab: BootLab;
let server: BootherdServer;
let dnsmasq: Proc;
let dnsmasqDir = '';
const tokens = new Map<number, string>();
const hosts = { biosIpxe: mac(0x72), snponly: mac(0x74), httpBoot: mac(0x75) };

before(async () => {
  if (!root) return;
  lab = new BootLab({ subnet: 41, addressServerNs: true });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, buildPayload(), false);
  const profiles: Record<string, Record<string, unknown>> = {};
  const fleetHosts: { mac: string; profile: string }[] = [];
  for (const [n, m] of [[2, hosts.biosIpxe], [4, hosts.snponly], [5, hosts.httpBoot]] as const) {
    tokens.set(n, token());
    profiles[`path${n}`] = payloadProfile(cmdline(tokens.get(n)!));
    fleetHosts.push({ mac: m, profile: `path${n}` });
  }
  await startRadvd(lab, lab.dir);
  dnsmasqDir = join(lab.dir, 'dnsmasq');
  mkdirSync(dnsmasqDir);
  // The site's DHCP server: addresses only, not a word about booting.
  dnsmasq = await startDnsmasq(lab, { ns: lab.dhcpNs!, iface: 'eth0', range: { start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }, logDir: dnsmasqDir });
  const serverDir = join(lab.dir, 'bootherd');
  mkdirSync(serverDir);
  server = await startBootherd(lab, {
    bootRoot,
    dir: serverDir,
    httpPort: HTTP_PORT,
    interfaces: [{ name: lab.bridge, mode: 'proxy' }],
    dhcp: { mode: 'proxy' },
    fleet: fleetFile(profiles, fleetHosts),
  });
});

after(async () => {
  await server?.stop().catch(() => undefined);
  await dnsmasq?.stop().catch(() => undefined);
  lab?.destroy();
});

/** Addresses came from dnsmasq only; bootherd's replies to this host carried no address. */
function assertProxyOnly(run: BootRun, m: string): void {
  const msgs = dhcpMessages(udpDatagrams(readFileSync(run.pcap))).filter((x) => x.op === 2 && x.mac === m);
  const fromBootherd = msgs.filter((x) => x.src === lab.serverIp);
  const fromDnsmasq = msgs.filter((x) => x.src === lab.addressServerIp);
  assert.ok(fromBootherd.length > 0, 'bootherd answered the PXE client');
  assert.ok(fromDnsmasq.some((x) => x.yiaddr !== '0.0.0.0'), 'dnsmasq handed out the address');
  for (const x of fromBootherd) assert.equal(x.yiaddr, '0.0.0.0', `bootherd offered an address (${x.yiaddr}) in proxy mode`);
}

async function proxyBoot(n: number, name: string, firmware: 'bios' | 'uefi' | 'uefi-http', m: string): Promise<void> {
  // iPXE that found nothing to boot says so and gives up: end the run there rather than at the timeout.
  const run = await boot(lab, { name, firmware, mac: m, failOn: /No more network devices/ });
  server.writeLog();
  await expectOrKeep(run, [server.dir, dnsmasqDir], () => {
    assert.equal(run.end, 'marker', `no marker; serial log ${run.serialLog}`);
    assert.match(run.cmdline ?? '', new RegExp(`\\bbh_token=${tokens.get(n)}\\b`));
    assertProxyOnly(run, m);
  });
}

test('7/2. ProxyDHCP beside dnsmasq: BIOS iPXE → per-host HTTP script → kernel + initrd', { skip }, async () => {
  await proxyBoot(2, 'proxy-bios-ipxe-http', 'bios', hosts.biosIpxe);
});

// iPXE EFI (snponly.efi, ipxe.efi) never asks port 4011: its boot file must be in the port-67
// proxy offer itself.
test('7/4. ProxyDHCP beside dnsmasq: UEFI PXE → snponly.efi → iPXE → per-host HTTP script', { skip }, async () => {
  await proxyBoot(4, 'proxy-uefi-snponly', 'uefi', hosts.snponly);
});

test('7/5. ProxyDHCP beside dnsmasq: UEFI HTTP Boot → ipxe.efi by URL → per-host HTTP script', { skip }, async () => {
  await proxyBoot(5, 'proxy-uefi-httpboot', 'uefi-http', hosts.httpBoot);
});
