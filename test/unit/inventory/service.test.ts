// The inventory service on a real SQLite store in a temporary directory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryService } from '../../../src/inventory/service.ts';
import { isInventoryError } from '../../../src/inventory/errors.ts';
import { freshStore } from './helpers.ts';
import { planRecord } from '../../../src/boot/planner.ts';

async function service(builtin?: ConstructorParameters<typeof InventoryService>[0]['builtinDefault']) {
  const store = await freshStore();
  return { store, inv: new InventoryService({ store, ...(builtin ? { builtinDefault: builtin } : {}) }) };
}

describe('inventory service', () => {
  it('stores MACs and UUIDs canonically and finds a host by any of them, or by hostname', async () => {
    const { inv, store } = await service();
    const h = await inv.createHost({ macs: ['52-54-00-AA-00-01', '5254.00aa.0002'], hostname: 'node1', uuid: '{4C4C4544-0042-3510-8051-C7C04F4A4D32}' });
    assert.deepEqual(h.macs, ['52:54:00:aa:00:01', '52:54:00:aa:00:02']);
    assert.equal(h.uuid, '4c4c4544-0042-3510-8051-c7c04f4a4d32');
    assert.equal(h.state, 'active');
    assert.deepEqual((await store.hosts.findByMac('52:54:00:aa:00:02'))?.macs, h.macs);
    for (const ref of ['52:54:00:AA:00:02', '4c4c4544-0042-3510-8051-c7c04f4a4d32', 'node1', h.id]) assert.equal((await inv.getHost(ref)).id, h.id, ref);
    await assert.rejects(inv.getHost('node2'), (err: unknown) => isInventoryError(err, 'BH_INV_NOT_FOUND') && /hosts list/.test(err.hint));
  });

  it('a MAC or UUID that another host has is refused, naming that host', async () => {
    const { inv } = await service();
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], hostname: 'node1', uuid: '4c4c4544-0042-3510-8051-c7c04f4a4d32' });
    await assert.rejects(inv.createHost({ macs: ['52:54:00:AA:00:01'] }), (err: unknown) => isInventoryError(err, 'BH_INV_CONFLICT') && /host node1/.test(err.message) && /--remove-mac 52:54:00:aa:00:01/.test(err.hint));
    await assert.rejects(inv.createHost({ macs: ['52:54:00:aa:00:09'], uuid: '4C4C4544-0042-3510-8051-C7C04F4A4D32' }), (err: unknown) => isInventoryError(err, 'BH_INV_CONFLICT') && /node1/.test(err.message));
  });

  it('approve turns a pending host active; forbidden transitions are refused', async () => {
    const { inv } = await service();
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], state: 'pending' });
    assert.equal((await inv.approveHost('52:54:00:aa:00:01')).state, 'active');
    await inv.updateHost('52:54:00:aa:00:01', { state: 'local' });
    await assert.rejects(inv.updateHost('52:54:00:aa:00:01', { state: 'pending' }), (err: unknown) => isInventoryError(err, 'BH_INV_TRANSITION'));
    await assert.rejects(inv.approveHost('52:54:00:aa:00:01'), (err: unknown) => isInventoryError(err, 'BH_INV_TRANSITION'));
    assert.equal((await inv.getHost('52:54:00:aa:00:01')).state, 'local');
  });

  it('set adds and removes MACs and labels; a host is never left without a MAC', async () => {
    const { inv } = await service();
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], labels: { rack: 'r1', role: 'db' } });
    const h = await inv.updateHost('52:54:00:aa:00:01', { addMacs: ['52:54:00:aa:00:02'], removeMacs: ['52:54:00:aa:00:01'], setLabels: { rack: 'r2' }, unsetLabels: ['role'] });
    assert.deepEqual(h.macs, ['52:54:00:aa:00:02']);
    assert.deepEqual(h.labels, { rack: 'r2' });
    await assert.rejects(inv.updateHost('52:54:00:aa:00:02', { removeMacs: ['52:54:00:aa:00:02'] }), (err: unknown) => isInventoryError(err, 'BH_INV_BAD_MAC') && /without a MAC/.test(err.message));
  });

  it('effective profile: the host\'s own, else its group\'s, else the default, else the built-in one', async () => {
    const builtin = { name: 'quick', spec: { kind: 'linux' as const, kernel: 'quick/vmlinuz' } };
    const { inv } = await service(builtin);
    await inv.createProfile('debian', { kind: 'linux', kernel: 'debian/vmlinuz' });
    await inv.createProfile('rescue', { kind: 'linux', kernel: 'rescue/vmlinuz' });
    await inv.createProfile('disk', { kind: 'local' });
    await inv.createGroup({ name: 'workers', profile: 'debian' });
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], group: 'workers', profile: 'rescue' });
    await inv.createHost({ macs: ['52:54:00:aa:00:02'], group: 'workers' });
    await inv.createHost({ macs: ['52:54:00:aa:00:03'] });
    const pick = async (mac: string) => {
      const e = planRecord(await inv.effectiveBoot(mac));
      return `${e.action}:${e.profile?.name ?? '-'}:${e.profile?.source ?? 'none'}`;
    };
    assert.equal(await pick('52:54:00:aa:00:01'), 'boot:rescue:host');
    assert.equal(await pick('52:54:00:aa:00:02'), 'boot:debian:group');
    assert.equal(await pick('52:54:00:aa:00:03'), 'boot:quick:default');
    await inv.setDefaultProfile('disk');
    // The default profile `disk` is kind local: the host boots from its disk, as the servers do.
    assert.equal(await pick('52:54:00:aa:00:03'), 'local:disk:default');
    await inv.updateHost('52:54:00:aa:00:02', { state: 'local' });
    assert.equal(await pick('52:54:00:aa:00:02'), 'local:debian:group');
    await inv.updateHost('52:54:00:aa:00:01', { state: 'disabled' });
    assert.equal(await pick('52:54:00:aa:00:01'), 'ignore:rescue:host');
  });

  it('a profile in use is not deleted without force; with force its users fall back', async () => {
    const { inv } = await service();
    await inv.createProfile('debian', { kind: 'linux', kernel: 'debian/vmlinuz' });
    await inv.createProfile('boot-menu', { kind: 'menu', menu: { items: [{ label: 'Debian', profile: 'debian' }] } });
    await inv.createGroup({ name: 'workers', profile: 'debian' });
    await inv.setDefaultProfile('debian');
    await assert.rejects(inv.deleteProfile('debian'), (err: unknown) => isInventoryError(err, 'BH_INV_IN_USE') && /group workers/.test(err.message) && /boot-menu/.test(err.message) && /--force/.test(err.hint));
    await inv.deleteProfile('debian', { force: true });
    assert.equal((await inv.getGroup('workers')).profile, null);
    assert.equal(await inv.getDefaultProfile(), null);
  });

  it('a menu may only list profiles that exist; names and labels are checked', async () => {
    const { inv } = await service();
    await assert.rejects(inv.createProfile('m', { kind: 'menu', menu: { items: [{ label: 'X', profile: 'nope' }] } }), (err: unknown) => isInventoryError(err, 'BH_INV_INVALID_PROFILE') && /nope/.test(err.message));
    await assert.rejects(inv.createProfile('bad name', { kind: 'local' }), (err: unknown) => isInventoryError(err, 'BH_INV_INVALID_PROFILE'));
    await assert.rejects(inv.createGroup({ name: 'g', labels: { 'bad key!': 'x' } }), (err: unknown) => isInventoryError(err, 'BH_INV_INVALID_HOST') && /label key/.test(err.message));
    await assert.rejects(inv.createHost({ macs: ['52:54:00:aa:00:01'], group: 'nope' }), (err: unknown) => isInventoryError(err, 'BH_INV_NOT_FOUND') && /groups list/.test(err.hint));
  });

  it('a group with hosts is not deleted without force', async () => {
    const { inv } = await service();
    await inv.createGroup({ name: 'workers' });
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], hostname: 'w1', group: 'workers' });
    await assert.rejects(inv.deleteGroup('workers'), (err: unknown) => isInventoryError(err, 'BH_INV_IN_USE') && /w1/.test(err.message));
    await inv.deleteGroup('workers', { force: true });
    assert.equal((await inv.getHost('w1')).group, null);
  });

  it('two hosts with the same hostname: naming one by hostname is ambiguous', async () => {
    const { inv } = await service();
    await inv.createHost({ macs: ['52:54:00:aa:00:01'], hostname: 'twin' });
    await inv.createHost({ macs: ['52:54:00:aa:00:02'], hostname: 'twin' });
    await assert.rejects(inv.getHost('twin'), (err: unknown) => isInventoryError(err, 'BH_INV_AMBIGUOUS') && /52:54:00:aa:00:01/.test(err.hint));
  });
});
