// Declarative apply on SQLite: the diff, idempotence, prune, and file:line problems.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, formatProblem } from '../../../src/errors.ts';
import { applyPlan, formatPlan, parseFleet, planFleet } from '../../../src/inventory/fleet.ts';
import { InventoryService } from '../../../src/inventory/service.ts';
import { freshStore } from './helpers.ts';
import { planRecord } from '../../../src/boot/planner.ts';

const FLEET = `# a small fleet
default_profile: disk
profiles:
  debian:
    kind: linux
    kernel: debian/vmlinuz
    initrd: [debian/initrd.gz]
    cmdline: console=ttyS0
    arch:
      uefi-x64:
        kind: linux
        kernel: debian/vmlinuz
        secure_boot: true
  disk:
    kind: local
  pick:
    kind: menu
    menu:
      items:
        - { label: Debian, profile: debian }
        - { label: Disk, profile: disk }
groups:
  workers:
    profile: debian
    labels: { rack: r1 }
hosts:
  - mac: "52:54:00:AA:00:01"
    hostname: w1
    group: workers
  - macs: ["52:54:00:aa:00:02", "52-54-00-aa-00-03"]
    hostname: w2
    profile: pick
    state: pending
    labels: { role: db }
`;

async function setup() {
  const store = await freshStore();
  return new InventoryService({ store });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  assert.fail('expected a ConfigError');
}

