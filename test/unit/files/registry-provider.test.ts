// The generated-file registry's on-request providers (per-host boot configs rendered when asked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { FileResolver } from '../../../src/files/resolver.ts';

test('a provider answers paths under its prefix; published files win; removal works', async () => {
  const reg = new GeneratedFiles();
  const asked: string[] = [];
  const remove = reg.provide('pxelinux.cfg/', (p) => {
    asked.push(p);
    return p.startsWith('pxelinux.cfg/01-') ? { data: Buffer.from(`for ${p}`) } : undefined;
  });
  assert.equal(reg.get('pxelinux.cfg/01-52-54-00-12-34-56')?.data.toString(), 'for pxelinux.cfg/01-52-54-00-12-34-56');
  assert.equal(reg.get('pxelinux.cfg/C0A80001'), undefined);
  assert.equal(reg.get('other/01-x'), undefined);
  assert.deepEqual(asked, ['pxelinux.cfg/01-52-54-00-12-34-56', 'pxelinux.cfg/C0A80001']);
  reg.publish('pxelinux.cfg/01-aa-aa-aa-aa-aa-aa', 'published');
  assert.equal(reg.get('pxelinux.cfg/01-aa-aa-aa-aa-aa-aa')?.data.toString(), 'published');
  remove();
  assert.equal(reg.get('pxelinux.cfg/01-52-54-00-12-34-56'), undefined);
});

test('a throwing provider is skipped, and the resolver serves provider content through its root jail rules', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'bh-reg-'));
  try {
    writeFileSync(path.join(root, 'disk.txt'), 'on disk');
    const reg = new GeneratedFiles();
    reg.provide('grub/', () => {
      throw new Error('bug');
    });
    reg.provide('grub/', (p) => (p === 'grub/grub.cfg' ? { data: Buffer.from('cfg') } : undefined));
    const r = new FileResolver({ root, registry: reg });
    const f = await r.open('/grub/grub.cfg');
    assert.equal(f.generated, true);
    assert.equal(f.data?.toString(), 'cfg');
    await assert.rejects(r.open('grub/../../etc/passwd'));
    assert.equal((await r.open('disk.txt')).generated, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
