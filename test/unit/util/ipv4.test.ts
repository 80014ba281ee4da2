import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipToU32, u32ToIp, parseCidr, cidrContains, isForbiddenDestination } from '../../../src/util/ipv4.ts';
import { normalizeMacPrefix, parseMac } from '../../../src/util/mac.ts';

test('dotted quads round-trip; anything else is refused', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => assert.equal(ipToU32(u32ToIp(n)), n)));
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '1.2.3.', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.0004', '-1.2.3.4']) assert.equal(ipToU32(bad), undefined, bad);
  assert.equal(ipToU32('198.18.0.1'), 0xc6120001);
});

test('CIDR parsing and membership', () => {
  const c = parseCidr('198.18.0.77/24')!;
  assert.equal(c.text, '198.18.0.0/24');
  assert.equal(u32ToIp(c.broadcast), '198.18.0.255');
  assert.equal(cidrContains(c, ipToU32('198.18.0.200')!), true);
  assert.equal(cidrContains(c, ipToU32('198.18.1.1')!), false);
  assert.equal(parseCidr('0.0.0.0/0')!.mask, 0);
  for (const bad of ['198.18.0.0', '198.18.0.0/33', '198.18.0.0/x', '198.18.0/24']) assert.equal(parseCidr(bad), undefined, bad);
});

test('forbidden destinations: 0/8, 127/8, 224/4 and 240/4', () => {
  for (const a of ['0.0.0.0', '0.0.0.1', '127.0.0.1', '224.0.0.1', '239.1.1.1', '255.255.255.255', 'junk']) assert.equal(isForbiddenDestination(a), true, a);
  for (const a of ['198.18.0.1', '10.0.0.1', '223.255.255.254']) assert.equal(isForbiddenDestination(a), false, a);
});

test('MAC and prefix normalisation', () => {
  assert.equal(parseMac('52-54-00-AB-CD-EF'), '52:54:00:ab:cd:ef');
  assert.equal(parseMac('52:54:00'), undefined);
  assert.equal(normalizeMacPrefix('52:54:00'), '52:54:00');
  assert.equal(normalizeMacPrefix('5'), undefined);
});
