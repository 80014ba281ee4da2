import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromSockaddr, sameSockaddr, sockaddrIn, sockaddrWords } from '../../../src/tftp/udp-fast.ts';

test('sockaddr_in: family 2, port in network order, the four octets; anything but a dotted quad is refused', () => {
  const b = sockaddrIn('198.18.0.7', 0x1234)!;
  assert.deepEqual([...b.subarray(0, 8)], [2, 0, 0x12, 0x34, 198, 18, 0, 7]);
  assert.deepEqual(fromSockaddr(b), { address: '198.18.0.7', port: 0x1234 });
  for (const bad of ['::1', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '', '01234.1.1.1']) assert.equal(sockaddrIn(bad, 69), undefined, bad);
});

test('property: a client is the same peer only with the same address and port', () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  fc.assert(
    fc.property(ip, fc.nat(65535), ip, fc.nat(65535), (a, pa, b, pb) => {
      assert.equal(sameSockaddr(sockaddrIn(a, pa)!, sockaddrIn(b, pb)!), a === b && pa === pb);
      assert.deepEqual(fromSockaddr(sockaddrIn(a, pa)!), { address: a, port: pa });
    }),
  );
});

test('property: the two words of a sockaddr_in (what the hot path compares) match exactly when address and port match', () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  fc.assert(
    fc.property(ip, fc.nat(65535), ip, fc.nat(65535), (a, pa, b, pb) => {
      const [a0, a1] = sockaddrWords(sockaddrIn(a, pa)!);
      const [b0, b1] = sockaddrWords(sockaddrIn(b, pb)!);
      assert.equal(a0 === b0 && a1 === b1, a === b && pa === pb);
    }),
  );
  // As a Uint32Array over received bytes reads them (little-endian words).
  const raw = sockaddrIn('10.1.2.3', 0x4567)!;
  assert.deepEqual(sockaddrWords(raw), [...new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 8))]);
});
