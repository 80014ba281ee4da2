// SECURITY.md §2.2 (D01–D35) and §2.3 (P03, P04) at the codec level: what decodeDhcp and the
// option helpers return for each hostile input. Policy (op=2, hops, giaddr allow-list, server id)
// is the server's; for those cases these tests show the codec hands the server the facts it needs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDhcp, encodeDhcp, newReply } from '../../../../src/protocol/dhcp/packet.ts';
import type { DhcpDecodeResult, DhcpPacket } from '../../../../src/protocol/dhcp/packet.ts';
import {
  MSG, OPT, clientArch, clientId, clientNdi, clientUuid, hostName, ipOption, macString, maxMessageSize, messageType,
  pxeVendorOptions, requestedOptions, vendorClass,
} from '../../../../src/protocol/dhcp/options.ts';
import { raw } from './raw.ts';

function ok(r: DhcpDecodeResult): DhcpPacket {
  if (!r.ok) assert.fail(`expected a packet, got ${r.error.code}: ${r.error.message}`);
  return r.packet;
}
function errCode(r: DhcpDecodeResult): string {
  if (r.ok) assert.fail('expected a decode error, got a packet');
  assert.match(r.error.message, /\S/);
  return r.error.code;
}
const str = (s: string): number[] => [...Buffer.from(s, 'latin1')];

