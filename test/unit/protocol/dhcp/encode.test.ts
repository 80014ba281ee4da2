// The encoder: RFC 3396 splitting, the size limit, overload of file/sname, priority order, newReply.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDhcp, encodeDhcp, newReply } from '../../../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../../../src/protocol/dhcp/packet.ts';
import { MSG, OPT, encodeIp, encodeString, encodeU32, ipOption, macString, messageType, u32Option } from '../../../../src/protocol/dhcp/options.ts';
import { fixture } from './raw.ts';

function request(): DhcpPacket {
  const r = decodeDhcp(fixture('ipxe-bios-1-discover.hex'));
  assert.ok(r.ok);
  return r.packet;
}

function offer(): DhcpPacket {
  const p = newReply(request());
  p.yiaddr = '198.18.77.150';
  p.siaddr = '198.18.77.1';
  p.options.set(OPT.MESSAGE_TYPE, Uint8Array.of(MSG.OFFER));
  p.options.set(OPT.SERVER_ID, encodeIp('198.18.77.1'));
  p.options.set(OPT.LEASE_TIME, encodeU32(3600));
  return p;
}

function decoded(b: Buffer): DhcpPacket {
  const r = decodeDhcp(b);
  assert.ok(r.ok);
  return r.packet;
}

describe('encodeDhcp', () => {
  it('newReply answers the request: op 2, same xid, MAC, flags and giaddr, no options', () => {
    const req = request();
    const rep = newReply(req);
    assert.equal(rep.op, 2);
    assert.equal(rep.xid, req.xid);
    assert.equal(macString(rep), '52:54:00:be:e0:01');
    assert.equal(rep.flags, req.flags);
    assert.equal(rep.giaddr, req.giaddr);
    assert.equal(rep.options.size, 0);
    rep.chaddr[0] = 0; // a copy: changing the reply leaves the request alone
    assert.equal(req.chaddr[0], 0x52);
  });

  it('an OFFER encodes with the fields a client reads, padded to the 300-octet BOOTP minimum', () => {
    const p = offer();
    p.file = 'undionly.kpxe';
    const b = encodeDhcp(p);
    assert.equal(b.length, 300);
    const d = decoded(b);
    assert.equal(messageType(d), MSG.OFFER);
    assert.equal(d.yiaddr, '198.18.77.150');
    assert.equal(d.siaddr, '198.18.77.1');
    assert.equal(d.file, 'undionly.kpxe');
    assert.equal(ipOption(d.options.get(OPT.SERVER_ID)), '198.18.77.1');
    assert.equal(u32Option(d.options.get(OPT.LEASE_TIME)), 3600);
    assert.deepEqual([...b.subarray(236, 240)], [99, 130, 83, 99]);
    assert.equal(b[240], OPT.MESSAGE_TYPE); // options in the order the server set them
  });

  it('an option longer than 255 octets is split into consecutive pieces (RFC 3396)', () => {
    const p = offer();
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    p.options.set(OPT.VENDOR_SPECIFIC, long);
    const b = encodeDhcp(p, { maxSize: 1472 });
    const at = b.indexOf(Buffer.from([43, 255]), 240);
    assert.ok(at > 0);
    assert.equal(b[at + 257], 43);
    assert.equal(b[at + 258], 255);
    assert.equal(b[at + 514], 43);
    assert.equal(b[at + 515], 90);
    assert.deepEqual(decoded(b).options.get(43), long);
  });

  it('options that do not fit go to file and sname (option 52) when those are empty', () => {
    const p = offer();
    // Options field: 576 - 241 = 335 octets, less 3 for option 52; 15 octets of 53/54/51 above.
    p.options.set(OPT.VENDOR_CLASS, encodeString('x'.repeat(253))); // 255 on the wire: 62 octets left
    p.options.set(OPT.DOMAIN_NAME, encodeString('d'.repeat(80))); // 82: too big for options and sname, goes to file
    p.options.set(OPT.ROOT_PATH, encodeString('r'.repeat(61))); // 63: too big for the rest of options and file, goes to sname
    const b = encodeDhcp(p, { maxSize: 576 });
    assert.ok(b.length <= 576);
    assert.deepEqual([...b.subarray(240, 243)], [52, 1, 3]);
    const d = decoded(b);
    assert.equal(d.file, '');
    assert.equal(d.sname, '');
    assert.deepEqual(d.options, p.options);
  });

  it('a non-empty file is never overloaded; options that do not fit are dropped from the end', () => {
    const p = offer();
    p.file = 'http://198.18.77.1/boot.ipxe';
    p.options.set(OPT.VENDOR_CLASS, encodeString('x'.repeat(250)));
    p.options.set(OPT.DOMAIN_NAME, encodeString('d'.repeat(200)));
    const b = encodeDhcp(p, { maxSize: 576 });
    const d = decoded(b);
    assert.equal(d.file, 'http://198.18.77.1/boot.ipxe');
    assert.equal(d.options.has(OPT.DOMAIN_NAME), false); // last set, dropped
    assert.equal(messageType(d), MSG.OFFER);
    assert.equal(d.options.has(OPT.VENDOR_CLASS), true);
  });

  it('maxSize below the smallest packet still gives a well-formed packet with END', () => {
    const b = encodeDhcp(offer(), { maxSize: 10 });
    assert.equal(b.length, 241);
    assert.equal(b[240], 255);
    assert.equal(decoded(b).options.size, 0);
  });

  it('never throws on bad addresses or odd numbers; writes 0.0.0.0 and wraps numbers', () => {
    const p = offer();
    p.yiaddr = 'not an address';
    p.siaddr = '1.2.3.256';
    p.xid = -1;
    p.secs = 70000;
    const d = decoded(encodeDhcp(p, { maxSize: Number.NaN }));
    assert.equal(d.yiaddr, '0.0.0.0');
    assert.equal(d.siaddr, '0.0.0.0');
    assert.equal(d.xid, 0xffffffff);
    assert.equal(d.secs, 70000 & 0xffff);
  });
});
