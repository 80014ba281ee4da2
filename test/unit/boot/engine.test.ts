// The glue: per-host iPXE script over HTTP (fastify inject), per-host pxelinux.cfg and grub.cfg
// over the registry, the engine as the planner of a real DhcpServer, register-and-wait with
// operator approval, and events that carry the host record's id.
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { HostDirectory } from '../../../src/boot/hosts.ts';
import { BootEngine, hostAwareBus, planSettings } from '../../../src/boot/engine.ts';
import { registerBootRoutes } from '../../../src/http/boot-routes.ts';
import { DEFAULT_BOOT_CONFIG } from '../../../src/config/boot.ts';
import type { BootConfig } from '../../../src/config/boot.ts';
import { clients, config, fullConfig, harness, meta4011, request } from '../dhcp/helpers.ts';
import { createHttpApp } from '../../../src/http/server.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { NO_ACCESS_LISTS } from '../../../src/boot/access.ts';
import type { DhcpPlanSettings } from '../../../src/boot/dhcp-plan.ts';

const DHCP_SETTINGS: DhcpPlanSettings = { access: NO_ACCESS_LISTS, bootfiles: {}, ipxeScript: 'boot.ipxe', registrationScript: 'register.ipxe', chains: { bios: 'ipxe', uefi: 'ipxe' } };

