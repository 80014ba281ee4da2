// Option helpers: readers return undefined for malformed values, builders give the wire format.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PXE_SUB, RELAY_SUB, requestedOptions, clientArch, clientUuid, encodeClientUuid, encodeIp, encodeIpList, encodePxeBootItem,
  encodePxeBootMenu, encodePxeBootServers, encodePxeMenuPrompt, encodePxeVendorOptions, encodeU16, encodeU32,
  ipListOption, isIpv4, pxeBootItem, pxeBootMenu, pxeVendorOptions, relayAgentInfo, stringOption, userClasses,
  vendorClass,
} from '../../../../src/protocol/dhcp/options.ts';

const b = (...n: number[]): Uint8Array => Uint8Array.from(n);
const s = (t: string): Uint8Array => Uint8Array.from(Buffer.from(t, 'latin1'));

describe('option helpers', () => {
  it('user class: RFC 3004 items and iPXE plain string', () => {
    assert.deepEqual(userClasses(b(1, 65, 2, 66, 67)), ['A', 'BC']);
    assert.deepEqual(userClasses(s('iPXE')), ['iPXE']);
    assert.equal(userClasses(b()), undefined);
  });

  it('vendor class and strings drop trailing NULs', () => {
    assert.equal(vendorClass(s('MSFT 5.0\0')), 'MSFT 5.0');
    assert.equal(stringOption(s('abc\0\0')), 'abc');
    assert.equal(stringOption(b(0)), undefined);
  });

  it('option 82 sub-options; an overrun gives undefined', () => {
    const m = relayAgentInfo(b(1, 3, 0x65, 0x74, 0x68, 2, 2, 9, 9));
    assert.equal(Buffer.from(m?.get(RELAY_SUB.CIRCUIT_ID) ?? []).toString(), 'eth');
    assert.deepEqual(m?.get(RELAY_SUB.REMOTE_ID), b(9, 9));
    assert.equal(relayAgentInfo(b(1, 5, 1)), undefined);
  });

  it('option 43 PXE sub-options for a ProxyDHCP offer round-trip through the parser', () => {
    const v = encodePxeVendorOptions(
      new Map([
        [PXE_SUB.DISCOVERY_CONTROL, b(3)],
        [PXE_SUB.BOOT_SERVERS, encodePxeBootServers([{ type: 0x8000, ips: ['198.18.77.1'] }])],
        [PXE_SUB.BOOT_MENU, encodePxeBootMenu([{ type: 0x8000, description: 'bootherd' }])],
        [PXE_SUB.MENU_PROMPT, encodePxeMenuPrompt(0, 'PXE')],
      ]),
    );
    assert.equal(v[v.length - 1], 255);
    const m = pxeVendorOptions(v);
    assert.deepEqual(m?.get(PXE_SUB.DISCOVERY_CONTROL), b(3));
    assert.deepEqual(m?.get(PXE_SUB.BOOT_SERVERS), b(0x80, 0, 1, 198, 18, 77, 1));
    assert.deepEqual(pxeBootMenu(m?.get(PXE_SUB.BOOT_MENU)), [{ type: 0x8000, description: 'bootherd' }]);
    assert.deepEqual(m?.get(PXE_SUB.MENU_PROMPT), b(0, 0x50, 0x58, 0x45));
    assert.deepEqual(pxeBootItem(encodePxeBootItem({ type: 0x8000, layer: 0 })), { type: 0x8000, layer: 0 });
    assert.equal(pxeBootItem(b(1, 2, 3)), undefined);
  });

  it('arch list holds every 16-bit entry', () => {
    assert.deepEqual(clientArch(b(0, 7, 0, 9)), [7, 9]);
  });

  it('UUID: encodeClientUuid is the inverse of clientUuid; the all-zero UUID is no UUID', () => {
    const u = '11223344-5566-7788-99aa-bbccddeeff00';
    assert.equal(clientUuid(encodeClientUuid(u)), u);
    assert.equal(encodeClientUuid('not-a-uuid'), undefined);
    assert.equal(clientUuid(new Uint8Array(17)), undefined);
  });

  it('address and number builders', () => {
    assert.equal(isIpv4('198.18.0.1'), true);
    assert.equal(isIpv4('198.18.0.256'), false);
    assert.equal(isIpv4('1.2.3'), false);
    assert.deepEqual(encodeIp('198.18.0.1'), b(198, 18, 0, 1));
    assert.deepEqual(ipListOption(encodeIpList(['198.18.0.1', '198.18.0.2'])), ['198.18.0.1', '198.18.0.2']);
    assert.equal(ipListOption(b(1, 2, 3)), undefined);
    assert.deepEqual(encodeU32(3600), b(0, 0, 0x0e, 0x10));
    assert.deepEqual(encodeU16(1472), b(0x05, 0xc0));
  });
});

describe('isIpv4 and encodeIp agree with the dotted-quad definition', () => {
  it('four decimal octets 0..255 of 1 to 3 digits, nothing else', () => {
    const reference = (ip: string): boolean => {
      const parts = ip.split('.');
      return parts.length === 4 && parts.every((x) => /^[0-9]{1,3}$/.test(x) && Number(x) <= 255);
    };
    const quadish = fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('', '0', '00', '007', '1a', ' 1', '-1', '1e2', '255', '256', '1000')), { minLength: 1, maxLength: 6 }).map((xs) => xs.join('.'));
    fc.assert(
      fc.property(fc.oneof(quadish, fc.string({ maxLength: 20 })), (ip) => {
        assert.equal(isIpv4(ip), reference(ip), ip);
        const bytes = encodeIp(ip);
        assert.deepEqual([...bytes], reference(ip) ? ip.split('.').map(Number) : [0, 0, 0, 0], ip);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('requestedOptions', () => {
  it('keeps each code once, in first-seen order, without 0, 52 and 255, for short and long lists alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (buf) => {
        const expected: number[] = [];
        for (const c of buf) if (c !== 0 && c !== 52 && c !== 255 && !expected.includes(c)) expected.push(c);
        assert.deepEqual(requestedOptions(buf), expected);
      }),
      { numRuns: 1000 },
    );
    assert.equal(requestedOptions(new Uint8Array(0)), undefined);
  });
});
