// Proxy mode, the 4011 boot server, boot information in full-mode replies, and access control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OPT, PXE_SUB, encodePxeBootItem, encodePxeVendorOptions, ipOption, pxeVendorOptions, stringOption, pxeBootItem } from '../../../src/protocol/dhcp/options.ts';
import { SERVER, clients, config, dora, fullConfig, harness, meta4011, meta67, opt, request } from './helpers.ts';
import { planDhcp } from '../../../src/boot/dhcp-plan.ts';
import type { BootPlanner, DhcpHost } from '../../../src/boot/dhcp-plan.ts';

/** A planner over a fixed inventory: the real DHCP stage of the plan, with these hosts by MAC. */
function inventoryOf(hosts: Record<string, DhcpHost>): BootPlanner {
  return { planDhcp: (req, settings) => planDhcp(req, hosts[req.mac], settings) };
}

const MAC = '52:54:00:bb:00:01';
const proxyConfig = (extra: Record<string, unknown> = {}) => config({ mode: 'proxy', boot: { tftp_server: '198.18.0.2' }, ...extra });

test('proxy mode: EDK2 PXE gets an address-less offer with 60, 97, 43 and siaddr, then the file from 4011', async () => {
  const h = await harness(proxyConfig());
  const offer = await h.one(request({ type: 1, mac: MAC, flags: 0x8000, options: clients.edk2Pxe() }));
  assert.equal(offer.type, 2);
  assert.equal(offer.p.yiaddr, '0.0.0.0');
  assert.equal(offer.p.siaddr, '198.18.0.2');
  assert.equal(stringOption(offer.p.options.get(OPT.VENDOR_CLASS)), 'PXEClient');
  assert.equal(ipOption(offer.p.options.get(OPT.SERVER_ID)), SERVER);
  assert.equal(offer.p.options.get(OPT.CLIENT_UUID)?.length, 17, 'option 97 echoed');
  for (const c of [OPT.LEASE_TIME, OPT.SUBNET_MASK, OPT.ROUTER]) assert.equal(offer.p.options.has(c), false, `no lease option ${c}`);
  const pxe = pxeVendorOptions(offer.p.options.get(OPT.VENDOR_SPECIFIC))!;
  assert.deepEqual([...pxe.get(PXE_SUB.DISCOVERY_CONTROL)!], [3]);
  assert.ok(pxe.has(PXE_SUB.BOOT_SERVERS) && pxe.has(PXE_SUB.BOOT_MENU) && pxe.has(PXE_SUB.MENU_PROMPT));
  assert.equal(offer.reply.broadcast, true);

  // EDK2 then asks the boot server from port 4011 to port 4011.
  const item = encodePxeVendorOptions(new Map([[PXE_SUB.BOOT_ITEM, encodePxeBootItem({ type: 0x8000, layer: 0 })]]));
  const ack = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: [...clients.edk2Pxe(), [OPT.VENDOR_SPECIFIC, item]] }), meta4011('198.18.0.100', 4011));
  assert.equal(ack.type, 5);
  assert.deepEqual(ack.reply.to, { address: '198.18.0.100', port: 4011 });
  assert.equal(ack.reply.broadcast, false);
  assert.equal(ack.p.file, 'snponly.efi');
  assert.equal(ack.p.sname, '198.18.0.2');
  assert.equal(ack.p.siaddr, '198.18.0.2');
  assert.equal(ack.p.yiaddr, '0.0.0.0');
  assert.deepEqual(pxeBootItem(pxeVendorOptions(ack.p.options.get(OPT.VENDOR_SPECIFIC))?.get(PXE_SUB.BOOT_ITEM)), { type: 0x8000, layer: 0 });
  assert.deepEqual(h.events.map((e) => [e.stage, e.kind]), [['proxydhcp', 'proxy-offer'], ['proxydhcp', 'proxy-ack']]);
  assert.equal(h.events[1]!.detail.bootfile, 'snponly.efi');
  assert.equal(h.store.writes, 0, 'proxy mode never writes a lease');
});

test('proxy mode: iPXE asking on 4011 from port 68 gets the script URL back on port 68', async () => {
  const h = await harness(proxyConfig());
  const ack = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: clients.ipxeBios() }), meta4011('198.18.0.100', 68));
  assert.deepEqual(ack.reply.to, { address: '198.18.0.100', port: 68 });
  assert.equal(ack.p.file, 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}');
});

