// The boot engine inside a real `bootherd serve` (TFTP and HTTP on loopback, no DHCP): a per-host
// iPXE script over HTTP, pxelinux.cfg/01-<mac> and Debian's loaders over TFTP, register-and-wait
// approved by another process, and the per-host timeline in the store.
// apt: ipxe (undionly.kpxe, ipxe.efi), pxelinux, syslinux-common.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../helpers/daemon.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'bh-boot-serve-'));
const state = join(dir, 'state');
const boot = join(dir, 'boot');
const tftpPort = 20_000 + (process.pid % 10_000);
const httpPort = tftpPort + 1;
const MAC = '52:54:00:aa:00:01';
const NEW_MAC = '52:54:00:aa:00:02';
let daemon: Daemon;
let store: Store;
let hostId = '';

before(async () => {
  mkdirSync(state, { recursive: true });
  mkdirSync(boot, { recursive: true });
  chmodSync(dir, 0o755); // serve drops root (to bootherd or nobody): its state dir must be reachable
  const cfg = join(dir, 'bootherd.yaml');
  writeFileSync(cfg, `state_dir: ${state}\nboot_root: ${boot}\ntftp:\n  address: 127.0.0.1\n  port: ${tftpPort}\nhttp:\n  address: 127.0.0.1\n  port: ${httpPort}\nboot:\n  unknown_hosts: register\n  pending_poll: 5\n`);
  daemon = new Daemon(['serve', '--config', cfg]);
  await daemon.ready();
  // The operator's side: another process writes the inventory into the daemon's store.
  store = await openStore(`sqlite:${join(state, 'bootherd.db')}`, { logger: silentLogger() });
  const p = await store.profiles.create({ name: 'debian', spec: { kind: 'linux', kernel: 'debian/linux', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0' } });
  hostId = (await store.hosts.create({ macs: [MAC], hostname: 'node01', state: 'active', profileId: p.id })).id;
});

/** Asks like iPXE's poll does until the daemon's inventory snapshot (reloaded every few seconds) shows `want`. */
async function until(path: string, want: RegExp): Promise<string> {
  let body = '';
  for (let i = 0; i < 60 && !want.test(body); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 500));
    body = (await get(path)).body;
  }
  return body;
}

after(async () => {
  await daemon?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, { signal: AbortSignal.timeout(20_000) });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

test('GET /boot.ipxe gives the host its per-host script', async () => {
  await until(`/boot.ipxe?mac=${MAC}&uuid=&arch=i386`, /^kernel /m);
  const r = await get(`/boot.ipxe?mac=${MAC}&uuid=&arch=i386`);
  assert.equal(r.status, 200);
  assert.match(r.type ?? '', /^text\/plain/);
  assert.match(r.body, /^#!ipxe\n# bootherd: profile debian for node01 52:54:00:aa:00:01\n/);
  assert.match(r.body, /^kernel \/debian\/linux initrd=initrd.gz console=ttyS0 \|\| goto failed$/m);
});

test("TFTP serves Debian's loaders under stable names and the host's pxelinux.cfg", async () => {
  const undionly = await tftpGet({ host: '127.0.0.1', port: tftpPort, file: 'undionly.kpxe', options: [{ name: 'blksize', value: '1432' }] });
  assert.ok(undionly.data.equals(readFileSync('/usr/lib/ipxe/undionly.kpxe')), 'undionly.kpxe is Debian\'s (apt package ipxe)');
  const ldlinux = await tftpGet({ host: '127.0.0.1', port: tftpPort, file: 'ldlinux.c32' });
  assert.ok(ldlinux.data.equals(readFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32')), 'ldlinux.c32 (apt package syslinux-common)');
  const cfg = await tftpGet({ host: '127.0.0.1', port: tftpPort, file: 'pxelinux.cfg/01-52-54-00-aa-00-01' });
  assert.match(cfg.data.toString(), /^ {2}KERNEL debian\/linux$/m);
  // Over HTTP too (UEFI HTTP Boot fetches ipxe.efi by URL).
  const efi = await fetch(`http://127.0.0.1:${httpPort}/ipxe.efi`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(efi.status, 200);
  assert.ok(Buffer.from(await efi.arrayBuffer()).equals(readFileSync('/usr/lib/ipxe/ipxe.efi')));
});

test('register and wait: an unknown machine is pending until another process approves it', async () => {
  const first = await get(`/boot.ipxe?mac=${NEW_MAC}&arch=i386`);
  assert.match(first.body, /^sleep 5$/m);
  const rec = await store.hosts.findByMac(NEW_MAC);
  assert.equal(rec?.state, 'pending');
  const p = await store.profiles.getByName('debian');
  await store.hosts.update(rec!.id, { state: 'active', profileId: p!.id });
  const body = await until(`/boot.ipxe?mac=${NEW_MAC}&arch=i386`, /^kernel /m);
  assert.match(body, /^kernel \/debian\/linux/m);
  assert.equal((await store.hosts.list()).filter((h) => h.macs.includes(NEW_MAC)).length, 1);
});

test("every stage's boot events land in the host's timeline under its record id", async () => {
  let events: Awaited<ReturnType<Store['events']['list']>> = [];
  for (let i = 0; i < 40; i++) {
    events = await store.events.list({ host: hostId });
    if (events.some((e) => e.stage === 'tftp' && e.kind.startsWith('transfer-')) && events.some((e) => e.stage === 'http' && e.kind === 'script')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const kinds = events.map((e) => `${e.stage}:${e.kind}`);
  assert.ok(kinds.includes('http:script'), kinds.join(' '));
  assert.ok(kinds.includes('tftp:config'), kinds.join(' '));
  // TFTP knows the client only by IP; the engine maps it to the host that fetched its script from there.
  assert.ok(kinds.includes('tftp:transfer-start'), kinds.join(' '));
  assert.ok(kinds.includes('http:file'), kinds.join(' '));
});
