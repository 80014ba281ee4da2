import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blksizeForMtu, negotiate } from '../../../../src/protocol/tftp/options.ts';
import type { RequestOption } from '../../../../src/protocol/tftp/packets.ts';

const limits = { maxBlksize: blksizeForMtu(1500), maxWindowsize: 64 };
const oackOf = (options: RequestOption[], mode: 'octet' | 'netascii' = 'octet', size = 1000) => negotiate(options, mode, size, limits);
const o = (name: string, value: string): RequestOption => ({ name, value });

test('blksize for a 1500-octet MTU is 1468 (no IP fragmentation)', () => {
  assert.equal(blksizeForMtu(1500), 1468);
  assert.equal(blksizeForMtu(65536), 65464);
  assert.equal(blksizeForMtu(20), 8);
});

test('the negotiation table (SECURITY.md T18–T25)', () => {
  const table: [string, RequestOption[], RequestOption[], { blksize?: number; windowsize?: number }][] = [
    ['blksize 0 is omitted', [o('blksize', '0')], [], { blksize: 512 }],
    ['blksize 7 is omitted', [o('blksize', '7')], [], { blksize: 512 }],
    ['blksize 8 is the minimum', [o('blksize', '8')], [o('blksize', '8')], { blksize: 8 }],
    ['blksize 1432 (iPXE)', [o('blksize', '1432')], [o('blksize', '1432')], { blksize: 1432 }],
    ['blksize 8192 is clamped to the MTU', [o('blksize', '8192')], [o('blksize', '1468')], { blksize: 1468 }],
    ['blksize 65464 is clamped to the MTU', [o('blksize', '65464')], [o('blksize', '1468')], { blksize: 1468 }],
    ['blksize 65465 is out of range', [o('blksize', '65465')], [], { blksize: 512 }],
    ['blksize of 20 digits', [o('blksize', '99999999999999999999')], [], { blksize: 512 }],
    ['blksize abc', [o('blksize', 'abc')], [], {}],
    ['blksize -1', [o('blksize', '-1')], [], {}],
    ['blksize +512', [o('blksize', '+512')], [], {}],
    ['blksize "512 "', [o('blksize', '512 ')], [], {}],
    ['blksize 0x200', [o('blksize', '0x200')], [], {}],
    ['blksize empty', [o('blksize', '')], [], {}],
    ['blksize twice: the last counts (T21, as atftpd and dnsmasq)', [o('blksize', '1024'), o('blksize', '512')], [o('blksize', '512')], { blksize: 512 }],
    ['blksize twice, the last invalid: omitted', [o('blksize', '1024'), o('blksize', 'abc')], [], { blksize: 512 }],
    ['a repeated option keeps its last place in the OACK', [o('blksize', '1024'), o('tsize', '0'), o('blksize', '1400')], [o('tsize', '1000'), o('blksize', '1400')], { blksize: 1400 }],
    ['windowsize twice: the last counts', [o('windowsize', '8'), o('windowsize', '2')], [o('windowsize', '2')], { windowsize: 2 }],
    ['windowsize 0 is omitted', [o('windowsize', '0')], [], { windowsize: 1 }],
    ['windowsize 65536 is omitted', [o('windowsize', '65536')], [], { windowsize: 1 }],
    ['windowsize 4 (EDK2)', [o('windowsize', '4')], [o('windowsize', '4')], { windowsize: 4 }],
    ['windowsize 65535 is capped by the server', [o('windowsize', '65535')], [o('windowsize', '64')], { windowsize: 64 }],
    ['timeout 0 is omitted', [o('timeout', '0')], [], {}],
    ['timeout 256 is omitted', [o('timeout', '256')], [], {}],
    ['timeout 6 (curl) is acknowledged', [o('timeout', '6')], [o('timeout', '6')], {}],
    ['tsize 0 gets the real size', [o('tsize', '0')], [o('tsize', '1000')], {}],
    ['a bogus tsize gets the real size', [o('tsize', '12345')], [o('tsize', '1000')], {}],
    ['unknown options are ignored', [o('foo', 'bar'), o('blksize', '1024')], [o('blksize', '1024')], { blksize: 1024 }],
    ['EDK2 asks tsize, blksize and windowsize', [o('tsize', '0'), o('blksize', '1468'), o('windowsize', '4')], [o('tsize', '1000'), o('blksize', '1468'), o('windowsize', '4')], { blksize: 1468, windowsize: 4 }],
  ];
  for (const [title, req, oack, params] of table) {
    const r = oackOf(req);
    assert.deepEqual(r.oack, oack, title);
    if (params.blksize !== undefined) assert.equal(r.blksize, params.blksize, title);
    if (params.windowsize !== undefined) assert.equal(r.windowsize, params.windowsize, title);
  }
});

test('tsize is omitted in netascii mode (T24) and for an empty file (curl rejects tsize 0)', () => {
  assert.deepEqual(oackOf([o('tsize', '0')], 'netascii').oack, []);
  assert.deepEqual(oackOf([o('tsize', '0')], 'octet', 0).oack, []);
});

test('property: the OACK only holds requested names with values inside the RFC ranges', () => {
  const name = fc.constantFrom('blksize', 'tsize', 'timeout', 'windowsize', 'foo', 'BLKSIZE');
  const value = fc.oneof(fc.string({ maxLength: 12 }), fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String));
  fc.assert(
    fc.property(fc.array(fc.record({ name, value }), { maxLength: 10 }), fc.nat(1e9), (req, size) => {
      const r = negotiate(req, 'octet', size, limits);
      const names = r.oack.map((x) => x.name);
      assert.equal(new Set(names).size, names.length);
      for (const { name: n, value: v } of r.oack) {
        assert.ok(req.some((q) => q.name === n), `${n} was requested`);
        const num = Number(v);
        if (n === 'blksize') assert.ok(num >= 8 && num <= 1468);
        if (n === 'timeout') assert.ok(num >= 1 && num <= 255);
        if (n === 'windowsize') assert.ok(num >= 1 && num <= 64);
        if (n === 'tsize') assert.equal(num, size);
        if (n === 'tsize') assert.ok(size > 0);
      }
    }),
    { numRuns: 1000 },
  );
});
