// The resolver's verified-name window (verifyTtlMs): names that passed every check are trusted for
// a while without realpath/lstat, but nothing outside the root is ever served through it, and
// FIFOs or devices swapped in are never opened as files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError } from '../../../src/files/errors.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import type { OpenFile } from '../../../src/files/resolver.ts';

let dir: string;
let root: string;
let outside: string;
const SENTINEL = 'OUTSIDE-SENTINEL-' + Math.random().toString(36).slice(2);
const BIG_SENTINEL = Buffer.from(SENTINEL.repeat(100));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bh-files-verified-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'SENTINEL.txt'), SENTINEL);
  writeFileSync(join(outside, 'big.bin'), BIG_SENTINEL);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function content(r: FileResolver, name: string): Promise<string | FileError> {
  let f: OpenFile;
  try {
    f = await r.open(name);
  } catch (err) {
    assert.ok(err instanceof FileError, `only FileErrors: ${String(err)}`);
    return err;
  }
  try {
    return (await f.read(0, 1 << 20)).toString();
  } finally {
    await f.close();
  }
}

test('a symlink swapped to point outside after a first request is never served: old content inside the window, refused after it', async () => {
  const c = clock();
  const r = new FileResolver({ root, verifyTtlMs: 1000, now: c.now });
  writeFileSync(join(root, 'kernel-a'), 'kernel A');
  symlinkSync('kernel-a', join(root, 'current'));
  assert.equal(await content(r, 'current'), 'kernel A');

  unlinkSync(join(root, 'current'));
  symlinkSync('../outside/SENTINEL.txt', join(root, 'current'));
  const within = await content(r, 'current');
  assert.notEqual(within, SENTINEL);
  assert.ok(within === 'kernel A' || (within instanceof FileError && within.publicMessage === 'Access violation'));

  c.advance(1000);
  const later = await content(r, 'current');
  assert.ok(later instanceof FileError, 'refused once the window is over');
  assert.equal(later.publicMessage, 'Access violation');
});

test('files read from disk (not cached) are re-verified on every open: a directory swapped for a symlink out is refused at once', async () => {
  const c = clock();
  const r = new FileResolver({ root, verifyTtlMs: 60_000, now: c.now, cacheMaxFileBytes: 16 });
  mkdirSync(join(root, 'images'));
  writeFileSync(join(root, 'images', 'big.bin'), Buffer.alloc(BIG_SENTINEL.length, 0x41));
  assert.equal(await content(r, 'images/big.bin'), 'A'.repeat(BIG_SENTINEL.length));

  renameSync(join(root, 'images'), join(root, 'images.old'));
  symlinkSync('../outside', join(root, 'images'));
  const within = await content(r, 'images/big.bin');
  assert.ok(within instanceof FileError, 'refused inside the window too');
  assert.equal(within.publicMessage, 'Access violation');
  assert.ok(!within.message.includes(dir), 'no server path in the message');
});

test('a FIFO or a device put in place of a verified large file is refused without hanging', async () => {
  const c = clock();
  const r = new FileResolver({ root, verifyTtlMs: 60_000, now: c.now, cacheMaxFileBytes: 16 });
  for (const [name, swap] of [
    ['fifo-later.bin', (p: string) => execFileSync('mkfifo', [p])],
    ['zero-later.bin', (p: string) => symlinkSync('/dev/zero', p)],
  ] as const) {
    const p = join(root, name);
    writeFileSync(p, Buffer.alloc(64, 0x42));
    assert.equal(await content(r, name), 'B'.repeat(64));
    unlinkSync(p);
    swap(p);
    const e = await content(r, name);
    assert.ok(e instanceof FileError, name);
    assert.equal(e.publicMessage, 'Access violation', name);
  }
});

test('inside the window a hot file is answered from memory; after it, a removed file is not found', async () => {
  const c = clock();
  const r = new FileResolver({ root, verifyTtlMs: 500, now: c.now });
  const p = join(root, 'menu.ipxe');
  writeFileSync(p, '#!ipxe\n');
  assert.equal(await content(r, 'menu.ipxe'), '#!ipxe\n');
  unlinkSync(p);
  assert.equal(await content(r, 'menu.ipxe'), '#!ipxe\n', 'the documented window: the content read through the verified descriptor');
  c.advance(500);
  const e = await content(r, 'menu.ipxe');
  assert.ok(e instanceof FileError);
  assert.equal(e.publicMessage, 'File not found');
});

test('a replaced large file is served new after an atomic rename inside the window, not refused', async () => {
  const c = clock();
  const r = new FileResolver({ root, verifyTtlMs: 60_000, now: c.now, cacheMaxFileBytes: 16 });
  const p = join(root, 'initrd.img');
  writeFileSync(p, Buffer.alloc(100, 0x31));
  assert.equal(await content(r, 'initrd.img'), '1'.repeat(100));
  writeFileSync(`${p}.new`, Buffer.alloc(100, 0x32));
  renameSync(`${p}.new`, p);
  assert.equal(await content(r, 'initrd.img'), '2'.repeat(100));
});

test('without verifyTtlMs every open checks the path again (the default)', async () => {
  const r = new FileResolver({ root });
  writeFileSync(join(root, 'kernel-b'), 'kernel B');
  symlinkSync('kernel-b', join(root, 'current-b'));
  assert.equal(await content(r, 'current-b'), 'kernel B');
  unlinkSync(join(root, 'current-b'));
  symlinkSync('../outside/SENTINEL.txt', join(root, 'current-b'));
  const e = await content(r, 'current-b');
  assert.ok(e instanceof FileError);
  assert.equal(e.publicMessage, 'Access violation');
});
