import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileError } from '../../../src/files/errors.ts';
import { normalizeRequestPath } from '../../../src/files/paths.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { applyRemap, DEFAULT_TFTP_REMAP } from '../../../src/files/remap.ts';
import { FileResolver } from '../../../src/files/resolver.ts';

let dir: string;
let root: string;
const SENTINEL = 'OUTSIDE-SENTINEL-' + Math.random().toString(36).slice(2);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bh-files-'));
  root = join(dir, 'root');
  mkdirSync(join(root, 'subdir'), { recursive: true });
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'SENTINEL.txt'), SENTINEL);
  writeFileSync(join(root, 'hello.txt'), 'hello');
  writeFileSync(join(root, 'subdir', 'inner.txt'), 'inner');
  symlinkSync('../outside/SENTINEL.txt', join(root, 'escape-link'));
  symlinkSync('../outside', join(root, 'dirlink'));
  symlinkSync('/dev/zero', join(root, 'devzero'));
  symlinkSync('hello.txt', join(root, 'inside-link'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  writeFileSync(join(root, 'secret0600.txt'), SENTINEL);
  chmodSync(join(root, 'secret0600.txt'), 0o600);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('normalisation: one leading slash is the root; traversal, absolute paths and control bytes are refused', () => {
  const ok: [string, string][] = [
    ['pxelinux.0', 'pxelinux.0'],
    ['/grub/grub.cfg', 'grub/grub.cfg'],
    ['pxelinux.cfg/01-52-54-00-12-34-56', 'pxelinux.cfg/01-52-54-00-12-34-56'],
    ['．．／x', '．．／x'],
  ];
  for (const [inp, out] of ok) assert.deepEqual(normalizeRequestPath(inp), { ok: true, path: out }, inp);
  const refused = ['', '/', '.', '..', '../x', '/../etc/passwd', '//etc//passwd', 'foo/../../', 'a/./b', 'subdir/', 'a//b', '..\\..\\x', 'a\x00b', 'a\nb', 'a\x01', 'a\x7f', '/'.padEnd(1100, 'a'), 'x/' + 'y'.repeat(300)];
  for (const inp of refused) {
    const r = normalizeRequestPath(inp);
    assert.equal(r.ok, false, JSON.stringify(inp));
    if (!r.ok) assert.equal(r.error.publicMessage, 'Access violation');
  }
});

test('property: a normalised path never contains "..", "." or an empty component and never starts with /', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60, unit: fc.constantFrom('a', '.', '/', '\\', '\x00', 'é') }), (s) => {
      const r = normalizeRequestPath(s);
      if (!r.ok) return;
      assert.ok(!r.path.startsWith('/'));
      for (const c of r.path.split('/')) assert.ok(c !== '' && c !== '.' && c !== '..');
    }),
    { numRuns: 2000 },
  );
});

test('backslash remapping turns Windows paths into slashes, which are then validated', () => {
  assert.equal(applyRemap('\\Boot\\x64\\wdsnbp.com', DEFAULT_TFTP_REMAP), '/Boot/x64/wdsnbp.com');
  assert.equal(normalizeRequestPath(applyRemap('..\\..\\etc\\passwd', DEFAULT_TFTP_REMAP)).ok, false);
});

async function refusal(r: FileResolver, name: string): Promise<FileError> {
  try {
    const f = await r.open(name);
    await f.close();
  } catch (err) {
    assert.ok(err instanceof FileError, `${name}: a FileError`);
    return err;
  }
  assert.fail(`${name} was served`);
}

test('regular files and symlinks that stay inside the root are served', async () => {
  const r = new FileResolver({ root });
  for (const [name, content] of [['hello.txt', 'hello'], ['/subdir/inner.txt', 'inner'], ['inside-link', 'hello']] as const) {
    const f = await r.open(name);
    assert.equal(f.size, content.length);
    assert.equal((await f.read(0, 100)).toString(), content);
    await f.close();
  }
});

test('symlinks out of the root, directories, FIFOs, devices and private files are refused with fixed messages (T13, T14)', async () => {
  const r = new FileResolver({ root });
  const cases: [string, string][] = [
    ['escape-link', 'Access violation'],
    ['dirlink/SENTINEL.txt', 'Access violation'],
    ['devzero', 'Access violation'],
    ['fifo', 'Access violation'],
    ['secret0600.txt', 'Access violation'],
    ['subdir', 'Access violation'],
    ['subdir/', 'Access violation'],
    ['/', 'Access violation'],
    ['missing.bin', 'File not found'],
    ['/etc/passwd', 'File not found'],
    ['subdir/missing/x', 'File not found'],
  ];
  for (const [name, text] of cases) {
    const e = await refusal(r, name);
    assert.equal(e.publicMessage, text, name);
    assert.ok(!e.message.includes(dir), `${name}: no server path in the message`);
  }
});

test('files of the cache are invalidated when they change', async () => {
  const r = new FileResolver({ root });
  const p = join(root, 'changing.txt');
  writeFileSync(p, 'version one');
  assert.equal((await r.open('changing.txt')).data?.toString(), 'version one');
  assert.equal((await r.open('changing.txt')).data?.toString(), 'version one');
  assert.equal(r.cache.stats().hits, 1);
  writeFileSync(p, 'version two!');
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  assert.equal((await r.open('changing.txt')).data?.toString(), 'version two!');
});

test('the cache is bounded: large files are read from disk in ranges, the total stays under capacity', async () => {
  const r = new FileResolver({ root, cacheBytes: 100, cacheMaxFileBytes: 60 });
  writeFileSync(join(root, 'a50'), Buffer.alloc(50, 1));
  writeFileSync(join(root, 'b50'), Buffer.alloc(50, 2));
  writeFileSync(join(root, 'c50'), Buffer.alloc(50, 3));
  writeFileSync(join(root, 'big'), Buffer.from('0123456789'.repeat(10)));
  for (const n of ['a50', 'b50', 'c50']) await r.open(n);
  assert.ok(r.cache.stats().bytes <= 100);
  const big = await r.open('big');
  assert.equal(big.data, undefined);
  assert.equal((await big.read(95, 10)).toString(), '56789');
  await big.close();
});

test('generated files are served like files, ahead of disk, and their paths are validated', async () => {
  const reg = new GeneratedFiles();
  const r = new FileResolver({ root, registry: reg });
  reg.publish('/pxelinux.cfg/01-52-54-00-12-34-56', 'DEFAULT local\n');
  reg.publish('hello.txt', 'generated');
  const f = await r.open('pxelinux.cfg/01-52-54-00-12-34-56');
  assert.equal(f.data?.toString(), 'DEFAULT local\n');
  assert.equal(f.generated, true);
  assert.equal((await r.open('/hello.txt')).data?.toString(), 'generated');
  assert.throws(() => reg.publish('../x', 'no'), (e: unknown) => e instanceof FileError && e.code === 'BH_FILES_BAD_GENERATED_PATH');
  assert.equal(reg.unpublish('hello.txt'), true);
  assert.equal((await r.open('hello.txt')).data?.toString(), 'hello');
});

test('a missing root is a coded error that tells the operator what to fix', () => {
  assert.throws(() => new FileResolver({ root: join(dir, 'nope') }), (e: unknown) => e instanceof FileError && e.code === 'BH_FILES_BAD_ROOT');
});
