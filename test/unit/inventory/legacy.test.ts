// The config's deprecated reservations and dhcp.boot.groups: read as records, loaded into the
// inventory (created when absent, empty fields filled, the inventory winning where it differs),
// and printed as a fleet file that apply takes without a change after the import.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { importLegacy, legacyFleetYaml, legacyRecords } from '../../../src/inventory/legacy.ts';
import type { LegacyDhcpConfig } from '../../../src/inventory/legacy.ts';
import { InventoryService } from '../../../src/inventory/service.ts';
import { applyPlan, parseFleet, planFleet } from '../../../src/inventory/fleet.ts';
import { freshStore } from './helpers.ts';

const DHCP: LegacyDhcpConfig = {
  boot: { groups: { workers: { bootfiles: { 'uefi-x64': 'grubx64.efi' }, ntp_servers: ['198.18.0.123'] }, empty: {} } },
  subnets: [
    { reservations: [{ mac: '52-54-00-EE-00-01', ip: '198.18.0.10', hostname: 'node01', group: 'workers' }, { mac: '52:54:00:ee:00:02', ip: '198.18.0.11', bootfile: 'shimx64.efi', options: [{ code: 150, type: 'ip', value: '198.18.0.2' }] }] },
    { reservations: [{ mac: '52:54:00:ee:00:02', ip: '198.18.1.11' }] },
  ],
};

describe('config reservations and groups', () => {
  it('are read as records: canonical MACs, a MAC reserved twice taken once, option keys kept', () => {
    const r = legacyRecords(DHCP);
    assert.deepEqual(r.groups, [{ name: 'workers', bootfiles: { 'uefi-x64': 'grubx64.efi' }, ipxeScript: null, dhcp: { ntp_servers: ['198.18.0.123'] } }, { name: 'empty', bootfiles: null, ipxeScript: null, dhcp: null }]);
    assert.deepEqual(r.hosts.map((h) => [h.mac, h.ip, h.hostname, h.group, h.bootfile, h.dhcp]), [
      ['52:54:00:ee:00:01', '198.18.0.10', 'node01', 'workers', null, null],
      ['52:54:00:ee:00:02', '198.18.0.11', null, null, 'shimx64.efi', { options: [{ code: 150, type: 'ip', value: '198.18.0.2' }] }],
    ]);
  });

  it('are loaded into an empty inventory as new hosts and groups; loading again changes nothing', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    const first = await importLegacy(inv, legacyRecords(DHCP));
    assert.deepEqual([first.created, first.differences], [['group workers', 'group empty', 'host 52:54:00:ee:00:01', 'host 52:54:00:ee:00:02'], []]);
    const h = await inv.getHost('node01');
    assert.deepEqual([h.state, h.ip, h.group], ['new', '198.18.0.10', 'workers']);
    assert.deepEqual((await inv.getGroup('workers')).dhcp, { ntp_servers: ['198.18.0.123'] });
    assert.deepEqual(await importLegacy(inv, legacyRecords(DHCP)), { created: [], filled: [], differences: [] });
  });

  it('the inventory wins where it says something else, and each difference is named; what it leaves empty is filled', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    await inv.createGroup({ name: 'workers', bootfiles: { bios: 'pxelinux.0' } });
    // A machine the network saw (no reservation yet), and one the operator gave another address.
    await inv.createHost({ macs: ['52:54:00:ee:00:01'], state: 'new' });
    await inv.createHost({ macs: ['52:54:00:ee:00:02'], ip: '198.18.0.99', hostname: 'b' });
    await inv.createHost({ macs: ['52:54:00:ee:00:09'], ip: '198.18.0.77' });
    const r = await importLegacy(inv, legacyRecords({ ...DHCP, subnets: [...DHCP.subnets!, { reservations: [{ mac: '52:54:00:ee:00:03', ip: '198.18.0.77' }] }] }));
    assert.deepEqual(r.differences, [
      'group workers: bootfiles is {"bios":"pxelinux.0"} in the inventory, {"uefi-x64":"grubx64.efi"} in the config; the inventory\'s is used',
      'host 52:54:00:ee:00:02: ip is "198.18.0.99" in the inventory, "198.18.0.11" in the config; the inventory\'s is used',
      'host 52:54:00:ee:00:03: ip 198.18.0.77 is reserved for host 52:54:00:ee:00:09 in the inventory; the inventory\'s is used',
    ]);
    assert.ok(r.filled.includes('host 52:54:00:ee:00:01: ip') && r.filled.includes('group workers: dhcp'));
    const a = await inv.getHost('52:54:00:ee:00:01');
    assert.deepEqual([a.ip, a.hostname, a.group, a.state], ['198.18.0.10', 'node01', 'workers', 'new']);
    const b = await inv.getHost('b');
    assert.deepEqual([b.ip, b.bootfile], ['198.18.0.99', 'shimx64.efi']);
    assert.equal((await inv.getHost('52:54:00:ee:00:03')).ip, null);
  });

  it('as a fleet file: apply creates what the import would; after the import it changes nothing; a group keeps its profile', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    const text = legacyFleetYaml(legacyRecords(DHCP));
    assert.match(text, /- mac: "52:54:00:ee:00:01"\n {4}hostname: node01\n {4}group: workers\n {4}ip: 198\.18\.0\.10\n {4}state: new/);
    await applyPlan(await planFleet(inv, parseFleet(text, 'fleet.yaml')));
    assert.deepEqual((await inv.listHosts()).map((h) => [h.macs[0], h.state, h.ip, h.bootfile]), [['52:54:00:ee:00:01', 'new', '198.18.0.10', null], ['52:54:00:ee:00:02', 'new', '198.18.0.11', 'shimx64.efi']]);

    const other = new InventoryService({ store: await freshStore() });
    await other.createProfile('debian', { kind: 'local' });
    await other.createGroup({ name: 'workers', profile: 'debian', labels: { rack: 'r1' } });
    await importLegacy(other, legacyRecords(DHCP));
    const groups = new Map((await other.listGroups()).map((g) => [g.name, { profile: g.profile, labels: g.labels }]));
    const after = legacyFleetYaml(legacyRecords(DHCP), { groups, macs: new Set((await other.listHosts()).flatMap((h) => h.macs)) });
    assert.doesNotMatch(after, /state:/);
    assert.deepEqual((await planFleet(other, parseFleet(after, 'fleet.yaml'))).changes.map((c) => [c.name, c.fields]), []);
  });
});