const dir = mkdtempSync(path.join(tmpdir(), 'bh-engine-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

const MAC = '52:54:00:12:34:56';
const DEBIAN = { kind: 'linux', description: 'Debian', kernel: 'debian/linux', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0' };

interface World {
  store: Store;
  engine: BootEngine;
  events: BootEvent[];
  bus: EventBus;
  app: ReturnType<typeof Fastify>;
  registry: GeneratedFiles;
}

async function world(boot: Partial<BootConfig> = {}): Promise<World> {
  const store = await openStore(`sqlite:${path.join(dir, `e${++n}.db`)}`, { logger: silentLogger() });
  await store.migrate();
  const bus = new EventBus((err) => {
    throw err;
  });
  const events: BootEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const directory = new HostDirectory({ store, logger: silentLogger() });
  const engine = new BootEngine({ directory, events: bus, logger: silentLogger(), settings: planSettings({ ...DEFAULT_BOOT_CONFIG, ...boot }) });
  const app = Fastify();
  registerBootRoutes(app, engine);
  const registry = new GeneratedFiles();
  engine.attach(registry);
  return { store, engine, events, bus, app, registry };
}

async function activeHost(w: World, spec: Record<string, unknown> = DEBIAN, extra: Record<string, unknown> = {}) {
  const p = await w.store.profiles.create({ name: 'debian', spec });
  const h = await w.store.hosts.create({ macs: [MAC], hostname: 'node01', state: 'active', profileId: p.id, ...extra });
  await w.engine.directory.refresh();
  return h;
}

const script = (w: World, q: string) => w.app.inject({ method: 'GET', url: `/boot.ipxe?${q}` });

describe('HTTP: per-host iPXE script', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  after(async () => w?.store.close());

  it('an active host gets its profile: kernel, initrd, boot; the event names the host record', async () => {
    const h = await activeHost(w);
    const r = await script(w, `mac=${MAC}&uuid=&arch=i386&platform=pcbios`);
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.body, /^#!ipxe\n/);
    assert.match(r.body, /^kernel \/debian\/linux initrd=initrd.gz console=ttyS0 \|\| goto failed$/m);
    assert.match(r.body, /^initrd \/debian\/initrd.gz/m);
    const e = w.events.find((x) => x.kind === 'script');
    assert.equal(e?.host, h.id);
    assert.equal(e?.stage, 'http');
    assert.equal(e?.detail['profile'], 'debian');
    assert.equal(e?.detail['client'], MAC);
  });

  it('a group profile applies when the host has none', async () => {
    const p = await w.store.profiles.create({ name: 'debian', spec: DEBIAN });
    const g = await w.store.groups.create({ name: 'workers', profileId: p.id });
    await w.store.hosts.create({ macs: [MAC], state: 'active', groupId: g.id });
    await w.engine.directory.refresh();
    assert.match((await script(w, `mac=${MAC}`)).body, /^kernel \/debian\/linux/m);
  });

  it('an unknown host gets the profile menu and is recorded once as new', async () => {
    await w.store.profiles.create({ name: 'debian', spec: DEBIAN });
    await w.engine.directory.refresh();
    const r = await script(w, `mac=${MAC}&arch=x86_64&platform=efi`);
    assert.match(r.body, /^menu bootherd$/m);
    assert.match(r.body, /^item item0 Debian$/m);
    await script(w, `mac=${MAC}&arch=x86_64&platform=efi`);
    const hosts = await w.store.hosts.list();
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0]!.state, 'new');
    assert.equal(hosts[0]!.arch, 'uefi-x64');
  });

  it('local and disabled hosts leave the network boot', async () => {
    await w.store.hosts.create({ macs: [MAC], state: 'local' });
    await w.store.hosts.create({ macs: ['52:54:00:00:00:02'], state: 'disabled' });
    await w.engine.directory.refresh();
    assert.match((await script(w, `mac=${MAC}`)).body, /^exit 0$/m);
    assert.match((await script(w, 'mac=52:54:00:00:00:02')).body, /^exit 0$/m);
    // At the DHCP stage a disabled host is not answered at all; a local one still is (its plan exits).
    const ask = (mac: string) => w.engine.planDhcp({ mac, uuid: undefined, arches: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClasses: [], ip: undefined, tftpServer: '198.18.0.1', httpBase: 'http://198.18.0.1:8080', unknownClients: 'answer' }, DHCP_SETTINGS);
    const disabled = ask('52:54:00:00:00:02');
    assert.deepEqual([disabled.answer, disabled.answer ? undefined : disabled.reason], [false, 'host_disabled']);
    assert.equal(ask(MAC).answer, true);
  });

  it('hostile query values cannot reach the script, and the host is then found by its IP', async () => {
    const h = await activeHost(w);
    // First a well-formed request from this IP, then hostile ones from the same IP.
    await w.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${MAC}`, remoteAddress: '198.18.0.77' });
    for (const bad of ['x%0Ashell', '%24%7Bnet0%2Fip%7D', 'a%20%7C%7C%20shell', '%3Cscript%3E']) {
      const r = await w.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${bad}&uuid=${bad}&arch=${bad}&platform=${bad}`, remoteAddress: '198.18.0.77' });
      assert.equal(r.statusCode, 200);
      assert.doesNotMatch(r.body, /shell|net0\/ip|script/);
      assert.match(r.body, /^kernel \/debian\/linux/m);
    }
    assert.equal((await w.store.hosts.list()).length, 1);
    assert.ok(w.events.filter((e) => e.detail['badMac'] === true).every((e) => e.host === h.id));
  });

  it('an unsafe profile value gives an error script, not an injected one', async () => {
    await activeHost(w, { ...DEBIAN, cmdline: 'quiet\nshell' });
    const r = await script(w, `mac=${MAC}`);
    assert.match(r.body, /BH_BOOT_UNSAFE_VALUE/);
    assert.doesNotMatch(r.body, /shell/);
    assert.ok(w.events.some((e) => e.kind === 'script-error'));
  });

  it('a script rendered once is reused until the inventory changes, and each fetch is still an event', async () => {
    // A profile with a BIOS variant: the arch is part of what a reused script is reused for.
    const h = await activeHost(w, { ...DEBIAN, arch: { bios: { ...DEBIAN, kernel: 'debian/linux-bios' } } });
    const first = await script(w, `mac=${MAC}&arch=x86_64&platform=efi`);
    const again = await script(w, `mac=${MAC}&arch=x86_64&platform=efi`);
    assert.equal(again.body, first.body);
    assert.match(first.body, /node01/);
    assert.match(first.body, /^kernel \/debian\/linux /m);
    assert.equal(w.events.filter((e) => e.kind === 'script' && e.host === h.id).length, 2);
    // Another arch is another plan: rendered on its own.
    assert.match((await script(w, `mac=${MAC}&arch=i386&platform=pcbios`)).body, /^kernel \/debian\/linux-bios /m);
    assert.match((await script(w, `mac=${MAC}&arch=x86_64&platform=efi`)).body, /^kernel \/debian\/linux /m);
    // The operator renames the host and changes its profile: the next fetch shows both.
    const p2 = await w.store.profiles.create({ name: 'alpine', spec: { ...DEBIAN, kernel: 'alpine/vmlinuz', initrd: ['alpine/initramfs'] } });
    await w.store.hosts.update(h.id, { hostname: 'node02', profileId: p2.id });
    await w.engine.directory.refresh();
    const after = await script(w, `mac=${MAC}&arch=x86_64&platform=efi`);
    assert.match(after.body, /node02/);
    assert.match(after.body, /^kernel \/alpine\/vmlinuz /m);
    assert.equal(w.events.filter((e) => e.kind === 'script').at(-1)?.detail['profile'], 'alpine');
  });

  it('a host fetching its script in a loop: the burst as events, then one script-repeats summary per window', async () => {
    let t = 0;
    const bus = new EventBus();
    const seen: BootEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const engine = new BootEngine({ directory: w.engine.directory, events: bus, logger: silentLogger(), repeats: { burst: 2, windowMs: 10_000 }, now: () => t });
    const h = await activeHost(w);
    for (let i = 0; i < 10; i++) assert.match((await engine.handleHttp({ path: '/boot.ipxe', query: { mac: MAC }, ip: '198.18.0.5' }))?.body ?? '', /^kernel /m);
    assert.equal(seen.filter((e) => e.kind === 'script').length, 2);
    engine.sweepRepeats();
    assert.equal(seen.filter((e) => e.kind === 'script-repeats').length, 0, 'the window has not ended');
    t += 10_000;
    engine.sweepRepeats();
    const sum = seen.filter((e) => e.kind === 'script-repeats');
    assert.equal(sum.length, 1);
    assert.equal(sum[0]!.host, h.id);
    assert.equal(sum[0]!.detail['script'], 'boot.ipxe');
    assert.equal(sum[0]!.detail['count'], 8);
    assert.deepEqual(Object.values(sum[0]!.detail['actions'] as Record<string, number>), [8]);
    // Another host is not held back by this one's loop, and the next window starts a new burst.
    await engine.handleHttp({ path: '/boot.ipxe', query: { mac: '52:54:00:00:00:09' }, ip: '198.18.0.6' });
    await engine.handleHttp({ path: '/boot.ipxe', query: { mac: MAC }, ip: '198.18.0.5' });
    assert.equal(seen.filter((e) => e.kind === 'script').length, 4);
  });

  it('/menu.ipxe lists every profile with the configured default and timeout', async () => {
    const m = await world({ menu: { title: 'Lab', timeout: 7, default: 'debian' } });
    await m.store.profiles.create({ name: 'debian', spec: DEBIAN });
    await m.engine.directory.refresh();
    const r = await m.app.inject({ method: 'GET', url: '/menu.ipxe' });
    assert.match(r.body, /^choose --default item0 --timeout 7000 /m);
    await m.store.close();
  });
});

