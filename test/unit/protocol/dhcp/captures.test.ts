// Packets captured from real clients (test/fixtures/dhcp/README.md) decode to what the client sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDhcp } from '../../../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../../../src/protocol/dhcp/packet.ts';
import {
  ARCH, IPXE_SUB, MSG, OPT, clientArch, clientId, clientNdi, clientUuid, clientUuidWire, hostName, ipOption,
  ipxeOptions, macString, maxMessageSize, messageType, requestedOptions, userClasses, vendorClass,
} from '../../../../src/protocol/dhcp/options.ts';
import { fixture, fixtureNames } from './raw.ts';

function decode(name: string): DhcpPacket {
  const r = decodeDhcp(fixture(name));
  if (!r.ok) assert.fail(`${name}: ${r.error.code} ${r.error.message}`);
  return r.packet;
}

const QEMU_UUID = '11223344-5566-7788-99aa-bbccddeeff00';

describe('captured packets', () => {
  it('every fixture decodes, with no duplicate options and a known message type', () => {
    const names = fixtureNames();
    assert.ok(names.length >= 10, `expected the capture fixtures, found ${names.length}`);
    for (const n of names) {
      const p = decode(n);
      assert.equal(p.op, 1, n);
      assert.deepEqual(p.duplicateOptions, [], n);
      assert.equal(messageType(p), n.includes('request') ? MSG.REQUEST : MSG.DISCOVER, n);
    }
  });

  it('iPXE BIOS ROM DISCOVER: MAC, arch 0, vendor class, user class iPXE, UUID, option 175', () => {
    const p = decode('ipxe-bios-1-discover.hex');
    assert.equal(macString(p), '52:54:00:be:e0:01');
    assert.equal(p.htype, 1);
    assert.equal(p.hlen, 6);
    assert.equal(p.flags & 0x8000, 0);
    assert.deepEqual(clientArch(p.options.get(OPT.CLIENT_ARCH)), [ARCH.X86_BIOS]);
    assert.equal(vendorClass(p.options.get(OPT.VENDOR_CLASS)), 'PXEClient:Arch:00000:UNDI:002001');
    assert.deepEqual(userClasses(p.options.get(OPT.USER_CLASS)), ['iPXE']);
    assert.deepEqual(clientNdi(p.options.get(OPT.CLIENT_NDI)), { type: 1, major: 2, minor: 1 });
    assert.equal(clientUuid(p.options.get(OPT.CLIENT_UUID)), QEMU_UUID);
    assert.equal(clientUuidWire(p.options.get(OPT.CLIENT_UUID)), '44332211-6655-8877-99aa-bbccddeeff00');
    assert.equal(clientId(p.options.get(OPT.CLIENT_ID)), '01525400bee001');
    assert.equal(maxMessageSize(p.options.get(OPT.MAX_MESSAGE_SIZE)), 1472);
    const wanted = requestedOptions(p.options.get(OPT.PARAMETER_REQUEST_LIST)) ?? [];
    for (const code of [1, 3, 6, 43, 60, 66, 67, 175]) assert.ok(wanted.includes(code), `requests option ${code}`);
    const ipxe = ipxeOptions(p.options.get(OPT.IPXE_ENCAP));
    assert.ok(ipxe, 'option 175 parses');
    assert.deepEqual(ipxe.get(IPXE_SUB.FEATURE_HTTP), Uint8Array.of(1));
    assert.deepEqual(ipxe.get(IPXE_SUB.BUS_ID), Uint8Array.of(1, 0x80, 0x86, 0x10, 0x0e)); // PCI 8086:100e, the e1000
  });

  it('iPXE REQUEST names the server and the offered address', () => {
    const p = decode('ipxe-bios-3-request.hex');
    assert.equal(ipOption(p.options.get(OPT.SERVER_ID)), '198.18.77.1');
    assert.equal(ipOption(p.options.get(OPT.REQUESTED_IP)), '198.18.77.150');
    assert.equal(p.ciaddr, '0.0.0.0');
    assert.equal(p.xid, decode('ipxe-bios-1-discover.hex').xid);
  });

  it('EDK2 PXE DISCOVER: arch 7, broadcast flag, UNDI 3.0, UUID', () => {
    const p = decode('edk2-1-discover.hex');
    assert.equal(macString(p), '52:54:00:be:e0:02');
    assert.equal(p.flags & 0x8000, 0x8000);
    assert.deepEqual(clientArch(p.options.get(OPT.CLIENT_ARCH)), [ARCH.EFI_X64]);
    assert.equal(vendorClass(p.options.get(OPT.VENDOR_CLASS)), 'PXEClient:Arch:00007:UNDI:003000');
    assert.deepEqual(clientNdi(p.options.get(OPT.CLIENT_NDI)), { type: 1, major: 3, minor: 0 });
    assert.equal(clientUuid(p.options.get(OPT.CLIENT_UUID)), QEMU_UUID);
    assert.equal(p.options.has(OPT.USER_CLASS), false);
    assert.ok(requestedOptions(p.options.get(OPT.PARAMETER_REQUEST_LIST))?.includes(OPT.BOOTFILE_NAME));
  });

  it('EDK2 REQUEST asks for 65280-octet messages; the helper caps that at the Ethernet limit', () => {
    const p = decode('edk2-2-request.hex');
    assert.equal(ipOption(p.options.get(OPT.SERVER_ID)), '198.18.77.1');
    assert.equal(ipOption(p.options.get(OPT.REQUESTED_IP)), '198.18.77.100');
    assert.equal(maxMessageSize(p.options.get(OPT.MAX_MESSAGE_SIZE)), 1472);
    assert.equal(maxMessageSize(p.options.get(OPT.MAX_MESSAGE_SIZE), 65535), 65280);
  });

  it('EDK2 UEFI HTTP Boot DISCOVER: arch 16 and vendor class HTTPClient', () => {
    const p = decode('edk2-3-discover.hex');
    assert.deepEqual(clientArch(p.options.get(OPT.CLIENT_ARCH)), [ARCH.EFI_X64_HTTP]);
    assert.equal(vendorClass(p.options.get(OPT.VENDOR_CLASS)), 'HTTPClient:Arch:00016:UNDI:003000');
    assert.equal(clientUuid(p.options.get(OPT.CLIENT_UUID)), QEMU_UUID);
  });

  it('dhclient DISCOVER and REQUEST: MAC, host name, requested options, no PXE options', () => {
    const d = decode('dhclient-1-discover.hex');
    assert.equal(macString(d), '02:00:5e:10:00:01');
    assert.equal(hostName(d.options.get(OPT.HOST_NAME)), 'fixture-host');
    assert.deepEqual(requestedOptions(d.options.get(OPT.PARAMETER_REQUEST_LIST)), [1, 28, 2, 3, 15, 6, 12]);
    for (const code of [OPT.VENDOR_CLASS, OPT.CLIENT_ARCH, OPT.CLIENT_UUID, OPT.USER_CLASS]) assert.equal(d.options.has(code), false);
    const r = decode('dhclient-2-request.hex');
    assert.equal(ipOption(r.options.get(OPT.REQUESTED_IP)), '198.18.77.122');
    assert.equal(ipOption(r.options.get(OPT.SERVER_ID)), '198.18.77.1');
  });

  it('udhcpc DISCOVER and REQUEST: vendor class, client id, option 57', () => {
    const d = decode('udhcpc-1-discover.hex');
    assert.equal(macString(d), '02:00:5e:10:00:01');
    assert.equal(vendorClass(d.options.get(OPT.VENDOR_CLASS)), 'udhcp 1.35.0');
    assert.equal(clientId(d.options.get(OPT.CLIENT_ID)), '0102005e100001');
    assert.equal(hostName(d.options.get(OPT.HOST_NAME)), 'fixture-host');
    assert.equal(maxMessageSize(d.options.get(OPT.MAX_MESSAGE_SIZE)), 576);
    const r = decode('udhcpc-3-request.hex');
    assert.equal(ipOption(r.options.get(OPT.REQUESTED_IP)), '198.18.77.122');
  });
});