test('proxy mode: UEFI HTTP Boot gets option 60 HTTPClient and the URL in the port-67 offer itself', async () => {
  const h = await harness(proxyConfig());
  const offer = await h.one(request({ type: 1, mac: MAC, options: clients.edk2Http() }));
  assert.equal(stringOption(offer.p.options.get(OPT.VENDOR_CLASS)), 'HTTPClient');
  assert.equal(offer.p.file, 'http://198.18.0.1:8080/ipxe.efi');
  assert.equal(stringOption(offer.p.options.get(OPT.BOOTFILE_NAME)), 'http://198.18.0.1:8080/ipxe.efi');
  assert.equal(offer.p.yiaddr, '0.0.0.0');
});

test('proxy mode never answers a non-PXE client, and never the REQUEST to the real DHCP server', async () => {
  const h = await harness(proxyConfig());
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, options: clients.linux() })), []);
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: [...clients.edk2Pxe(), opt.serverId('198.18.0.254'), opt.requestedIp('198.18.0.100')] })), []);
  assert.equal(h.server.counters()['ignored.not_pxe_client'], 1);
  assert.equal(h.server.counters()['ignored.other_server'], 1);
});

test('4011: requests without PXEClient (P02), from outside the PXE subnets, or from a forbidden source are dropped', async () => {
  const h = await harness(proxyConfig({ subnets: [{ subnet: '198.18.0.0/24' }] }));
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: clients.linux() }), meta4011()), []);
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: clients.edk2Http() }), meta4011()), []);
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: clients.edk2Pxe() }), meta4011('198.19.7.7')), []);
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: clients.edk2Pxe() }), meta4011('127.0.0.1')), []);
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }), meta4011()), []);
  const c = h.server.counters();
  assert.equal(c['dropped.not_pxe_client'], 2);
  assert.equal(c['dropped.source_outside_subnets'], 1);
  assert.equal(c['dropped.bad_source'], 1);
  assert.equal(c['dropped.unexpected_message_type'], 1);
  assert.equal((await h.one(request({ type: 3, mac: MAC, options: clients.edk2Pxe() }), meta4011())).type, 5);
  // A proxy interface with no subnet of its own (another server's addresses) still serves 4011.
  const other = await harness(proxyConfig({ subnets: [{ subnet: '198.18.0.0/24', interface: 'lan-full' }] }));
  const m = { ...meta4011('198.19.7.7'), interface: 'lan-proxy', localAddress: '198.19.7.1' };
  assert.equal((await other.one(request({ type: 3, mac: MAC, options: clients.edk2Pxe() }), m)).type, 5);
});

test('mode per interface and per subnet: proxy by default, full where configured', async () => {
  const cfg = config({
    interfaces: [{ name: 'lab0', mode: 'full' }],
    subnets: [{ subnet: '198.18.0.0/24', interface: 'lab0', pools: [{ start: '198.18.0.100', end: '198.18.0.110' }] }, { subnet: '198.18.9.0/24', mode: 'full', pools: [{ start: '198.18.9.100', end: '198.18.9.110' }] }],
  });
  const h = await harness(cfg);
  const full = await h.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }), { ...meta67, interface: 'lab0' });
  assert.match(full.p.yiaddr, /^198\.18\.0\.1/);
  const proxy = await h.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }), { ...meta67, interface: 'other', localAddress: '198.19.0.1' });
  assert.equal(proxy.p.yiaddr, '0.0.0.0');
  const bySubnet = await h.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }), { ...meta67, interface: 'eth9', localAddress: '198.18.9.1' });
  assert.match(bySubnet.p.yiaddr, /^198\.18\.9\.1/);
});

test('full mode: boot clients get siaddr, file and 67 in OFFER and ACK; HTTP Boot gets 60 HTTPClient', async () => {
  const h = await harness(fullConfig({ boot: { tftp_server: '198.18.0.2' } }));
  const offer = await h.one(request({ type: 1, mac: MAC, options: clients.ipxeBios() }));
  assert.equal(offer.p.siaddr, '198.18.0.2');
  assert.match(offer.p.file, /^http:\/\/198\.18\.0\.1:8080\/boot\.ipxe/);
  assert.equal(stringOption(offer.p.options.get(OPT.BOOTFILE_NAME)), offer.p.file);
  const bios = await h.one(request({ type: 1, mac: '52:54:00:bb:00:02', options: [opt.vendorClass('PXEClient:Arch:00000:UNDI:002001'), opt.arch(0), opt.prl(1, 3, 66, 67)] }));
  assert.equal(bios.p.file, 'undionly.kpxe');
  assert.equal(stringOption(bios.p.options.get(OPT.TFTP_SERVER_NAME)), '198.18.0.2', 'option 66 when requested');
  const http = await h.one(request({ type: 1, mac: '52:54:00:bb:00:03', options: clients.edk2Http() }));
  assert.equal(stringOption(http.p.options.get(OPT.VENDOR_CLASS)), 'HTTPClient');
  assert.equal(http.p.file, 'http://198.18.0.1:8080/ipxe.efi');
  await dora(h, '52:54:00:bb:00:04', clients.edk2Pxe());
  const ack = h.events.at(-1)!;
  assert.equal(ack.kind, 'ack');
  assert.equal(ack.detail.bootfile, 'snponly.efi');
  assert.match(String(ack.detail.bootWhy), /default ipxe loader for arch 7/);
});

