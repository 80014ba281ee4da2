// The port-67 ProxyDHCP offer per client kind (FIELD-NOTES.md): a client already running iPXE gets
// its boot file (the HTTP script URL) in the offer itself, with 43.6 bit 3 ("boot the file in this
// offer, no menu") because iPXE EFI cannot complete the PXE menu and never asks port 4011; PXE
// firmware keeps the option-43 discovery (6 = 3) that sends it to 4011.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPT, PXE_SUB, pxeVendorOptions, stringOption } from '../../../src/protocol/dhcp/options.ts';
import type { DhcpPacket } from '../../../src/protocol/dhcp/packet.ts';
import { SERVER, clients, config, harness, meta4011, request } from './helpers.ts';

const MAC = '52:54:00:bb:07:04';
const SCRIPT = 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}';
const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/dhcp/${name}`, import.meta.url), 'utf8').replace(/\s/g, ''), 'hex');

function assertAddressless(p: DhcpPacket, what: string): void {
  assert.equal(p.yiaddr, '0.0.0.0', `${what}: no address in proxy mode`);
  for (const c of [OPT.LEASE_TIME, OPT.SUBNET_MASK, OPT.ROUTER, OPT.DNS_SERVERS]) assert.equal(p.options.has(c), false, `${what}: no lease option ${c}`);
  assert.equal(stringOption(p.options.get(OPT.VENDOR_CLASS)), 'PXEClient', `${what}: 60 PXEClient`);
  assert.equal(p.options.get(OPT.CLIENT_UUID)?.length, 17, `${what}: 97 echoed`);
}

test('proxy mode: iPXE EFI (user class iPXE, arch 7) gets the script URL in the port-67 offer itself', async () => {
  const h = await harness(config({ mode: 'proxy' }));
  const offer = await h.one(request({ type: 1, mac: MAC, options: clients.ipxeEfi() }));
  assert.equal(offer.type, 2);
  assertAddressless(offer.p, 'iPXE EFI');
  assert.equal(offer.p.file, SCRIPT);
  assert.equal(stringOption(offer.p.options.get(OPT.BOOTFILE_NAME)), SCRIPT);
  assert.equal(offer.p.siaddr, SERVER);
  // iPXE shows its PXE menu (and then needs 4011) unless 43.6 has bit 3 and a file is present.
  const pxe = pxeVendorOptions(offer.p.options.get(OPT.VENDOR_SPECIFIC))!;
  assert.equal(pxe.get(PXE_SUB.DISCOVERY_CONTROL)![0]! & 0b1000, 0b1000, '43.6 bit 3: boot the file of this offer');
  assert.equal(h.events.at(-1)!.kind, 'proxy-offer');
  assert.equal(h.events.at(-1)!.detail.bootfile, SCRIPT);
  assert.equal(h.store.writes, 0);
});

test('proxy mode: EDK2 PXE firmware keeps the 43-only offer (no file) and gets its loader from 4011', async () => {
  const h = await harness(config({ mode: 'proxy' }));
  const offer = await h.one(request({ type: 1, mac: MAC, flags: 0x8000, options: clients.edk2Pxe() }));
  assertAddressless(offer.p, 'EDK2');
  assert.equal(offer.p.file, '');
  assert.equal(offer.p.options.has(OPT.BOOTFILE_NAME), false);
  const pxe = pxeVendorOptions(offer.p.options.get(OPT.VENDOR_SPECIFIC))!;
  assert.deepEqual([...pxe.get(PXE_SUB.DISCOVERY_CONTROL)!], [3], 'discovery to our boot server; bit 3 unset: there is no file to boot');
  assert.ok(pxe.has(PXE_SUB.BOOT_SERVERS));
  const ack = await h.one(request({ type: 3, mac: MAC, ciaddr: '198.18.0.100', options: clients.edk2Pxe() }), meta4011('198.18.0.100', 4011));
  assert.equal(ack.p.file, 'snponly.efi');
});

test('proxy mode: the captured BIOS iPXE ROM DISCOVER gets the script URL in the offer; a 4011 request gets the same', async () => {
  const h = await harness(config({ mode: 'proxy' }));
  const offer = await h.one(fixture('ipxe-bios-1-discover.hex'));
  assertAddressless(offer.p, 'BIOS iPXE');
  assert.equal(offer.p.file, SCRIPT);
  const pxe = pxeVendorOptions(offer.p.options.get(OPT.VENDOR_SPECIFIC))!;
  assert.deepEqual([...pxe.get(PXE_SUB.DISCOVERY_CONTROL)!], [0b1011]);
  assert.ok(pxe.has(PXE_SUB.BOOT_SERVERS), 'the boot server stays announced');
  // ... and an iPXE that asks 4011 anyway gets the same URL.
  const ack = await h.one(request({ type: 3, mac: '52:54:00:be:e0:01', ciaddr: '198.18.0.100', options: clients.ipxeBios() }), meta4011('198.18.0.100', 68));
  assert.equal(ack.p.file, SCRIPT);
});

test('proxy mode: the iPXE offer follows the boot decision (registration script, pxelinux chain), never an iPXE binary', async () => {
  const reg = await harness(config({ mode: 'proxy', unknown_clients: 'register' }));
  const r = await reg.one(request({ type: 1, mac: MAC, options: clients.ipxeEfi() }));
  assert.match(r.p.file, /^http:\/\/198\.18\.0\.1:8080\/register\.ipxe\?/);
  // bios_loader pxelinux: an iPXE ROM gets pxelinux.0 over TFTP (pxelinux does no DHCP of its own).
  const classic = await harness(config({ mode: 'proxy' }), { boot: { bios_loader: 'pxelinux' } });
  const c = await classic.one(request({ type: 1, mac: MAC, options: clients.ipxeBios() }));
  assert.equal(c.p.file, 'pxelinux.0');
  assert.equal(c.p.siaddr, SERVER);
  for (const [name, opts] of [['ipxeBios', clients.ipxeBios()], ['ipxeEfi', clients.ipxeEfi()]] as const) {
    const h = await harness(config({ mode: 'proxy', boot: { bootfiles: { bios: 'undionly.kpxe', 'uefi-x64': 'ipxe.efi' } } }));
    const o = await h.one(request({ type: 1, mac: MAC, options: opts }));
    assert.doesNotMatch(o.p.file, /\.(kpxe|efi)$/, name);
    assert.equal(o.p.file, SCRIPT, name);
  }
});

test('proxy mode: a non-PXE client still gets nothing, even with user class iPXE', async () => {
  const h = await harness(config({ mode: 'proxy' }));
  const noVendorClass = clients.ipxeEfi().filter(([c]) => c !== OPT.VENDOR_CLASS);
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, options: noVendorClass })), []);
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, options: clients.linux() })), []);
});