describe('SECURITY.md §2.2 hostile DHCP input at the codec', () => {
  it('D01–D03: empty, 1-octet and 235-octet datagrams are truncated', () => {
    assert.equal(errCode(decodeDhcp(new Uint8Array(0))), 'BH_DHCP_TRUNCATED');
    assert.equal(errCode(decodeDhcp(Uint8Array.of(1))), 'BH_DHCP_TRUNCATED');
    assert.equal(errCode(decodeDhcp(raw().subarray(0, 235))), 'BH_DHCP_TRUNCATED');
  });

  it('D04: a fixed header with no cookie is rejected as plain BOOTP', () => {
    assert.equal(errCode(decodeDhcp(raw({ cookie: null, options: [] }))), 'BH_DHCP_NO_COOKIE');
  });

  it('D05: a wrong magic cookie is rejected even with option 53 present', () => {
    assert.equal(errCode(decodeDhcp(raw({ cookie: [99, 130, 83, 98], options: [53, 1, 1, 255] }))), 'BH_DHCP_BAD_COOKIE');
  });

  it('D06: op 2 decodes with op 2 for the server to drop', () => {
    assert.equal(ok(decodeDhcp(raw({ op: 2 }))).op, 2);
  });

  it('D07/D08: hlen 17 and 255 are rejected', () => {
    assert.equal(errCode(decodeDhcp(raw({ hlen: 17 }))), 'BH_DHCP_BAD_HLEN');
    assert.equal(errCode(decodeDhcp(raw({ hlen: 255 }))), 'BH_DHCP_BAD_HLEN');
  });

  it('D09: htype 0 with a non-zero hlen is rejected', () => {
    assert.equal(errCode(decodeDhcp(raw({ htype: 0, hlen: 6 }))), 'BH_DHCP_BAD_HLEN');
  });

  it('D10: an option running past the end is rejected, so a later option 53 is never seen', () => {
    assert.equal(errCode(decodeDhcp(raw({ options: [12, 40, 65, 66, 53, 1, 1, 255] }))), 'BH_DHCP_BAD_OPTION');
    assert.equal(errCode(decodeDhcp(raw({ options: [53, 1, 1, 12] }))), 'BH_DHCP_BAD_OPTION'); // code with no length octet
  });

  it('D11: option 53 of length 0 gives no message type', () => {
    assert.equal(messageType(ok(decodeDhcp(raw({ options: [53, 0, 255] })))), undefined);
  });

  it('D12: an unknown message type (200) gives no message type', () => {
    assert.equal(messageType(ok(decodeDhcp(raw({ options: [53, 1, 200, 255] })))), undefined);
  });

  it('D13: option 53 twice is reported as a duplicate and yields no message type', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 53, 1, 3, 255] })));
    assert.deepEqual(p.duplicateOptions, [53]);
    assert.deepEqual(p.options.get(53), Uint8Array.of(1, 3));
    assert.equal(messageType(p), undefined);
  });

  it('D14: options without END are accepted up to the end of the packet', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 12, 2, 104, 105] })));
    assert.equal(messageType(p), MSG.DISCOVER);
    assert.equal(hostName(p.options.get(OPT.HOST_NAME)), 'hi');
  });

  it('D15: 1,000 PAD octets before the options are skipped', () => {
    const p = ok(decodeDhcp(raw({ options: [...new Array<number>(1000).fill(0), 53, 1, 3, 255] })));
    assert.equal(messageType(p), MSG.REQUEST);
    assert.equal(p.options.has(0), false);
  });

  it('D16: garbage after END is ignored', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 255, 53, 1, 3, 12, 200, 1, 2, 3] })));
    assert.equal(messageType(p), MSG.DISCOVER);
    assert.deepEqual([...p.options.keys()], [53]);
  });

  it('D17: overload 3 with another option 52 inside file is parsed one level only', () => {
    const file = [52, 1, 3, 66, 3, 97, 98, 99, 255];
    const sname = [52, 1, 1, 15, 3, 108, 97, 110, 255];
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 52, 1, 3, 255], file, sname })));
    assert.equal(p.options.has(52), false);
    assert.equal(p.file, '');
    assert.equal(p.sname, '');
    assert.equal(Buffer.from(p.options.get(66) ?? []).toString(), 'abc');
    assert.equal(Buffer.from(p.options.get(15) ?? []).toString(), 'lan');
    assert.deepEqual(p.duplicateOptions, []);
  });

  it('D18: an option overrunning the overloaded file field is dropped without reading into sname', () => {
    const file = new Array<number>(128).fill(0);
    file.splice(0, 5, 66, 3, 97, 98, 99); // a good option 66
    file[124] = 67; // option 67 at offset 124 claims 20 octets: runs past the 128-octet field
    file[125] = 20;
    const sname = [12, 2, 104, 105, 255];
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 52, 1, 3, 255], file, sname })));
    assert.equal(p.options.has(67), false);
    assert.equal(Buffer.from(p.options.get(66) ?? []).toString(), 'abc');
    assert.equal(hostName(p.options.get(OPT.HOST_NAME)), 'hi');
  });

  it('D19: option 52 with value 0 or 7 is ignored and file/sname stay strings', () => {
    for (const v of [0, 7]) {
      const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 52, 1, v, 255], file: str('boot.efi'), sname: str('srv') })));
      assert.equal(p.file, 'boot.efi');
      assert.equal(p.sname, 'srv');
      assert.equal(p.options.has(52), false);
    }
  });

  it('D20: a 65,507-octet datagram of valid options decodes, and a reply built from it stays ≤ 576', () => {
    const opts: number[] = [53, 1, 1];
    while (opts.length + 240 + 257 < 65507) opts.push(43, 255, ...new Array<number>(255).fill(7));
    while (opts.length + 240 < 65506) opts.push(0);
    opts.push(255);
    const buf = raw({ options: opts });
    assert.equal(buf.length, 65507);
    const p = ok(decodeDhcp(buf));
    assert.equal(messageType(p), MSG.DISCOVER);
    assert.ok((p.options.get(43)?.length ?? 0) > 60000);
    const reply = newReply(p);
    reply.options.set(OPT.MESSAGE_TYPE, Uint8Array.of(MSG.OFFER));
    reply.options.set(OPT.VENDOR_SPECIFIC, p.options.get(43) as Uint8Array);
    const out = encodeDhcp(reply);
    assert.ok(out.length <= 576);
    assert.equal(messageType(ok(decodeDhcp(out))), MSG.OFFER);
  });

  it('D21: 100 × option 55 with 0/52/255 requested gives each code once and never 0, 52 or 255', () => {
    const high = Array.from({ length: 255 }, (_, i) => i + 1); // 1..255
    const low = Array.from({ length: 255 }, (_, i) => i); // 0..254
    const opts: number[] = [53, 1, 1];
    for (let i = 0; i < 100; i++) opts.push(55, 255, ...(i % 2 ? high : low));
    opts.push(255);
    const p = ok(decodeDhcp(raw({ options: opts })));
    const wanted = requestedOptions(p.options.get(55)) ?? [];
    assert.equal(wanted.length, 253); // 0..255 less 0, 52 and 255
    for (const c of [0, 52, 255]) assert.equal(wanted.includes(c), false);
    const reply = newReply(p);
    for (const c of [0, 52, 255, 53]) reply.options.set(c, Uint8Array.of(5));
    const out = decodeDhcp(encodeDhcp(reply));
    assert.deepEqual([...ok(out).options.keys()], [53]);
  });

  it('D22: option 57 below 576 counts as 576', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 57, 2, 0, 100, 255] })));
    assert.equal(maxMessageSize(p.options.get(57)), 576);
  });

  it('D23/D24: option 61 of length 0 or 1 is ignored; 255 octets is a valid identifier', () => {
    assert.equal(clientId(ok(decodeDhcp(raw({ options: [53, 1, 1, 61, 0, 255] }))).options.get(61)), undefined);
    assert.equal(clientId(ok(decodeDhcp(raw({ options: [53, 1, 1, 61, 1, 1, 255] }))).options.get(61)), undefined);
    const long = ok(decodeDhcp(raw({ options: [53, 1, 1, 61, 255, ...new Array<number>(255).fill(0x3b), 255] })));
    assert.equal(clientId(long.options.get(61)), '3b'.repeat(255));
  });

  it('D25: host names are sanitised to [A-Za-z0-9.-], at most 63 characters; empty gives none', () => {
    const h = (bytes: number[]): string | undefined => hostName(ok(decodeDhcp(raw({ options: [53, 1, 1, 12, bytes.length, ...bytes, 255] }))).options.get(12));
    assert.equal(h([]), undefined);
    assert.equal(h([0]), undefined);
    assert.equal(h(str('a\nb')), 'a-b');
    assert.equal(h(str('<script>')), '-script-');
    assert.equal(h(str('${x}\nchain http://evil')), '--x--chain-http---evil');
    assert.equal(h(new Array<number>(255).fill(0x41)), 'A'.repeat(63));
  });

  it('D26: malformed PXE options 97, 93, 94 and 60 give undefined', () => {
    const get = (code: number, bytes: number[]): Uint8Array | undefined =>
      ok(decodeDhcp(raw({ options: [53, 1, 1, code, bytes.length, ...bytes, 255] }))).options.get(code);
    assert.equal(clientUuid(get(97, new Array<number>(16).fill(1))), undefined);
    assert.equal(clientUuid(get(97, [1, ...new Array<number>(16).fill(1)])), undefined);
    assert.equal(clientArch(get(93, [0, 7, 0])), undefined);
    assert.equal(clientNdi(get(94, [])), undefined);
    assert.equal(vendorClass(get(60, str('PXEClient\0:Arch:00007'))), undefined);
  });

  it('D27/D28: giaddr is decoded as sent for the server allow-list', () => {
    for (const g of [[198, 18, 9, 9], [127, 0, 0, 1], [224, 0, 0, 1], [255, 255, 255, 255], [0, 0, 0, 1]]) {
      assert.equal(ok(decodeDhcp(raw({ giaddr: g }))).giaddr, g.join('.'));
    }
  });

  it('D29: hops 17 is decoded as 17 for the server to drop', () => {
    assert.equal(ok(decodeDhcp(raw({ hops: 17 }))).hops, 17);
  });

  it('D30: reserved flag bits are kept; the broadcast bit reads correctly', () => {
    const p = ok(decodeDhcp(raw({ flags: 0x7fff })));
    assert.equal(p.flags & 0x8000, 0);
    assert.equal(newReply(p).flags & 0x8000, 0);
    assert.equal(ok(decodeDhcp(raw({ flags: 0x8001 }))).flags & 0x8000, 0x8000);
  });

  it('D31: a REQUEST naming another server exposes that server identifier', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 3, 54, 4, 198, 18, 5, 5, 255] })));
    assert.equal(messageType(p), MSG.REQUEST);
    assert.equal(ipOption(p.options.get(54)), '198.18.5.5');
  });

  it('D32/D33: RELEASE and INFORM decode with the claimed MAC and ciaddr', () => {
    const rel = ok(decodeDhcp(raw({ options: [53, 1, 7, 255], ciaddr: [198, 18, 0, 50], chaddr: [2, 0, 0, 0, 0, 9] })));
    assert.equal(messageType(rel), MSG.RELEASE);
    assert.equal(macString(rel), '02:00:00:00:00:09');
    const inf = ok(decodeDhcp(raw({ options: [53, 1, 8, 255], ciaddr: [198, 18, 0, 77] })));
    assert.equal(messageType(inf), MSG.INFORM);
    assert.equal(inf.ciaddr, '198.18.0.77');
  });

  it('D34: all-zero chaddr and xid 0 decode', () => {
    const p = ok(decodeDhcp(raw({ xid: 0, chaddr: [0, 0, 0, 0, 0, 0] })));
    assert.equal(p.xid, 0);
    assert.equal(macString(p), '00:00:00:00:00:00');
  });

  it('D35: END followed by a "length" stops at END', () => {
    const p = ok(decodeDhcp(raw({ options: [53, 1, 1, 255, 3, 12, 1, 65] })));
    assert.deepEqual([...p.options.keys()], [53]);
  });
});