describe('default profile', () => {
  it("the inventory's default profile boots unknown hosts (menu policy) and active hosts without a profile", async () => {
    const w = await world();
    await w.store.profiles.create({ name: 'debian', spec: DEBIAN });
    await w.store.kv.set('inventory.default_profile', 'debian');
    await w.engine.directory.refresh();
    assert.match((await script(w, `mac=${MAC}`)).body, /^kernel \/debian\/linux/m);
    await w.store.close();
  });

  it("quick mode's built-in profile boots every unknown PXE client; an inventory default wins over it", async () => {
    const store = await openStore(`sqlite:${path.join(dir, `e${++n}.db`)}`, { logger: silentLogger() });
    await store.migrate();
    const directory = new HostDirectory({ store, logger: silentLogger(), builtinDefault: { name: 'quick', spec: { kind: 'linux', kernel: 'quick/vmlinuz', initrd: ['quick/initrd.img'] } } });
    await directory.refresh();
    const engine = new BootEngine({ directory, events: new EventBus(), logger: silentLogger() });
    const r = await engine.handleHttp({ path: '/boot.ipxe', query: { mac: MAC, arch: 'i386' }, ip: '198.18.0.5' });
    assert.match(r?.body ?? '', /^kernel \/quick\/vmlinuz initrd=initrd.img \|\| goto failed$/m);
    await store.profiles.create({ name: 'debian', spec: DEBIAN });
    await store.kv.set('inventory.default_profile', 'debian');
    await directory.refresh();
    assert.match((await engine.handleHttp({ path: '/boot.ipxe', query: { mac: MAC }, ip: '198.18.0.5' }))?.body ?? '', /^kernel \/debian\/linux/m);
    await store.close();
  });
});

