// Hosts' and groups' DHCP boot settings in the inventory: validation, the service, and fleet files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, formatProblem } from '../../../src/errors.ts';
import { checkBootPath, checkBootfiles, checkDhcpOptions, checkReservedIp } from '../../../src/inventory/boot-settings.ts';
import { isInventoryError } from '../../../src/inventory/errors.ts';
import { applyPlan, formatPlan, parseFleet, planFleet } from '../../../src/inventory/fleet.ts';
import { InventoryService } from '../../../src/inventory/service.ts';
import { ARCHES, ARCH_KEYS as BOOT_ARCH_KEYS } from '../../../src/boot/arch.ts';
import { ARCH_KEYS } from '../../../src/inventory/types.ts';
import { freshStore } from './helpers.ts';

function invalid(code: string, fix?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isInventoryError(err), String(err));
    assert.equal(err.code, code);
    if (fix !== undefined) assert.match(`${err.message} ${err.hint}`, fix);
    return true;
  };
}

describe('boot settings: validation', () => {
  it('the inventory\'s architecture keys are exactly the option-93 registry\'s', () => {
    assert.deepEqual([...ARCH_KEYS].sort(), [...new Set([...ARCHES.values()].map((a) => a.key))].sort());
    assert.equal(BOOT_ARCH_KEYS, ARCH_KEYS);
  });

  it('a reserved address is a canonical unicast dotted quad', () => {
    assert.equal(checkReservedIp('198.18.0.10'), '198.18.0.10');
    assert.equal(checkReservedIp(''), null);
    assert.equal(checkReservedIp(null), null);
    for (const bad of ['198.18.0', '198.18.0.256', '198.018.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', 'fe80::1', 12]) {
      assert.throws(() => checkReservedIp(bad), invalid('BH_INV_INVALID_HOST', /dotted quad/), String(bad));
    }
  });

  it('boot files and scripts are printable paths or URLs of at most 255 characters', () => {
    assert.equal(checkBootPath('boot.ipxe?mac=${net0/mac}&arch=${buildarch}', 'ipxe_script', 'BH_INV_INVALID_HOST'), 'boot.ipxe?mac=${net0/mac}&arch=${buildarch}');
    for (const bad of ['a\nb', ' lead', 'x'.repeat(256), 7]) assert.throws(() => checkBootPath(bad, 'bootfile', 'BH_INV_INVALID_HOST'), invalid('BH_INV_INVALID_HOST'));
  });

  it('a group\'s boot files are keyed by architecture keys bootherd knows, and sorted', () => {
    assert.deepEqual(Object.keys(checkBootfiles({ 'uefi-x64': 'grubx64.efi', bios: 'pxelinux.0' })!), ['bios', 'uefi-x64']);
    assert.equal(checkBootfiles({}), null);
    assert.throws(() => checkBootfiles({ x86: 'pxelinux.0' }), invalid('BH_INV_INVALID_GROUP', /uefi-x64/));
    assert.throws(() => checkBootfiles({ bios: '' }), invalid('BH_INV_INVALID_GROUP'));
    assert.throws(() => checkBootfiles(['bios']), invalid('BH_INV_INVALID_GROUP'));
  });

  it('DHCP options: the config\'s keys, and {code, type, value} with the value fitting its type', () => {
    const ok = { routers: ['198.18.0.1'], dns_servers: '198.18.0.2', domain_name: 'lab.example.test', options: [{ code: 150, type: 'ip', value: '198.18.0.3' }, { code: 66, type: 'string', value: 'tftp.lab' }, { code: 23, type: 'u8', value: 64 }, { code: 43, type: 'hex', value: '01:02:0a' }] };
    assert.deepEqual(checkDhcpOptions(ok, 'BH_INV_INVALID_HOST'), { ...ok, dns_servers: ['198.18.0.2'] });
    assert.equal(checkDhcpOptions({}, 'BH_INV_INVALID_HOST'), null);
    const bad: [unknown, RegExp][] = [
      [{ gateway: ['198.18.0.1'] }, /dhcp\.gateway/],
      [{ routers: ['198.18.0.300'] }, /routers/],
      [{ routers: [] }, /routers/],
      [{ domain_name: 'a b' }, /domain_name/],
      [{ options: [{ code: 53, type: 'u8', value: 1 }] }, /set by the DHCP server/],
      [{ options: [{ code: 0, type: 'u8', value: 1 }] }, /code/],
      [{ options: [{ code: 23, type: 'u8', value: 256 }] }, /0\.\.255/],
      [{ options: [{ code: 150, type: 'ip', value: 'tftp' }] }, /dotted-quad/],
      [{ options: [{ code: 43, type: 'hex', value: '0g' }] }, /hex/],
      [{ options: [{ code: 43, type: 'blob', value: '00' }] }, /type/],
      [{ options: [{ code: 43, type: 'hex', value: '00', extra: 1 }] }, /extra/],
      [{ options: 'x' }, /list/],
    ];
    for (const [v, msg] of bad) assert.throws(() => checkDhcpOptions(v, 'BH_INV_INVALID_GROUP'), invalid('BH_INV_INVALID_GROUP', msg), JSON.stringify(v));
  });
});

