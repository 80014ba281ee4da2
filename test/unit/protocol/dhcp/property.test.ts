// Property tests (fast-check, bounded runs): the decoder is total, encode/decode round-trips, and the
// encoder only produces well-formed packets within the size limit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDhcp, encodeDhcp } from '../../../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../../../src/protocol/dhcp/packet.ts';
import { fixture, fixtureNames, raw } from './raw.ts';

const RUNS = 400;

/** Decode must return a result object, never throw. */
function decodeTotal(buf: Uint8Array): ReturnType<typeof decodeDhcp> {
  const r = decodeDhcp(buf);
  if (r.ok) assert.ok(r.packet.options instanceof Map);
  else assert.match(r.error.code, /^BH_DHCP_[A-Z_]+$/);
  return r;
}

function withoutDuplicates(p: DhcpPacket): Omit<DhcpPacket, 'duplicateOptions'> {
  const { duplicateOptions: _d, ...rest } = p;
  return rest;
}

/** decode(encode(decode(x))) equals decode(x) (duplicates are concatenated, so only the list of repeats can differ). */
function assertRoundTrip(p: DhcpPacket): void {
  const again = decodeDhcp(encodeDhcp(p, { maxSize: 1 << 17 }));
  assert.ok(again.ok, 'the re-encoded packet decodes');
  assert.deepStrictEqual(withoutDuplicates(again.packet), withoutDuplicates(p));
  for (const code of again.packet.duplicateOptions) assert.ok((p.options.get(code)?.length ?? 0) > 255, `only long options repeat: ${code}`);
}

/** Walk an option area the strict way; true when END is reached inside it. */
function endsWithEnd(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c === 255) return true;
    if (c === 0) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    i += 2 + (b[i + 1] as number);
  }
  return false;
}

const captures = fixtureNames().map((n) => fixture(n));

describe('decoder properties', () => {
  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => void decodeTotal(b)), { numRuns: RUNS });
  });

  it('a valid header followed by random option bytes never throws and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.integer({ min: 0, max: 3 }), (opts, fileSname, ov) => {
        const b = raw({ options: [52, 1, ov, ...opts], sname: [...fileSname.subarray(0, 64)], file: [...fileSname.subarray(64)] });
        const r = decodeTotal(b);
        if (r.ok) assertRoundTrip(r.packet);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutations of the real captures never throw and round-trip when they decode', () => {
    const mutation = fc.record({
      which: fc.nat({ max: captures.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      cut: fc.option(fc.nat()),
      tail: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(mutation, ({ which, edits, cut, tail }) => {
        const src = captures[which] as Buffer;
        let b = Buffer.concat([src, tail]);
        for (const [pos, val] of edits) b[pos % b.length] = val;
        if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
        const r = decodeTotal(b);
        if (r.ok) assertRoundTrip(r.packet);
      }),
      { numRuns: RUNS },
    );
  });

  it('every capture round-trips', () => {
    for (const c of captures) {
      const r = decodeDhcp(c);
      assert.ok(r.ok);
      assertRoundTrip(r.packet);
    }
  });
});

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.'));
const packetArb: fc.Arbitrary<DhcpPacket> = fc.record({
  op: fc.integer({ min: 1, max: 2 }),
  htype: fc.constant(1),
  hlen: fc.constant(6),
  hops: fc.nat(16),
  xid: fc.nat({ max: 0xffffffff }),
  secs: fc.nat(0xffff),
  flags: fc.constantFrom(0, 0x8000),
  ciaddr: ip,
  yiaddr: ip,
  siaddr: ip,
  giaddr: ip,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  sname: fc.oneof(fc.constant(''), fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 64 })),
  file: fc.oneof(fc.constant(''), fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 128 })),
  options: fc.array(fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 600 })), { maxLength: 20 }).map((e) => new Map(e)),
  duplicateOptions: fc.constant([] as number[]),
});

describe('encoder properties', () => {
  it('output is ≤ maxSize, has END in every option area, and decodes to a subset of the options', () => {
    fc.assert(
      fc.property(packetArb, fc.integer({ min: 241, max: 1500 }), (p, maxSize) => {
        const b = encodeDhcp(p, { maxSize });
        assert.ok(b.length <= maxSize, `${b.length} > ${maxSize}`);
        assert.ok(endsWithEnd(b, 240, b.length), 'END in the options field');
        const overload = b[240] === 52 ? (b[242] as number) : 0;
        if (overload & 1) assert.ok(endsWithEnd(b, 108, 236), 'END in the file field');
        if (overload & 2) assert.ok(endsWithEnd(b, 44, 108), 'END in the sname field');
        const r = decodeDhcp(b);
        assert.ok(r.ok);
        for (const [code, v] of r.packet.options) {
          assert.ok(code !== 0 && code !== 52 && code !== 255);
          assert.deepEqual(v, p.options.get(code));
        }
        assert.equal(r.packet.xid, p.xid);
        assert.deepEqual(r.packet.chaddr, p.chaddr);
      }),
      { numRuns: RUNS },
    );
  });

  it('when every option fits, every option is kept, and file and sname are kept as text', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        const r = decodeDhcp(encodeDhcp(p, { maxSize: 65535 }));
        assert.ok(r.ok);
        const expected = new Map([...p.options].filter(([c]) => c !== 0 && c !== 52 && c !== 255));
        assert.deepStrictEqual(r.packet.options, expected);
        assert.equal(r.packet.file, p.file);
        assert.equal(r.packet.sname, p.sname);
      }),
      { numRuns: RUNS },
    );
  });
});
