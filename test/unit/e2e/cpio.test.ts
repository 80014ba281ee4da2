// The initramfs writer: what it produces must read back, entry for entry, in the newc layout the
// kernel unpacks (read here by an independent parser), and GNU cpio must list it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { writeCpio } from '../../e2e/lib/cpio.ts';
import type { CpioEntry } from '../../e2e/lib/cpio.ts';

interface Read {
  name: string;
  mode: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
}

/** A straightforward newc reader: 110-byte ASCII header, name, pad to 4, data, pad to 4. */
function readNewc(buf: Buffer): Read[] {
  const out: Read[] = [];
  let at = 0;
  for (;;) {
    assert.equal(buf.toString('ascii', at, at + 6), '070701', `magic at ${at}`);
    const field = (i: number): number => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', at + 110, at + 110 + nameSize - 1);
    assert.equal(buf[at + 110 + nameSize - 1], 0, 'name is NUL-terminated');
    let p = at + 110 + nameSize;
    p += (4 - (p % 4)) % 4;
    const data = buf.subarray(p, p + size);
    p += size;
    p += (4 - (p % 4)) % 4;
    if (name === 'TRAILER!!!') {
      assert.equal(p, buf.length, 'nothing after the trailer');
      return out;
    }
    out.push({ name, mode, rdevMajor: field(9), rdevMinor: field(10), data: Buffer.from(data) });
    at = p;
  }
}

test('the archive reads back: names, types, permissions, contents, device numbers', () => {
  const entries: CpioEntry[] = [
    { name: 'bin', kind: 'dir', mode: 0o755 },
    { name: 'bin/busybox', kind: 'file', mode: 0o755, data: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]) },
    { name: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'busybox' },
    { name: 'dev/console', kind: 'chardev', mode: 0o600, rdev: [5, 1] },
    { name: 'init', kind: 'file', mode: 0o755, data: '#!/bin/sh\necho hi\n' },
  ];
  const back = readNewc(writeCpio(entries));
  assert.deepEqual(
    back.map((e) => [e.name, e.mode.toString(8), e.data.toString('latin1'), e.rdevMajor, e.rdevMinor]),
    [
      ['bin', '40755', '', 0, 0],
      ['bin/busybox', '100755', '\x7fELF\x01\x02\x03', 0, 0],
      ['bin/sh', '120777', 'busybox', 0, 0],
      ['dev/console', '20600', '', 5, 1],
      ['init', '100755', '#!/bin/sh\necho hi\n', 0, 0],
    ],
  );
});

test('any file names and contents survive (property)', () => {
  const entry = fc.record({
    name: fc.stringMatching(/^[a-z0-9._-]{1,20}(\/[a-z0-9._-]{1,20}){0,2}$/),
    data: fc.uint8Array({ maxLength: 300 }),
    mode: fc.integer({ min: 0, max: 0o777 }),
  });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 8 }), (es) => {
      const back = readNewc(writeCpio(es.map((e) => ({ name: e.name, kind: 'file' as const, mode: e.mode, data: Buffer.from(e.data) }))));
      assert.deepEqual(back.map((b) => [b.name, b.mode, [...b.data]]), es.map((e) => [e.name, 0o100000 | e.mode, [...e.data]]));
    }),
  );
});

test('an absolute or empty name is refused', () => {
  assert.throws(() => writeCpio([{ name: '/init', kind: 'file', mode: 0o755, data: '' }]), /relative/);
  assert.throws(() => writeCpio([{ name: '', kind: 'dir', mode: 0o755 }]), /relative/);
});

test('GNU cpio lists the archive', () => {
  const probe = spawnSync('cpio', ['--version'], { encoding: 'utf8' });
  assert.equal(probe.error, undefined, 'cpio is missing: apt-get install cpio');
  const archive = writeCpio([
    { name: 'bin', kind: 'dir', mode: 0o755 },
    { name: 'bin/busybox', kind: 'file', mode: 0o755, data: 'x' },
    { name: 'init', kind: 'file', mode: 0o755, data: '#!/bin/sh\n' },
  ]);
  const r = spawnSync('cpio', ['-it', '--quiet'], { input: archive, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['bin', 'bin/busybox', 'init']);
});