describe('boot settings: the inventory service', () => {
  it('creates, shows and changes a host\'s address, boot file, script and options; an address belongs to one host', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    const h = await inv.createHost({ macs: ['52:54:00:aa:10:01'], hostname: 'n1', ip: '198.18.0.10', bootfile: 'pxelinux.0', ipxeScript: 'hosts/n1.ipxe', dhcp: { ntp_servers: ['198.18.0.123'] } });
    assert.deepEqual([h.ip, h.bootfile, h.ipxeScript, h.dhcp], ['198.18.0.10', 'pxelinux.0', 'hosts/n1.ipxe', { ntp_servers: ['198.18.0.123'] }]);
    assert.deepEqual(await inv.getHost('n1'), h);
    await assert.rejects(inv.createHost({ macs: ['52:54:00:aa:10:02'], ip: '198.18.0.10' }), (err) => isInventoryError(err, 'BH_INV_CONFLICT') && /reserved for host n1/.test(err.message));
    await assert.rejects(inv.createHost({ macs: ['52:54:00:aa:10:02'], ip: '198.18.0.1000' }), invalid('BH_INV_INVALID_HOST'));
    assert.equal((await inv.listHosts()).length, 1, 'a refused host is not created');
    const u = await inv.updateHost('n1', { ip: '198.18.0.11', bootfile: null, dhcp: null });
    assert.deepEqual([u.ip, u.bootfile, u.ipxeScript, u.dhcp], ['198.18.0.11', null, 'hosts/n1.ipxe', null]);
    // Its own address again is no conflict.
    assert.equal((await inv.updateHost('n1', { ip: '198.18.0.11', hostname: 'n1b' })).hostname, 'n1b');
  });

  it('a group\'s boot files are set per architecture, changed and removed one by one', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    const g = await inv.createGroup({ name: 'workers', bootfiles: { 'uefi-x64': 'grubx64.efi' }, ipxeScript: 'groups/w.ipxe' });
    assert.deepEqual([g.bootfiles, g.ipxeScript, g.dhcp], [{ 'uefi-x64': 'grubx64.efi' }, 'groups/w.ipxe', null]);
    const u = await inv.updateGroup('workers', { setBootfiles: { bios: 'pxelinux.0' }, ipxeScript: null });
    assert.deepEqual([u.bootfiles, u.ipxeScript], [{ bios: 'pxelinux.0', 'uefi-x64': 'grubx64.efi' }, null]);
    assert.deepEqual((await inv.updateGroup('workers', { unsetBootfiles: ['bios', 'uefi-x64'] })).bootfiles, null);
    await assert.rejects(inv.updateGroup('workers', { setBootfiles: { x86: 'a' } }), invalid('BH_INV_INVALID_GROUP'));
  });
});

const FLEET = `groups:
  workers:
    bootfiles: { uefi-x64: grubx64.efi, bios: pxelinux.0 }
    ipxe_script: groups/workers.ipxe
    dhcp:
      ntp_servers: [198.18.0.123]
hosts:
  - mac: "52:54:00:aa:20:01"
    hostname: w1
    group: workers
    ip: 198.18.0.21
    bootfile: shimx64.efi
    dhcp:
      routers: [198.18.0.1]
      options:
        - { code: 150, type: ip, value: 198.18.0.2 }
  - mac: "52:54:00:aa:20:02"
    ip: 198.18.0.22
    ipxe_script: hosts/w2.ipxe
`;