async function planProblems(inv: InventoryService, text: string, prune = false): Promise<string[]> {
  try {
    await planFleet(inv, parseFleet(text, 'fleet.yaml'), { prune });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return assert.fail('expected a ConfigError');
}

describe('fleet apply', () => {
  it('on an empty inventory: every record is a "+" in a safe order; the second run has no changes', async () => {
    const inv = await setup();
    const fleet = parseFleet(FLEET, 'fleet.yaml');
    const plan = await planFleet(inv, fleet);
    assert.deepEqual(plan.summary, { create: 7, update: 0, delete: 0 });
    const heads = formatPlan(plan).filter((l) => !l.startsWith(' '));
    assert.deepEqual(heads, ['+ profile debian', '+ profile disk', '+ profile pick', '+ setting default_profile', '+ group workers', '+ host 52:54:00:aa:00:01 (w1)', '+ host 52:54:00:aa:00:02 (w2)']);
    assert.ok(formatPlan(plan).includes('    arch.uefi-x64.secure_boot: true'));
    await applyPlan(plan);

    const w2 = await inv.getHost('52:54:00:aa:00:03');
    assert.deepEqual([w2.hostname, w2.profile, w2.state, w2.labels['role']], ['w2', 'pick', 'pending', 'db']);
    assert.equal((await inv.getHost('w1')).state, 'active', 'a declared host without state: is active');
    assert.equal(await inv.getDefaultProfile(), 'disk');
    assert.equal(planRecord(await inv.effectiveBoot('w1')).profile?.name, 'debian');

    const again = await planFleet(inv, parseFleet(FLEET, 'fleet.yaml'));
    assert.deepEqual(again.changes, []);
  });

  it('a changed file shows field-level before → after, and only what changed', async () => {
    const inv = await setup();
    await applyPlan(await planFleet(inv, parseFleet(FLEET, 'fleet.yaml')));
    const edited = FLEET.replace('cmdline: console=ttyS0', 'cmdline: console=ttyS0 quiet').replace('labels: { rack: r1 }', 'labels: { rack: r2 }').replace('hostname: w1', 'hostname: w1-new');
    const plan = await planFleet(inv, parseFleet(edited, 'fleet.yaml'));
    assert.deepEqual(formatPlan(plan), [
      '~ profile debian',
      '    cmdline: console=ttyS0 → "console=ttyS0 quiet"',
      '~ group workers',
      '    labels.rack: r1 → r2',
      '~ host 52:54:00:aa:00:01 (w1)',
      '    hostname: w1 → w1-new',
    ]);
    await applyPlan(plan);
    assert.equal((await inv.getProfile('debian')).spec.cmdline, 'console=ttyS0 quiet');
    assert.deepEqual((await planFleet(inv, parseFleet(edited, 'fleet.yaml'))).changes, []);
  });

  it('keys a host entry leaves out are left alone (what the network learned stays)', async () => {
    const inv = await setup();
    await applyPlan(await planFleet(inv, parseFleet(FLEET, 'fleet.yaml')));
    await inv.updateHost('w1', { uuid: '4c4c4544-0042-3510-8051-c7c04f4a4d32', arch: 'uefi-x64', state: 'local' });
    assert.deepEqual((await planFleet(inv, parseFleet(FLEET, 'fleet.yaml'))).changes, []);
  });

  it('records missing from the file are deleted only with prune', async () => {
    const inv = await setup();
    await applyPlan(await planFleet(inv, parseFleet(FLEET, 'fleet.yaml')));
    await inv.createHost({ macs: ['52:54:00:aa:00:09'], hostname: 'stray' });
    await inv.createGroup({ name: 'old' });
    const small = 'profiles:\n  disk:\n    kind: local\n';
    assert.deepEqual((await planFleet(inv, parseFleet(small, 'fleet.yaml'))).changes, []);
    const plan = await planFleet(inv, parseFleet(small, 'fleet.yaml'), { prune: true });
    const heads = formatPlan(plan).filter((l) => l.startsWith('-'));
    assert.deepEqual(heads, ['- host 52:54:00:aa:00:01 (w1)', '- host 52:54:00:aa:00:02 (w2)', '- host 52:54:00:aa:00:09 (stray)', '- group old', '- group workers', '- profile debian', '- profile pick']);
    await applyPlan(plan);
    assert.deepEqual((await inv.listProfiles()).map((p) => p.name), ['disk']);
    assert.deepEqual(await inv.listHosts(), []);
    assert.deepEqual((await planFleet(inv, parseFleet(small, 'fleet.yaml'), { prune: true })).changes, []);
  });

  it('a MAC moving from one host to a new one: the release is applied before the claim', async () => {
    const inv = await setup();
    await inv.createHost({ macs: ['52:54:00:aa:00:01', '52:54:00:aa:00:02'], hostname: 'a' });
    const text = 'hosts:\n  - macs: ["52:54:00:aa:00:01"]\n    hostname: a\n  - mac: "52:54:00:aa:00:02"\n    hostname: b\n';
    await assert.rejects(planFleet(inv, parseFleet(text, 'f.yaml')), (err: unknown) => err instanceof ConfigError && /same host as hosts\[0\]/.test(err.message));
    const text2 = 'hosts:\n  - macs: ["52:54:00:aa:00:01"]\n    hostname: a\n';
    await applyPlan(await planFleet(inv, parseFleet(text2, 'f.yaml')));
    const text3 = 'hosts:\n  - macs: ["52:54:00:aa:00:03"]\n    hostname: a\n  - mac: "52:54:00:aa:00:01"\n    hostname: b\n';
    // 00:01 is matched by the second entry, which takes host a over: a different, legal reading.
    const plan = await planFleet(inv, parseFleet(text3, 'f.yaml'));
    await applyPlan(plan);
    assert.equal((await inv.getHost('52:54:00:aa:00:01')).hostname, 'b');
    assert.equal((await inv.getHost('52:54:00:aa:00:03')).hostname, 'a');
  });

  it('file problems name file:line, the key and a fix, all at once', () => {
    const text = ['profiles:', '  debian:', '    kind: linux', '    kernal: debian/vmlinuz', 'groups:', '  workers:', '    profil: debian', 'hosts:', '  - mac: 52:54:00:zz:00:01', '  - hostname: nomac', '    state: sleeping', 'extra: 1'].join('\n');
    const got = problemsOf(() => parseFleet(text, 'fleet.yaml'));
    assert.deepEqual(got, [
      "fleet.yaml:4: profiles.debian.kernal: unknown key (fix: did you mean 'kernel'?)",
      "fleet.yaml:7: groups.workers.profil: unknown key (fix: did you mean 'profile'?)",
      'fleet.yaml:9: hosts[0].mac: "52:54:00:zz:00:01" is not a MAC address (fix: write six hex octets, e.g. 52:54:00:12:34:56 (dashes, dots or no separators are accepted too))',
      'fleet.yaml:10: hosts[1]: has no MAC (fix: add mac: 52:54:00:12:34:56 (hosts are matched by MAC))',
      'fleet.yaml:11: hosts[1].state: "sleeping" is not a host state (fix: use one of: new, pending, active, local, disabled)',
      "fleet.yaml:12: extra: unknown key (fix: remove it; a fleet file has: default_profile, profiles, groups, hosts)",
    ].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])));
  });

  it('references that do not resolve are named with their line before anything is written', async () => {
    const inv = await setup();
    const text = ['groups:', '  workers:', '    profile: debain', 'profiles:', '  debian:', '    kind: local', 'hosts:', '  - mac: "52:54:00:aa:00:01"', '    group: wrokers'].join('\n');
    const got = await planProblems(inv, text);
    assert.deepEqual(got, [
      "fleet.yaml:3: groups.workers.profile: no profile debain (fix: did you mean 'debian'?)",
      "fleet.yaml:9: hosts[0].group: no group wrokers (fix: did you mean 'workers'?)",
    ]);
    assert.deepEqual(await inv.listProfiles(), []);
  });

  it('with prune, a reference to a profile that prune would delete is an error', async () => {
    const inv = await setup();
    await inv.createProfile('old', { kind: 'local' });
    const got = await planProblems(inv, 'groups:\n  g:\n    profile: old\n', true);
    assert.equal(got.length, 1);
    assert.match(got[0] ?? '', /^fleet\.yaml:3: groups\.g\.profile: no profile old .*--prune deletes/);
  });

  it('a duplicate name in the file is a YAML problem at its line', () => {
    const got = problemsOf(() => parseFleet('profiles:\n  a:\n    kind: local\n  a:\n    kind: local\n', 'f.yaml'));
    assert.equal(got.length, 1);
    assert.match(got[0] ?? '', /^f\.yaml:4: YAML syntax: .*\(fix: keep one of the two keys/);
  });

  it('an unquoted MAC that YAML reads as a number asks for quotes', () => {
    const got = problemsOf(() => parseFleet('hosts:\n  - mac: 525400001234\n', 'f.yaml'));
    assert.match(got[0] ?? '', /^f\.yaml:2: hosts\[0\]\.mac: .*quote the MAC/);
  });
});