test('host overrides from the inventory: the host\'s boot file, its group\'s per arch, the profile\'s first loader, and their DHCP options', async () => {
  const workers = { name: 'workers', bootfiles: { 'uefi-x64': 'grubx64.efi' }, dhcp: { ntp_servers: ['198.18.0.123'], options: [{ code: 150, type: 'ip' as const, value: '198.18.0.9' }] } };
  const h = await harness(fullConfig(), {
    planner: inventoryOf({
      '52:54:00:bb:00:10': { id: 'h10', state: 'active', hostname: null, group: workers, firstLoader: undefined },
      // The host's own options win over its group's (option 150), the group's still apply (NTP).
      '52:54:00:bb:00:11': { id: 'h11', state: 'active', hostname: 'n11', group: workers, firstLoader: undefined, bootfile: 'shimx64.efi', dhcp: { options: [{ code: 150, type: 'ip', value: '198.18.0.10' }] } },
      '52:54:00:bb:00:12': { id: 'h12', state: 'active', hostname: 'inv12', group: undefined, firstLoader: 'custom.efi', bootfile: 'shimx64.efi' },
    }),
  });
  const g = await h.one(request({ type: 1, mac: '52:54:00:bb:00:10', options: clients.edk2Pxe() }));
  assert.equal(g.p.file, 'grubx64.efi');
  assert.equal(ipOption(g.p.options.get(OPT.NTP_SERVERS)), '198.18.0.123');
  assert.equal(ipOption(g.p.options.get(150)), '198.18.0.9');
  const own = await h.one(request({ type: 1, mac: '52:54:00:bb:00:11', options: clients.edk2Pxe() }));
  assert.equal(own.p.file, 'shimx64.efi');
  assert.equal(ipOption(own.p.options.get(150)), '198.18.0.10');
  assert.equal(ipOption(own.p.options.get(OPT.NTP_SERVERS)), '198.18.0.123');
  assert.match(String(h.events.find((e) => e.host === '52:54:00:bb:00:11' && e.kind === 'offer')?.detail['bootWhy']), /^boot file from host n11$/);
  const inv = await h.one(request({ type: 1, mac: '52:54:00:bb:00:12', options: clients.edk2Pxe() }));
  assert.equal(inv.p.file, 'custom.efi');
  assert.equal(stringOption(inv.p.options.get(OPT.HOST_NAME)), 'inv12');
});

test('a DHCP server without an inventory answers the config\'s (deprecated) reservations and groups as its hosts', async () => {
  const cfg = fullConfig({
    boot: { groups: { workers: { bootfiles: { 'uefi-x64': 'grubx64.efi' }, ntp_servers: ['198.18.0.123'] } } },
    subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.110' }], reservations: [{ mac: '52:54:00:bb:00:10', ip: '198.18.0.10', group: 'workers' }, { mac: '52:54:00:bb:00:11', ip: '198.18.0.11', bootfile: 'shimx64.efi' }] }],
  });
  const h = await harness(cfg);
  const g = await h.one(request({ type: 1, mac: '52:54:00:bb:00:10', options: clients.edk2Pxe() }));
  assert.equal(g.p.file, 'grubx64.efi');
  assert.equal(ipOption(g.p.options.get(OPT.NTP_SERVERS)), '198.18.0.123');
  assert.equal((await h.one(request({ type: 1, mac: '52:54:00:bb:00:11', options: clients.edk2Pxe() }))).p.file, 'shimx64.efi');
});