describe('register and wait', () => {
  it('an unknown host waits as pending until an operator approves it, then boots its profile', async () => {
    const w = await world({ unknown_hosts: 'register', pending_poll: 15 });
    const p = await w.store.profiles.create({ name: 'debian', spec: DEBIAN });
    await w.engine.directory.refresh();
    const r = await script(w, `mac=${MAC}&arch=i386`);
    assert.match(r.body, /^sleep 15$/m);
    assert.match(r.body, /^chain --replace --autofree boot\.ipxe\?mac=\$\{net0\/mac:hexhyp\}/m);
    const [h] = await w.store.hosts.list();
    assert.equal(h?.state, 'pending');
    // Still pending on the next poll.
    assert.match((await script(w, `mac=${MAC}`)).body, /^sleep 15$/m);
    // The operator approves it (another process writes the store); the snapshot refresh sees it.
    await w.store.hosts.update(h!.id, { state: 'active', profileId: p.id });
    await w.engine.directory.refresh();
    assert.match((await script(w, `mac=${MAC}`)).body, /^kernel \/debian\/linux/m);
    assert.equal((await w.store.hosts.list()).length, 1);
    await w.store.close();
  });

  it("DHCP's register policy (per subnet) leads iPXE to /register.ipxe, which records the host as pending", async () => {
    const w = await world({ unknown_hosts: 'menu' });
    const r = await w.app.inject({ method: 'GET', url: `/register.ipxe?mac=${MAC}` });
    assert.match(r.body, /^chain --replace --autofree register\.ipxe\?/m);
    assert.equal((await w.store.hosts.list())[0]?.state, 'pending');
    await w.store.close();
  });
});