describe('boot settings: fleet files', () => {
  it('round trip: applied once, the same file changes nothing; a change shows field by field', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    const first = await planFleet(inv, parseFleet(FLEET, 'fleet.yaml'));
    assert.deepEqual(first.summary, { create: 3, update: 0, delete: 0 });
    const text = formatPlan(first).join('\n');
    for (const line of ['ip: 198.18.0.21', 'bootfile: shimx64.efi', 'bootfiles.uefi-x64: grubx64.efi', 'ipxe_script: groups/workers.ipxe', 'dhcp.routers: ["198.18.0.1"]']) assert.ok(text.includes(line), `${line} in\n${text}`);
    await applyPlan(first);
    const w1 = await inv.getHost('w1');
    assert.deepEqual([w1.ip, w1.bootfile, w1.group, w1.dhcp], ['198.18.0.21', 'shimx64.efi', 'workers', { routers: ['198.18.0.1'], options: [{ code: 150, type: 'ip', value: '198.18.0.2' }] }]);
    assert.deepEqual((await inv.getGroup('workers')).bootfiles, { bios: 'pxelinux.0', 'uefi-x64': 'grubx64.efi' });
    assert.deepEqual((await planFleet(inv, parseFleet(FLEET, 'fleet.yaml'))).changes, [], 'idempotent');

    const changed = FLEET.replace('ip: 198.18.0.21', 'ip: 198.18.0.31').replace('bios: pxelinux.0', 'bios: undionly.kpxe');
    const plan = await planFleet(inv, parseFleet(changed, 'fleet.yaml'));
    assert.deepEqual(formatPlan(plan), ['~ group workers', '    bootfiles.bios: pxelinux.0 → undionly.kpxe', '~ host 52:54:00:aa:20:01 (w1)', '    ip: 198.18.0.21 → 198.18.0.31']);
    await applyPlan(plan);
    assert.equal((await inv.getHost('w1')).ip, '198.18.0.31');
    assert.deepEqual((await planFleet(inv, parseFleet(changed, 'fleet.yaml'))).changes, []);
  });

  it('an address may move from one host to another in one apply; taking one that stays is an error at its line', async () => {
    const inv = new InventoryService({ store: await freshStore() });
    await applyPlan(await planFleet(inv, parseFleet(FLEET, 'fleet.yaml')));
    const swapped = FLEET.replace('ip: 198.18.0.21', 'ip: 198.18.0.99').replace('ip: 198.18.0.22', 'ip: 198.18.0.21');
    await applyPlan(await planFleet(inv, parseFleet(swapped, 'fleet.yaml')));
    assert.deepEqual([(await inv.getHost('w1')).ip, (await inv.getHost('52:54:00:aa:20:02')).ip], ['198.18.0.99', '198.18.0.21']);
    // Two hosts swapping their addresses in one apply.
    const swap = FLEET.replace('ip: 198.18.0.22', 'ip: 198.18.0.99'); // w1 takes back .21 from the other, which takes .99
    await applyPlan(await planFleet(inv, parseFleet(swap, 'fleet.yaml')));
    assert.deepEqual([(await inv.getHost('w1')).ip, (await inv.getHost('52:54:00:aa:20:02')).ip], ['198.18.0.21', '198.18.0.99']);
    assert.deepEqual((await planFleet(inv, parseFleet(swap, 'fleet.yaml'))).changes, []);
    const taking = `hosts:\n  - mac: "52:54:00:aa:20:09"\n    ip: 198.18.0.99\n`;
    await assert.rejects(planFleet(inv, parseFleet(taking, 'more.yaml')), (err) => err instanceof ConfigError && /more\.yaml:3: hosts\[0\]\.ip: address 198\.18\.0\.99 is reserved for host 52:54:00:aa:20:02/.test(formatProblem(err.problems[0]!)));
  });

  it('bad boot settings are named with file:line and a fix, all at once', () => {
    const bad = `groups:\n  g:\n    bootfiles: { x86: a.efi }\nhosts:\n  - mac: "52:54:00:aa:30:01"\n    ip: 198.18.0.300\n    dhcp: { options: [{ code: 53, type: u8, value: 1 }] }\n  - mac: "52:54:00:aa:30:02"\n    ip: 198.18.0.5\n  - mac: "52:54:00:aa:30:03"\n    ip: 198.18.0.5\n`;
    assert.throws(() => parseFleet(bad, 'f.yaml'), (err) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.problems.map(formatProblem);
      assert.equal(lines.length, 4, lines.join('\n'));
      assert.match(lines[0]!, /^f\.yaml:3: groups\.g\.bootfiles: .*x86.*fix: use one of: bios/);
      assert.match(lines[1]!, /^f\.yaml:6: hosts\[0\]\.ip: .*198\.18\.0\.300/);
      assert.match(lines[2]!, /^f\.yaml:7: hosts\[0\]\.dhcp: .*option 53 is set by the DHCP server/);
      assert.match(lines[3]!, /^f\.yaml:11: hosts\[2\]\.ip: address 198\.18\.0\.5 is also reserved for hosts\[1\]/);
      return true;
    });
  });
});
