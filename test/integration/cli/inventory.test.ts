// The real `bootherd` command: hosts, profiles, groups and apply end to end on a SQLite store in a
// temporary state directory (the same config resolution as serve: BOOTHERD_STATE_DIR here).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBootherd } from '../../helpers/bootherd.ts';

const dir = mkdtempSync(join(tmpdir(), 'bh-inv-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function env(): { env: Record<string, string> } {
  return { env: { BOOTHERD_STATE_DIR: join(dir, `state${++n}`) } };
}

function ok(args: string[], e: { env: Record<string, string> }): string {
  const r = runBootherd(args, e);
  assert.equal(r.status, 0, `bootherd ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('bootherd hosts, profiles, groups', () => {
  it('add, list (table and --json), show what a host boots, approve, rm', () => {
    const e = env();
    ok(['profiles', 'add', 'debian', '--kernel', 'debian/vmlinuz', '--initrd', 'debian/initrd.gz', '--cmdline', 'console=ttyS0'], e);
    ok(['groups', 'add', 'workers', '--profile', 'debian', '--label', 'rack=r1'], e);
    ok(['hosts', 'add', '--mac', '52-54-00-AA-00-01', '--hostname', 'w1', '--group', 'workers'], e);
    ok(['hosts', 'add', '--mac', '5254.00aa.0002', '--state', 'pending'], e);

    const table = ok(['hosts', 'list'], e).trimEnd().split('\n');
    assert.match(table[0] ?? '', /^MAC +HOSTNAME +STATE +GROUP +PROFILE/);
    assert.equal(table.length, 3);
    // Aligned: every row's STATE starts in the header's STATE column.
    const col = (table[0] ?? '').indexOf('STATE');
    assert.deepEqual(table.slice(1).map((l) => l.slice(col).split(/\s+/)[0]), ['active', 'pending']);

    const hosts = JSON.parse(ok(['hosts', 'list', '--json'], e)) as { macs: string[]; hostname: string | null; state: string; group: string | null }[];
    assert.deepEqual(hosts.map((h) => [h.macs, h.hostname, h.state, h.group]), [[['52:54:00:aa:00:01'], 'w1', 'active', 'workers'], [['52:54:00:aa:00:02'], null, 'pending', null]]);

    const shown = JSON.parse(ok(['hosts', 'show', '52:54:00:AA:00:01', '--json'], e)) as { hostname: string; boot: { action: string; profile: string; source: string } };
    assert.deepEqual([shown.hostname, shown.boot.action, shown.boot.profile, shown.boot.source], ['w1', 'boot', 'debian', 'group']);
    assert.match(ok(['hosts', 'show', 'w1'], e), /^boots: +debian \(active: boots profile debian of group workers\)$/m);

    assert.match(ok(['hosts', 'approve', '52:54:00:aa:00:02'], e), /approved host 52:54:00:aa:00:02: active/);
    assert.equal((JSON.parse(ok(['hosts', 'list', '--state', 'pending', '--json'], e)) as unknown[]).length, 0);

    ok(['hosts', 'rm', 'w1'], e);
    const left = JSON.parse(ok(['hosts', 'list', '--json'], e)) as { macs: string[] }[];
    assert.deepEqual(left.map((h) => h.macs[0]), ['52:54:00:aa:00:02']);
  });

  it('set changes fields, labels and MACs; profiles set/show/default; groups show', () => {
    const e = env();
    ok(['profiles', 'add', 'disk', '--kind', 'local'], e);
    ok(['profiles', 'add', 'rescue', '--kernel', 'rescue/vmlinuz'], e);
    ok(['hosts', 'add', '--mac', '52:54:00:aa:00:01', '--label', 'role=db'], e);
    const h = JSON.parse(ok(['hosts', 'set', '52:54:00:aa:00:01', '--hostname', 'db1', '--profile', 'rescue', '--add-mac', '52:54:00:aa:00:09', '--label', 'rack=r7', '--unset-label', 'role', '--json'], e)) as { hostname: string; profile: string; macs: string[]; labels: Record<string, string> };
    assert.deepEqual([h.hostname, h.profile, h.macs, h.labels], ['db1', 'rescue', ['52:54:00:aa:00:01', '52:54:00:aa:00:09'], { rack: 'r7' }]);
    const cleared = JSON.parse(ok(['hosts', 'set', 'db1', '--no-profile', '--json'], e)) as { profile: string | null };
    assert.equal(cleared.profile, null);

    ok(['profiles', 'set', 'rescue', '--cmdline', 'single'], e);
    const p = JSON.parse(ok(['profiles', 'show', 'rescue', '--json'], e)) as { spec: { kernel: string; cmdline: string } };
    assert.deepEqual([p.spec.kernel, p.spec.cmdline], ['rescue/vmlinuz', 'single']);

    assert.match(ok(['profiles', 'default', 'disk'], e), /default profile: disk/);
    const boot = JSON.parse(ok(['hosts', 'show', 'db1', '--json'], e)) as { boot: { profile: string; source: string } };
    assert.deepEqual([boot.boot.profile, boot.boot.source], ['disk', 'default']);

    ok(['groups', 'add', 'db'], e);
    ok(['hosts', 'set', 'db1', '--group', 'db'], e);
    assert.match(ok(['groups', 'show', 'db'], e), /^hosts: +db1$/m);
    const groups = JSON.parse(ok(['groups', 'list', '--json'], e)) as { name: string; hosts: number }[];
    assert.deepEqual(groups.map((g) => [g.name, g.hosts]), [['db', 1]]);
  });

  it('DHCP boot settings: hosts --ip/--bootfile/--ipxe-script, groups --bootfile ARCH=FILE, shown in show and list --json', () => {
    const e = env();
    ok(['groups', 'add', 'workers', '--bootfile', 'uefi-x64=grubx64.efi', '--ipxe-script', 'groups/w.ipxe'], e);
    ok(['groups', 'set', 'workers', '--bootfile', 'bios=pxelinux.0', '--no-ipxe-script'], e);
    const g = JSON.parse(ok(['groups', 'show', 'workers', '--json'], e)) as { bootfiles: Record<string, string>; ipxeScript: string | null };
    assert.deepEqual([g.bootfiles, g.ipxeScript], [{ bios: 'pxelinux.0', 'uefi-x64': 'grubx64.efi' }, null]);
    assert.match(ok(['groups', 'show', 'workers'], e), /^bootfiles: +bios=pxelinux\.0,uefi-x64=grubx64\.efi$/m);
    ok(['hosts', 'add', '--mac', '52:54:00:aa:00:01', '--hostname', 'n1', '--group', 'workers', '--ip', '198.18.0.10', '--bootfile', 'shimx64.efi'], e);
    ok(['hosts', 'set', 'n1', '--ipxe-script', 'hosts/n1.ipxe', '--no-bootfile'], e);
    const hosts = JSON.parse(ok(['hosts', 'list', '--json'], e)) as { ip: string; bootfile: string | null; ipxeScript: string }[];
    assert.deepEqual(hosts.map((h) => [h.ip, h.bootfile, h.ipxeScript]), [['198.18.0.10', null, 'hosts/n1.ipxe']]);
    const shown = ok(['hosts', 'show', 'n1'], e);
    assert.match(shown, /^ip: +198\.18\.0\.10$/m);
    assert.match(shown, /^ipxe script: +hosts\/n1\.ipxe$/m);
    const taken = runBootherd(['hosts', 'add', '--mac', '52:54:00:aa:00:02', '--ip', '198.18.0.10'], e);
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /address 198\.18\.0\.10 is already reserved for host n1 \[BH_INV_CONFLICT\]/);
    const bad = runBootherd(['groups', 'set', 'workers', '--bootfile', 'x86=a.efi'], e);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /\[BH_INV_INVALID_GROUP\]\nhint: use one of: bios/);
  });

  it('errors: one line with a code and a hint; exit 2 for bad input, 1 for missing or conflicting records', () => {
    const e = env();
    const bad = runBootherd(['hosts', 'add', '--mac', '52:54:00:zz:00:01'], e);
    assert.equal(bad.status, 2);
    assert.deepEqual(bad.stderr.trimEnd().split('\n').map((l) => l.replace(/:.*/, '')), ['bootherd', 'hint']);
    assert.match(bad.stderr, /is not a MAC address \[BH_INV_BAD_MAC\]/);

    const badProfile = runBootherd(['profiles', 'add', 'x', '--kernel', '/srv/tftp/vmlinuz'], e);
    assert.equal(badProfile.status, 2);
    assert.match(badProfile.stderr, /kernel: "\/srv\/tftp\/vmlinuz" is an absolute path .*\[BH_INV_INVALID_PROFILE\]/);

    const missing = runBootherd(['hosts', 'show', 'nosuchhost'], e);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^bootherd: no host "nosuchhost" \[BH_INV_NOT_FOUND\]\nhint: 'bootherd hosts list'/);

    ok(['hosts', 'add', '--mac', '52:54:00:aa:00:01', '--hostname', 'a'], e);
    const dup = runBootherd(['hosts', 'add', '--mac', '52:54:00:AA:00:01'], e);
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /MAC 52:54:00:aa:00:01 already belongs to host a \[BH_INV_CONFLICT\]/);

    const usage = runBootherd(['hosts', 'add'], e);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--mac/);

    ok(['hosts', 'set', 'a', '--state', 'local'], e);
    const trans = runBootherd(['hosts', 'set', 'a', '--state', 'pending'], e);
    assert.equal(trans.status, 2);
    assert.match(trans.stderr, /cannot go from local to pending \[BH_INV_TRANSITION\]\nhint: from local a host may go to: active, disabled/);
  });
});

describe('bootherd apply', () => {
  const fleet = join(dir, 'fleet.yaml');
  writeFileSync(fleet, [
    'profiles:',
    '  debian:',
    '    kind: linux',
    '    kernel: debian/vmlinuz',
    '    initrd: [debian/initrd.gz]',
    '    cmdline: console=ttyS0',
    'groups:',
    '  workers:',
    '    profile: debian',
    'hosts:',
    '  - mac: "52:54:00:aa:00:01"',
    '    hostname: w1',
    '    group: workers',
    '',
  ].join('\n'));

  it('shows the diff; piped without --yes applies nothing (exit 2); --yes applies; the second run has no changes', () => {
    const e = env();
    const dry = runBootherd(['apply', '-f', fleet], e);
    assert.equal(dry.status, 2);
    assert.match(dry.stdout, /^\+ profile debian$/m);
    assert.match(dry.stdout, /^\+ group workers$/m);
    assert.match(dry.stdout, /^\+ host 52:54:00:aa:00:01 \(w1\)$/m);
    assert.match(dry.stderr, /not applied.*\[BH_APPLY_CONFIRM\]\nhint: .*--yes/);
    assert.equal((JSON.parse(ok(['hosts', 'list', '--json'], e)) as unknown[]).length, 0);

    assert.match(ok(['apply', '-f', fleet, '--yes'], e), /applied 3 change\(s\)/);
    assert.equal(ok(['apply', '-f', fleet], e), `no changes: the inventory matches ${fleet}\n`);
    const h = JSON.parse(ok(['hosts', 'show', 'w1', '--json'], e)) as { state: string; boot: { profile: string } };
    assert.deepEqual([h.state, h.boot.profile], ['active', 'debian']);

    // An edit shows field-level before → after; an extra host is deleted only with --prune.
    ok(['hosts', 'add', '--mac', '52:54:00:aa:00:07', '--hostname', 'stray'], e);
    writeFileSync(join(dir, 'fleet2.yaml'), readFleetWith('console=ttyS0', 'console=ttyS1'));
    const plan = JSON.parse(ok(['apply', '-f', join(dir, 'fleet2.yaml'), '--dry-run', '--json'], e)) as { changes: { op: string; kind: string; name: string; fields: { field: string; before: unknown; after: unknown }[] }[]; applied: boolean };
    assert.equal(plan.applied, false);
    assert.deepEqual(plan.changes.map((c) => [c.op, c.kind, c.name, c.fields]), [['update', 'profile', 'debian', [{ field: 'cmdline', before: 'console=ttyS0', after: 'console=ttyS1' }]]]);
    const pruned = ok(['apply', '-f', join(dir, 'fleet2.yaml'), '--prune', '--yes'], e);
    assert.match(pruned, /^~ profile debian\n {4}cmdline: console=ttyS0 → console=ttyS1$/m);
    assert.match(pruned, /^- host 52:54:00:aa:00:07 \(stray\)$/m);
    assert.deepEqual((JSON.parse(ok(['hosts', 'list', '--json'], e)) as { hostname: string }[]).map((x) => x.hostname), ['w1']);
  });

  it('config migrate prints the config\'s reservations and groups as a fleet file that apply takes, once', () => {
    const e = env();
    const cfg = join(dir, `migrate${n}.yaml`);
    writeFileSync(cfg, [
      'dhcp:',
      '  boot:',
      '    groups:',
      '      workers: { bootfiles: { uefi-x64: grubx64.efi }, ipxe_script: groups/w.ipxe }',
      '  subnets:',
      '    - subnet: 198.18.0.0/24',
      '      reservations:',
      '        - { mac: "52:54:00:AA:00:01", ip: 198.18.0.10, hostname: node01, group: workers, ntp_servers: [198.18.0.123] }',
      '',
    ].join('\n'));
    const printed = ok(['config', 'migrate', cfg], e);
    assert.match(printed, /^# .*then delete those keys from /m);
    const out = join(dir, `migrated${n}.yaml`);
    writeFileSync(out, printed);
    assert.match(ok(['apply', '-f', out, '--yes', '-c', cfg], e), /applied 2 change/);
    const hosts = JSON.parse(ok(['hosts', 'list', '--json', '-c', cfg], e)) as { macs: string[]; ip: string; hostname: string; group: string; state: string; dhcp: unknown }[];
    assert.deepEqual(hosts.map((h) => [h.macs, h.ip, h.hostname, h.group, h.state, h.dhcp]), [[['52:54:00:aa:00:01'], '198.18.0.10', 'node01', 'workers', 'new', { ntp_servers: ['198.18.0.123'] }]]);
    assert.match(ok(['apply', '-f', out, '--yes', '-c', cfg], e), /^no changes/m);
    // Printed again once the hosts exist: no state for them, and applying it changes nothing.
    writeFileSync(out, ok(['config', 'migrate', cfg], e));
    assert.doesNotMatch(readFileSync(out, 'utf8'), /state:/);
    assert.match(ok(['apply', '-f', out, '--yes', '-c', cfg], e), /^no changes/m);
  });

  it('a bad fleet file: every problem as file:line: key: problem (fix: …), exit 2, nothing written', () => {
    const e = env();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'profiles:\n  debian:\n    kind: linux\n    kernal: debian/vmlinuz\nhosts:\n  - mac: "52:54:00:aa:00:01"\n    group: nope\n');
    const r = runBootherd(['apply', '-f', bad, '--yes'], e);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `bootherd: ${bad}:4: profiles.debian.kernal: unknown key (fix: did you mean 'kernel'?)\n`);
    const r2 = runBootherd(['apply', '-f', join(dir, 'fleet-missing-group.yaml'), '--yes'], e);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /fleet-missing-group\.yaml: file not found/);
    writeFileSync(join(dir, 'ref.yaml'), 'hosts:\n  - mac: "52:54:00:aa:00:01"\n    group: nope\n');
    const r3 = runBootherd(['apply', '-f', join(dir, 'ref.yaml'), '--yes'], e);
    assert.equal(r3.status, 2);
    assert.equal(r3.stderr, `bootherd: ${join(dir, 'ref.yaml')}:3: hosts[0].group: no group nope (fix: add group nope under groups:)\n`);
    assert.equal((JSON.parse(ok(['hosts', 'list', '--json'], e)) as unknown[]).length, 0);
  });

  function readFleetWith(from: string, to: string): string {
    return ['profiles:', '  debian:', '    kind: linux', '    kernel: debian/vmlinuz', '    initrd: [debian/initrd.gz]', `    cmdline: ${from}`, 'groups:', '  workers:', '    profile: debian', 'hosts:', '  - mac: "52:54:00:aa:00:01"', '    hostname: w1', '    group: workers', ''].join('\n').replace(from, to);
  }
});
