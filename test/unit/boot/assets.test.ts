// Boot-loader assets: found in the assets dir first, then at Debian's paths; missing ones name
// their package; served under stable names from memory, unless the boot root has its own file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ASSETS, findAssets, installHint, publishAssets, sha256File } from '../../../src/boot/assets.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { formatAssets } from '../../../src/cli/assets.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-assets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function put(p: string, content: string): void {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
}

describe('findAssets', () => {
  const sys = path.join(dir, 'sys');
  const assetsDir = path.join(dir, 'assets');
  put(path.join(sys, 'usr/lib/ipxe/undionly.kpxe'), 'debian undionly');
  put(path.join(sys, 'usr/lib/ipxe/snponly.efi'), 'debian snponly');
  put(path.join(sys, 'usr/lib/shim/shimx64.efi.signed'), 'signed shim');
  put(path.join(assetsDir, 'snponly.efi'), 'my snponly');
  mkdirSync(path.join(assetsDir, 'ipxe.efi')); // a directory is not an asset

  it('prefers the assets dir, then Debian paths, and names the package of each missing loader', () => {
    const found = findAssets({ assetsDir, systemRoot: sys });
    const by = new Map(found.map((f) => [f.name, f]));
    assert.equal(by.get('snponly.efi')?.source, 'assets_dir');
    assert.equal(by.get('snponly.efi')?.path, path.join(assetsDir, 'snponly.efi'));
    assert.equal(by.get('undionly.kpxe')?.source, 'debian');
    assert.equal(by.get('shimx64.efi')?.path, path.join(sys, 'usr/lib/shim/shimx64.efi.signed'));
    assert.equal(by.get('ipxe.efi')?.source, 'missing');
    assert.equal(by.get('grubx64.efi')?.package, 'grub-efi-amd64-signed');
    assert.equal(installHint(found), 'apt-get install ipxe grub-efi-amd64-signed pxelinux syslinux-common');
    assert.equal(found.length, ASSETS.length);
  });

  it('hashes with SHA-256', async () => {
    assert.equal(await sha256File(path.join(assetsDir, 'snponly.efi')), createHash('sha256').update('my snponly').digest('hex'));
  });

  it('serves found loaders under stable names through the resolver; the boot root wins; nothing is copied', async () => {
    const root = path.join(dir, 'root');
    put(path.join(root, 'undionly.kpxe'), 'operator build');
    const reg = new GeneratedFiles();
    const r = publishAssets(findAssets({ assetsDir, systemRoot: sys }), reg, root);
    assert.deepEqual(r.fromBootRoot, ['undionly.kpxe']);
    assert.deepEqual(r.published.sort(), ['shimx64.efi', 'snponly.efi']);
    assert.ok(r.missing.includes('grubx64.efi'));
    const resolver = new FileResolver({ root, registry: reg });
    assert.equal((await resolver.open('/shimx64.efi')).data?.toString(), 'signed shim');
    assert.equal((await resolver.open('snponly.efi')).data?.toString(), 'my snponly');
    assert.equal((await resolver.open('undionly.kpxe')).data?.toString(), 'operator build');
    // The root jail still holds: a symlink out of the root is refused even though assets live outside.
    symlinkSync(path.join(sys, 'usr/lib/ipxe/snponly.efi'), path.join(root, 'escape.efi'));
    await assert.rejects(resolver.open('escape.efi'));
  });
});

describe('bootherd assets output', () => {
  it('names the apt package of a missing loader and the install command', () => {
    const sys = path.join(dir, 'empty-sys');
    mkdirSync(sys, { recursive: true });
    const found = findAssets({ systemRoot: sys });
    const rows = found.map((f) => ({ name: f.name, status: f.source === 'missing' ? 'missing' : 'found', path: f.path ?? null, sha256: null, purpose: f.purpose, package: f.package }));
    const text = formatAssets(rows, installHint(found));
    assert.match(text, /^shimx64\.efi {2}MISSING {2}install the Debian package shim-signed {2}\(Secure Boot first stage/m);
    assert.match(text, /^missing loaders: apt-get install ipxe shim-signed grub-efi-amd64-signed pxelinux syslinux-common$/m);
  });
});
