// Packets captured from real clients (test/fixtures/dhcp) fed to the server: each gets the answer
// that client needs (FIELD-NOTES.md), in full and in proxy mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPT, PXE_SUB, ipOption, pxeVendorOptions, stringOption } from '../../../src/protocol/dhcp/options.ts';
import { config, fullConfig, harness, meta67 } from './helpers.ts';

const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/dhcp/${name}`, import.meta.url), 'utf8').replace(/\s/g, ''), 'hex');

test('full mode: each captured DISCOVER gets a lease offer with the right boot file', async () => {
  const h = await harness(fullConfig());
  const cases: [string, string, string | undefined][] = [
    ['ipxe-bios-1-discover.hex', '52:54:00:be:e0:01', 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}'],
    ['edk2-1-discover.hex', '52:54:00:be:e0:02', 'snponly.efi'],
    ['dhclient-1-discover.hex', '02:00:5e:10:00:01', undefined],
  ];
  for (const [file, mac, boot] of cases) {
    const r = await h.one(fixture(file));
    assert.equal(r.type, 2, file);
    assert.match(r.p.yiaddr, /^198\.18\.0\.1\d\d$/, file);
    assert.equal(r.reply.broadcast, true, `${file}: an address-less client is answered by broadcast`);
    assert.equal(ipOption(r.p.options.get(OPT.SUBNET_MASK)), '255.255.255.0');
    if (boot === undefined) {
      assert.equal(r.p.file, '', file);
      assert.equal(r.p.options.has(OPT.BOOTFILE_NAME), false, file);
    } else {
      assert.equal(r.p.file, boot, file);
      assert.equal(stringOption(r.p.options.get(OPT.BOOTFILE_NAME)), boot, file);
      assert.equal(r.p.siaddr, '198.18.0.1', `${file}: siaddr = TFTP server`);
    }
    assert.equal(h.events.at(-1)!.host, mac);
  }
  // EDK2's HTTP Boot DISCOVER (arch 16) gets HTTPClient and a URL.
  const http = await h.one(fixture('edk2-3-discover.hex'));
  assert.equal(stringOption(http.p.options.get(OPT.VENDOR_CLASS)), 'HTTPClient');
  assert.equal(http.p.file, 'http://198.18.0.1:8080/ipxe.efi');
  // udhcpc: plain DHCP.
  assert.equal((await h.one(fixture('udhcpc-1-discover.hex'))).p.file, '');
});

test('proxy mode: captured PXE DISCOVERs get proxy offers, plain DHCP clients nothing', async () => {
  const h = await harness(config({ mode: 'proxy' }));
  for (const f of ['ipxe-bios-1-discover.hex', 'edk2-1-discover.hex']) {
    const r = await h.one(fixture(f));
    assert.equal(r.p.yiaddr, '0.0.0.0', f);
    assert.equal(stringOption(r.p.options.get(OPT.VENDOR_CLASS)), 'PXEClient', f);
    assert.ok(pxeVendorOptions(r.p.options.get(OPT.VENDOR_SPECIFIC))?.has(PXE_SUB.BOOT_SERVERS), f);
    assert.equal(r.p.options.get(OPT.CLIENT_UUID)?.length, 17, `${f}: 97 echoed`);
  }
  assert.deepEqual(await h.send(fixture('dhclient-1-discover.hex'), meta67), []);
  assert.deepEqual(await h.send(fixture('udhcpc-1-discover.hex'), meta67), []);
  const http = await h.one(fixture('edk2-3-discover.hex'));
  assert.equal(stringOption(http.p.options.get(OPT.VENDOR_CLASS)), 'HTTPClient');
  assert.equal(http.p.file, 'http://198.18.0.1:8080/ipxe.efi');
});

test('captured REQUESTs chose dnsmasq (their server id): bootherd stays silent (D31)', async () => {
  const h = await harness(fullConfig());
  // The captured REQUESTs name dnsmasq's server id and address: another server, so no reply (D31).
  for (const f of ['dhclient-2-request.hex', 'udhcpc-3-request.hex', 'edk2-2-request.hex', 'ipxe-bios-3-request.hex']) {
    assert.deepEqual(await h.send(fixture(f)), [], f);
  }
  assert.equal(h.server.counters()['ignored.other_server'], 4);
});
