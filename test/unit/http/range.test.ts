import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRange } from '../../../src/http/range.ts';

test('single ranges: first-last, open-ended, suffix, clamped end', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=50-1000', 100), { kind: 'partial', start: 50, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('BYTES = 1 - 2', 100), { kind: 'partial', start: 1, end: 2 });
  assert.deepEqual(parseRange('bytes=99-99', 100), { kind: 'partial', start: 99, end: 99 });
});

test('unsatisfiable: start at or past the end, last before first, empty suffix, empty file', () => {
  for (const h of ['bytes=100-', 'bytes=100-200', 'bytes=5-1', 'bytes=-0', 'bytes=99999999999999999999-']) {
    assert.deepEqual(parseRange(h, 100), { kind: 'unsatisfiable' }, h);
  }
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
});

test('H14: overflow-sized numbers stay in safe arithmetic (nginx CVE-2017-7529 class)', () => {
  assert.deepEqual(parseRange('bytes=-9223372036854775807', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=0-18446744073709551616', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=000000000000000000000000005-6', 100), { kind: 'partial', start: 5, end: 6 });
});

test('H14: several ranges, other units and syntax errors get the whole file, with no work per range', () => {
  const many = 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i}-${i + 10}`).join(',');
  const cases = ['bytes=-1,-9223372036854775807', 'bytes=0-,0-,0-', many, 'items=0-5', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=1-2-3', 'bytes 0-5', '', 'bytes=0x10-'];
  for (const h of cases) assert.deepEqual(parseRange(h, 100), { kind: 'full' }, h.slice(0, 40));
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
});

test('property: a partial range always lies inside the file and never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('b', 'y', 't', 'e', 's', '=', '-', ',', ' ', '0', '1', '9') }), fc.nat(1 << 30), (h, size) => {
      const r = parseRange(h, size);
      if (r.kind === 'partial') {
        assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end));
        assert.ok(r.start >= 0 && r.start <= r.end && r.end < size, `${h} ${size} ${JSON.stringify(r)}`);
      }
    }),
    { numRuns: 3000 },
  );
});