test('an inventory option the server cannot encode is skipped and logged, never a crash; the others are sent', async () => {
  const broken = { options: [{ code: 150, type: 'ip' as const, value: 'not-an-ip' }, { code: 53, type: 'u8' as const, value: 9 }, null, { code: 66, type: 'string' as const, value: 'tftp.lab' }], routers: ['x'] } as never;
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>); cb(); } });
  const h = await harness(fullConfig(), { logger: pino({ level: 'warn' }, sink), planner: inventoryOf({ [MAC]: { id: 'h1', state: 'active', hostname: null, group: undefined, firstLoader: undefined, dhcp: broken } }) });
  for (let i = 0; i < 3; i++) {
    const r = await h.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }));
    assert.equal(stringOption(r.p.options.get(66)), 'tftp.lab');
    assert.equal(r.p.options.get(150), undefined);
    assert.equal(ipOption(r.p.options.get(OPT.ROUTER)), '198.18.0.1', 'a bad host router leaves the subnet\'s');
    assert.equal(r.p.options.get(OPT.MESSAGE_TYPE)?.[0], 2, 'option 53 stays the server\'s: OFFER');
  }
  const warned = logs.filter((l) => l['code'] === 'BH_DHCP_HOST_OPTION').map((l) => String(l['option']));
  assert.deepEqual(warned.sort(), ['150', '3', '53', 'null'], 'each bad option once: encoded once per record');
});

test('a host the inventory marks to ignore (disabled) gets no answer, and is logged and counted', async () => {
  const h = await harness(fullConfig(), { planner: inventoryOf({ '52:54:00:bb:00:13': { id: 'h13', state: 'disabled', hostname: null, group: undefined, firstLoader: undefined } }) });
  assert.deepEqual(await h.send(request({ type: 1, mac: '52:54:00:bb:00:13', options: clients.ipxeBios() })), []);
  assert.equal(h.server.counters()['ignored.host_disabled'], 1);
  assert.deepEqual(h.events.map((e) => [e.kind, e.detail.reason]), [['ignored', 'host_disabled']]);
  assert.equal((await h.one(request({ type: 1, mac: '52:54:00:bb:00:14', options: clients.ipxeBios() }))).type, 2, 'other hosts are still answered');
});

test('access control: deny by MAC and OUI, allow lists, unknown-client policy ignore and register', async () => {
  const h = await harness(fullConfig({ access: { deny_macs: ['52:54:00:bb:00:66'], deny_ouis: ['de:ad:be'] } }));
  assert.deepEqual(await h.send(request({ type: 1, mac: '52:54:00:bb:00:66' })), []);
  assert.deepEqual(await h.send(request({ type: 1, mac: 'de:ad:be:00:00:01' })), []);
  assert.equal(h.server.counters()['ignored.denied_mac'], 1);
  assert.equal(h.server.counters()['ignored.denied_oui'], 1);
  assert.deepEqual(h.events.map((e) => [e.kind, e.detail.reason]), [['ignored', 'denied_mac'], ['ignored', 'denied_oui']]);

  const allow = await harness(fullConfig({ access: { allow_ouis: ['52:54:00'] } }));
  assert.deepEqual(await allow.send(request({ type: 1, mac: '02:00:00:00:00:01' })), []);
  assert.equal(allow.server.counters()['ignored.not_allowed'], 1);
  assert.equal((await allow.one(request({ type: 1, mac: '52:54:00:00:00:01' }))).type, 2);

  const ignoring = await harness(fullConfig({ unknown_clients: 'ignore', subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.110' }], reservations: [{ mac: '52:54:00:bb:00:10', ip: '198.18.0.10' }] }] }));
  assert.deepEqual(await ignoring.send(request({ type: 1, mac: MAC })), []);
  assert.equal(ignoring.server.counters()['ignored.unknown_client'], 1);
  assert.equal((await ignoring.one(request({ type: 1, mac: '52:54:00:bb:00:10' }))).p.yiaddr, '198.18.0.10');

  const reg = await harness(fullConfig({ subnets: [{ subnet: '198.18.0.0/24', unknown_clients: 'register', pools: [{ start: '198.18.0.100', end: '198.18.0.110' }] }] }));
  const r = await reg.one(request({ type: 1, mac: MAC, options: clients.ipxeEfi() }));
  assert.match(r.p.file, /^http:\/\/198\.18\.0\.1:8080\/register\.ipxe/);
  assert.equal(reg.events.at(-1)!.detail.registration, true);
});

test('the boot section: unknown_hosts supplies the unknown-client default, loader chains pick the firmware file', async () => {
  const h = await harness(fullConfig(), { boot: { unknown_hosts: 'ignore', uefi_loader: 'grub' } });
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, options: clients.edk2Pxe() })), []);
  assert.equal(h.server.counters()['ignored.unknown_client'], 1);
  const explicit = await harness(fullConfig({ unknown_clients: 'answer' }), { boot: { unknown_hosts: 'ignore', uefi_loader: 'grub' } });
  assert.equal((await explicit.one(request({ type: 1, mac: MAC, options: clients.edk2Pxe() }))).p.file, 'grubx64.efi');
});