describe('TFTP: per-host pxelinux.cfg and grub.cfg', () => {
  it('with nothing in the inventory, an unknown machine gets no generated file: the boot root answers, as a plain TFTP or HTTP server would', async () => {
    const w = await world();
    // pxelinux asks for 01-<mac> first: no file, so it goes on to the operator's pxelinux.cfg/default.
    assert.equal(w.registry.get('pxelinux.cfg/01-52-54-00-00-00-21'), undefined);
    assert.equal(w.registry.get('grub/hosts/52:54:00:00:00:21.cfg'), undefined);
    const r = await script(w, 'mac=52:54:00:00:00:21');
    assert.equal(r.statusCode, 404, 'no boot.ipxe in the boot root: the file route answers');
    const ev = w.events.find((e) => e.stage === 'tftp' && e.kind === 'config-deferred');
    assert.match(String(ev?.detail['why']), /the boot root's own files answer/);
    // Once the inventory has a profile, the unknown machine gets the menu again.
    await w.store.profiles.create({ name: 'debian', spec: DEBIAN });
    await w.engine.directory.refresh();
    assert.match(w.registry.get('pxelinux.cfg/01-52-54-00-00-00-21')?.data.toString() ?? '', /^UI menu\.c32$/m);
    assert.equal((await script(w, 'mac=52:54:00:00:00:21')).statusCode, 200);
    await w.store.close();
  });

  it('pxelinux.cfg/01-<mac> and grub/hosts/<mac>.cfg carry the host\'s profile; grub.cfg dispatches by MAC', async () => {
    const w = await world();
    const h = await activeHost(w);
    const px = w.registry.get('pxelinux.cfg/01-52-54-00-12-34-56')?.data.toString();
    assert.match(px ?? '', /^ {2}KERNEL debian\/linux$/m);
    assert.match(px ?? '', /^ {2}APPEND console=ttyS0$/m);
    const grub = w.registry.get('grub/hosts/52:54:00:12:34:56.cfg')?.data.toString();
    assert.match(grub ?? '', /^ {2}linux '\/debian\/linux' 'console=ttyS0'$/m);
    assert.match(w.registry.get('grub/grub.cfg')?.data.toString() ?? '', /source "\$prefix\/hosts\/\$\{net_default_mac\}\.cfg"/);
    // pxelinux probes: its UUID file (known host), hex IPs and default fall through to disk.
    assert.equal(w.registry.get('pxelinux.cfg/C0A80001'), undefined);
    assert.equal(w.registry.get('pxelinux.cfg/default'), undefined);
    const ev = w.events.filter((e) => e.stage === 'tftp' && e.kind === 'config');
    assert.deepEqual(ev.map((e) => e.host), [h.id, h.id]);
    // An unknown MAC gets the unknown-host plan (the menu) and is recorded.
    assert.match(w.registry.get('pxelinux.cfg/01-52-54-00-00-00-09')?.data.toString() ?? '', /^UI menu\.c32$/m);
    await new Promise((r) => setImmediate(r));
    await w.engine.directory.identify({ create: false });
    assert.ok((await w.store.hosts.findByMac('52:54:00:00:00:09')) !== undefined);
    await w.store.close();
  });
});

describe('DHCP: the engine as the DHCP server\'s planner', () => {
  it('a Secure Boot host on UEFI PXE gets shimx64.efi; an unknown one gets the default loader and is recorded', async () => {
    const w = await world();
    await activeHost(w, { ...DEBIAN, secure_boot: true });
    const h = await harness(config({ mode: 'proxy' }), { planner: w.engine });
    await h.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }));
    const ack = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: clients.edk2Pxe() }), meta4011('198.18.0.100', 4011));
    assert.equal(ack.p.file, 'shimx64.efi');

    const other = '52:54:00:00:00:07';
    // Another machine: its own SMBIOS UUID (option 97).
    const otherUuid: [number, Uint8Array] = [97, Uint8Array.from([0, ...Array.from({ length: 16 }, (_, i) => 0xa0 + i)])];
    const opts = [...clients.edk2Pxe().filter(([c]) => c !== 97), otherUuid];
    const ack2 = await h.one(request({ type: 3, mac: other, ciaddr: '198.18.0.101', options: opts }), meta4011('198.18.0.101', 4011));
    assert.equal(ack2.p.file, 'snponly.efi');
    await w.engine.directory.identify({ create: false }); // waits for the background sighting
    const rec = await w.store.hosts.findByMac(other);
    assert.equal(rec?.state, 'new');
    assert.equal(rec?.uuid !== null, true);
    await w.store.close();
  });

  it('BIOS hosts on the pxelinux chain get pxelinux.0, also from an iPXE ROM (pxelinux does no DHCP: no loop); on the iPXE chain iPXE gets the script URL', async () => {
    const w = await world({ bios_loader: 'pxelinux' });
    await activeHost(w);
    const h = await harness(config({ mode: 'proxy' }), { planner: w.engine });
    const bios = [...clients.ipxeBios()].filter(([c]) => c !== 77);
    const ack = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: bios }), meta4011('198.18.0.100', 68));
    assert.equal(ack.p.file, 'pxelinux.0');
    const rom = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: clients.ipxeBios() }), meta4011('198.18.0.100', 68));
    assert.equal(rom.p.file, 'pxelinux.0');
    // The same iPXE ROM in full mode, as QEMU's SeaBIOS sends it.
    const full = await harness(fullConfig(), { planner: w.engine });
    const offer = await full.one(request({ type: 1, mac: MAC, options: clients.ipxeBios() }));
    assert.equal(offer.p.file, 'pxelinux.0');
    assert.equal(offer.p.siaddr, '198.18.0.1');
    // On the iPXE chain, the no-loop rule: iPXE gets the per-host script URL.
    const w2 = await world();
    await activeHost(w2);
    const h2 = await harness(config({ mode: 'proxy' }), { planner: w2.engine });
    const ipxe = await h2.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: clients.ipxeBios() }), meta4011('198.18.0.100', 68));
    assert.match(ipxe.p.file, /^http:\/\/198\.18\.0\.1:8080\/boot\.ipxe\?mac=/);
    await w.store.close();
    await w2.store.close();
  });
});

