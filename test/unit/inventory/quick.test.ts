// Quick mode's profile and files: served by name through the generated-file registry, without
// copying them into the boot root and without opening their directories to clients.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { publishQuickFiles, quickSetup } from '../../../src/inventory/quick.ts';
import { isInventoryError } from '../../../src/inventory/errors.ts';
import { InventoryService } from '../../../src/inventory/service.ts';
import { freshStore } from './helpers.ts';
import { planRecord } from '../../../src/boot/planner.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-quick-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('quick mode', () => {
  it('builds a linux profile whose kernel and initrds are published names under quick/', () => {
    const q = quickSetup({ kernel: '/boot/vmlinuz-6.1.0-28-amd64', initrds: ['/home/me/initrd.img', '/tmp/other/initrd.img'], cmdline: 'console=ttyS0' });
    assert.deepEqual(q.profile.spec, { description: 'quick mode: vmlinuz-6.1.0-28-amd64', kind: 'linux', kernel: 'quick/vmlinuz-6.1.0-28-amd64', initrd: ['quick/initrd.img', 'quick/2-initrd.img'], cmdline: 'console=ttyS0' });
    assert.deepEqual(q.files.map((f) => f.source), ['/boot/vmlinuz-6.1.0-28-amd64', '/home/me/initrd.img', '/tmp/other/initrd.img']);
  });

  it('the files are served by their published names only; the boot root stays untouched', async () => {
    const root = path.join(dir, 'root');
    const outside = path.join(dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'vmlinuz'), 'KERNEL');
    writeFileSync(path.join(outside, 'initrd.gz'), 'INITRD');
    writeFileSync(path.join(outside, 'secret'), 'SECRET');
    const q = quickSetup({ kernel: path.join(outside, 'vmlinuz'), initrds: [path.join(outside, 'initrd.gz')] });
    const registry = new GeneratedFiles();
    assert.equal(publishQuickFiles(q.files, registry), 12);
    const resolver = new FileResolver({ root, registry });
    const k = await resolver.open('quick/vmlinuz');
    assert.equal((await k.read(0, 100)).toString(), 'KERNEL');
    assert.equal((await (await resolver.open('/quick/initrd.gz')).read(0, 100)).toString(), 'INITRD');
    await assert.rejects(resolver.open('quick/secret'), (err: unknown) => (err as { code?: string }).code === 'BH_FILES_NOT_FOUND');
    await assert.rejects(resolver.open('../outside/secret'));
    assert.deepEqual(readdirSync(root), []);
  });

  it('a missing or non-regular file is named, with BH_INV_QUICK_FILE', () => {
    const q = quickSetup({ kernel: path.join(dir, 'nope'), initrds: [] });
    assert.throws(() => publishQuickFiles(q.files, new GeneratedFiles()), (err: unknown) => isInventoryError(err, 'BH_INV_QUICK_FILE') && err.message.includes(path.join(dir, 'nope')) && /ENOENT/.test(err.message));
    const d = quickSetup({ kernel: dir, initrds: [] });
    assert.throws(() => publishQuickFiles(d.files, new GeneratedFiles()), (err: unknown) => isInventoryError(err, 'BH_INV_QUICK_FILE'));
  });

  it('is the default profile of every host the inventory gives none (unless the inventory sets a default)', async () => {
    const store = await freshStore();
    const q = quickSetup({ kernel: '/boot/vmlinuz', initrds: [] });
    const inv = new InventoryService({ store, builtinDefault: q.profile });
    await inv.createHost({ macs: ['52:54:00:aa:00:01'] });
    const e = planRecord(await inv.effectiveBoot('52:54:00:aa:00:01'));
    assert.deepEqual([e.action, e.profile?.name, e.profile?.source], ['boot', 'quick', 'default']);
    assert.equal((await inv.defaultProfile())?.spec.kernel, 'quick/vmlinuz');
  });
});