describe('SECURITY.md §2.3 hostile ProxyDHCP input at the codec', () => {
  it('P03: empty, 1-octet and 100-octet datagrams are truncated; 300 random octets give a result', () => {
    assert.equal(errCode(decodeDhcp(new Uint8Array(0))), 'BH_DHCP_TRUNCATED');
    assert.equal(errCode(decodeDhcp(new Uint8Array(1))), 'BH_DHCP_TRUNCATED');
    assert.equal(errCode(decodeDhcp(raw().subarray(0, 100))), 'BH_DHCP_TRUNCATED');
    let seed = 7;
    const rnd = Uint8Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    const r = decodeDhcp(rnd);
    assert.equal(r.ok, false); // random octets do not carry the magic cookie
  });

  it('P04: option 43 with a PXE sub-option overrun gives undefined; a good one parses', () => {
    const bad = ok(decodeDhcp(raw({ options: [53, 1, 3, 43, 4, 71, 4, 128, 0, 255] })));
    assert.equal(pxeVendorOptions(bad.options.get(43)), undefined);
    const good = ok(decodeDhcp(raw({ options: [53, 1, 3, 43, 7, 71, 4, 128, 0, 0, 0, 255, 255] })));
    assert.deepEqual(pxeVendorOptions(good.options.get(43))?.get(71), Uint8Array.of(128, 0, 0, 0));
  });
});