describe('host-aware event bus', () => {
  it('maps a TFTP or HTTP client IP, or a DHCP MAC, to the host record', async () => {
    const w = await world();
    const h = await activeHost(w);
    await w.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${MAC}`, remoteAddress: '198.18.0.55' });
    const tftp = hostAwareBus(w.bus, w.engine.directory);
    tftp.emit({ host: '198.18.0.55', stage: 'http', kind: 'transfer-finish', detail: { file: 'debian/linux', bytes: 123, ms: 4 } });
    tftp.emit({ host: MAC, stage: 'dhcp', kind: 'offer', detail: {} });
    tftp.emit({ host: '198.18.0.99', stage: 'tftp', kind: 'transfer-finish', detail: {} });
    const last = w.events.slice(-3);
    assert.deepEqual(last.map((e) => e.host), [h.id, h.id, '198.18.0.99']);
    // A DHCP ACK teaches the leased IP (TFTP-only chains such as shim → GRUB never ask for a script).
    tftp.emit({ host: MAC, stage: 'dhcp', kind: 'ack', detail: { ip: '198.18.0.120' } });
    tftp.emit({ host: '198.18.0.120', stage: 'tftp', kind: 'transfer-finish', detail: { file: 'vmlinuz' } });
    assert.equal(w.events.at(-1)!.host, h.id);
    assert.equal(last[0]!.detail['client'], '198.18.0.55');
    assert.equal(last[0]!.detail['bytes'], 123);
    await w.store.close();
  });
});

describe("the boot root's own files win", () => {
  it('a hand-written boot.ipxe, pxelinux.cfg/01-<mac> or grub/grub.cfg is served instead of the generated one; HEAD works', async () => {
    const root = mkdtempSync(path.join(dir, 'root-'));
    const store = await openStore(`sqlite:${path.join(dir, `e${++n}.db`)}`, { logger: silentLogger() });
    await store.migrate();
    // A profile, so that the engine has a menu to generate for unknown machines.
    await store.profiles.create({ name: 'debian', spec: DEBIAN });
    const directory = new HostDirectory({ store, logger: silentLogger() });
    await directory.refresh();
    let clock = 0;
    const engine = new BootEngine({ directory, events: new EventBus(), logger: silentLogger(), bootRoot: root, now: () => clock });
    const registry = new GeneratedFiles();
    engine.attach(registry);
    const app = createHttpApp({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root, registry }), routes: (a) => registerBootRoutes(a, engine) });
    try {
      // Generated while the root has none of them.
      assert.match((await app.inject({ method: 'GET', url: `/boot.ipxe?mac=${MAC}` })).body, /^menu /m);
      const head = await app.inject({ method: 'HEAD', url: `/boot.ipxe?mac=${MAC}` });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      assert.match(registry.get('grub/grub.cfg')?.data.toString() ?? '', /net_default_mac/);
      // The operator's files.
      writeFileSync(path.join(root, 'boot.ipxe'), '#!ipxe\necho static\n');
      mkdirSync(path.join(root, 'pxelinux.cfg'));
      writeFileSync(path.join(root, 'pxelinux.cfg', '01-52-54-00-12-34-56'), 'DEFAULT static\n');
      mkdirSync(path.join(root, 'grub'));
      writeFileSync(path.join(root, 'grub', 'grub.cfg'), 'set timeout=0\n');
      // boot.ipxe: the last look at the boot root is reused for a second (diskCheckMs), then the file wins.
      assert.match((await app.inject({ method: 'GET', url: `/boot.ipxe?mac=${MAC}` })).body, /^menu /m);
      clock += 1000;
      assert.equal((await app.inject({ method: 'GET', url: `/boot.ipxe?mac=${MAC}` })).body, '#!ipxe\necho static\n');
      assert.equal((await new FileResolver({ root, registry }).open('pxelinux.cfg/01-52-54-00-12-34-56')).generated, false);
      assert.equal((await new FileResolver({ root, registry }).open('/grub/grub.cfg')).generated, false);
      // Other names still come from the engine.
      assert.match(registry.get('pxelinux.cfg/01-52-54-00-12-34-57')?.data.toString() ?? '', /^UI menu\.c32$/m);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
