import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeRequestTarget, isHiddenOrBackup, percentDecodeOnce } from '../../../src/http/request-path.ts';
import { contentTypeFor } from '../../../src/http/content-type.ts';

const status = (t: string) => {
  const r = decodeRequestTarget(t);
  return r.ok ? r.path : r.status;
};

test('plain targets map to root-relative paths; the query is ignored; escapes are decoded once', () => {
  assert.equal(status('/ipxe.efi'), 'ipxe.efi');
  assert.equal(status('/images/debian/linux?mac=52:54:00:12:34:56'), 'images/debian/linux');
  assert.equal(status('/a%20b.txt'), 'a b.txt');
  assert.equal(status('/caf%C3%A9'), 'café');
  assert.equal(status('/caf\xc3\xa9'), 'café'); // raw UTF-8 octets as Node's parser hands them over
});

test('H01: traversal, raw or percent-encoded, is 400', () => {
  for (const t of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/a/../../b', '/a/./b', '/%2E%2E']) assert.equal(status(t), 400, t);
});

test('H02: double encoding is decoded once only, so it names a literal (missing) file', () => {
  assert.equal(status('/%252e%252e%252fetc%252fpasswd'), '%2e%2e%2fetc%2fpasswd');
});

test('H03/H04/H05: backslashes, NUL and control bytes, malformed escapes, overlong and invalid UTF-8 are 400', () => {
  for (const t of ['/..\\..\\x', '/a%5c..%5cb', '/a%00b', '/a\x00b', '/a%0ab', '/a%7f', '/%c0%ae%c0%ae/etc/passwd', '/%e0%80%ae', '/%ff', '/\xff', '/%zz', '/abc%', '/abc%4']) {
    assert.equal(status(t), 400, JSON.stringify(t));
  }
});

test('H07: absolute-form, asterisk-form and "//" targets are 400', () => {
  for (const t of ['http://evil/x', '//etc/passwd', '*', '', '/%2fetc/passwd', 'x']) assert.equal(status(t), 400, t);
});

test('H08/H10: dotfiles, backups and directory URLs are 404 like a missing file', () => {
  for (const t of ['/.git/config', '/.env', '/x~', '/a/.swp', '/grub.cfg.swp', '/boot.ipxe.bak', '/a/#x#', '/', '/images/', '/a.dpkg-old']) assert.equal(status(t), 404, t);
  assert.equal(isHiddenOrBackup('images/debian/initrd.gz'), false);
});

test('H09: a target longer than 4 KiB is 414', () => {
  assert.equal(status('/' + 'a'.repeat(65536)), 414);
  assert.equal(status('/' + 'a'.repeat(4000)), 'a'.repeat(4000));
});

test('property: an accepted path never contains "..", a control byte or a backslash, and never starts with /', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30, unit: fc.constantFrom('/', '.', '%', '2', 'e', 'f', '5', 'c', '0', 'a', '\\', '\x00', 'é') }), (s) => {
      const r = decodeRequestTarget('/' + s);
      if (!r.ok) return;
      assert.ok(!r.path.startsWith('/'));
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\x00-\x1f\x7f\\]/.test(r.path));
      for (const c of r.path.split('/')) assert.ok(c !== '..' && c !== '.' && c !== '');
    }),
    { numRuns: 3000 },
  );
  assert.equal(percentDecodeOnce('%41%42'), 'AB');
});

test('content types: application/efi for EFI images, text for scripts and configs, octets otherwise', () => {
  assert.equal(contentTypeFor('ipxe.efi'), 'application/efi');
  assert.equal(contentTypeFor('EFI/BOOT/BOOTX64.EFI'), 'application/efi');
  for (const p of ['boot.ipxe', 'grub/grub.cfg', 'readme.txt', 'pxelinux.cfg/default.cfg']) assert.equal(contentTypeFor(p), 'text/plain; charset=utf-8', p);
  for (const p of ['images/debian/linux', 'initrd.gz', 'vmlinuz', 'pxelinux.0', 'x.constructor', '.hidden', 'index.html']) assert.equal(contentTypeFor(p), 'application/octet-stream', p);
});
