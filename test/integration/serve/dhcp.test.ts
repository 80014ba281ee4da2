// `bootherd serve` with a `dhcp` section, as an operator runs it: full mode on one link of a test
// namespace, started as root, serving as nobody. A real client (udhcpc) gets a lease; after a
// restart the same client gets the same address. An existing config with (deprecated) reservations
// and dhcp.boot.groups warns once how to move them and loads them into the inventory: the client,
// as a PXE client, gets its reserved address, its group's boot file and NTP server; a change made
// in the inventory with the CLI reaches it at its next DISCOVER, and after a restart the inventory
// still wins over the config, with a warning saying so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { Daemon } from '../../helpers/daemon.ts';
import { runBootherd } from '../../helpers/bootherd.ts';

const root = canUseNetns();
const CLIENT_MAC = '52:54:00:aa:20:01';
let lab: NetLab;
let ns = '';
let client = '';
let dir = '';

before(() => {
  if (!root) return;
  lab = new NetLab();
  ns = lab.ns('srv');
  client = lab.ns('cli');
  lab.veth({ ns, ifname: 'lan0', addr: '198.18.20.1/24' }, { ns: client, ifname: 'eth0' });
  lab.exec(client, 'ip', ['link', 'set', 'eth0', 'address', CLIENT_MAC]);
  dir = mkdtempSync(join(tmpdir(), 'bh-serve-dhcp-'));
  chmodSync(dir, 0o755);
});
after(() => lab?.destroySync());

/** The config's first lines: full mode on lan0, TFTP and HTTP on its address; `dhcp:` follows. */
function serveConfig(stateDir: string, user: string): string[] {
  return [`state_dir: ${join(dir, stateDir)}`, `user: ${user}`, 'interfaces:', '  - name: lan0', '    mode: full', 'tftp:', '  address: 198.18.20.1', 'http:', '  address: 198.18.20.1', 'dhcp:'];
}

function udhcpc(): string {
  // -q: quit once bound; -n: fail if no lease; -s /bin/true: do not configure the interface.
  const out = lab.exec(client, 'sh', ['-c', 'udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /bin/true 2>&1'], { timeoutMs: 60_000 });
  const m = /lease of (\S+) obtained/.exec(out);
  assert.ok(m?.[1] !== undefined, `udhcpc got no lease:\n${out}`);
  return m[1];
}

test('serve in full mode hands a real client a lease, as nobody, and the same address after a restart', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const cfg = join(dir, 'bootherd.yaml');
  writeFileSync(
    cfg,
    [
      ...serveConfig('state', 'nobody'),
      '  subnets:',
      '    - subnet: 198.18.20.0/24',
      '      pools:',
      '        - start: 198.18.20.100',
      '          end: 198.18.20.150',
      '      routers: [198.18.20.1]',
      '      lease_time: 600',
      '',
    ].join('\n'),
  );
  const first = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => first.stop('SIGKILL'));
  const ready = await first.ready();
  const dhcp = (ready['services'] as Record<string, { listening: { interface: string; port: number }[] }>)['dhcp'];
  assert.deepEqual(dhcp?.listening.map((l) => `${l.interface}:${l.port}`), ['lan0:67']);
  assert.equal(readFileSync(`/proc/${first.pid}/status`, 'utf8').match(/^Uid:\s*(\d+)/m)?.[1], String(nobody));

  const ip = udhcpc();
  assert.match(ip, /^198\.18\.20\.(1[0-4]\d|150)$/);
  const ack = await first.waitFor((l) => l['stage'] === 'dhcp' && l['host'] === '52:54:00:aa:20:01' && /ack/i.test(String(l['kind'])), 'dhcp ack event', 20_000);
  assert.equal(ack['component'], 'events');
  assert.deepEqual(await first.stop(), { code: 0, signal: null });

  const second = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => second.stop('SIGKILL'));
  await second.ready();
  assert.equal(udhcpc(), ip, 'the same MAC gets the same address after a restart');
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
});

/** One udhcpc run as a UEFI PXE client; what its hook saw when bound. */
function pxeClient(tag: string): { ip: string; bootfile: string; ntp: string; hostname: string } {
  const out = join(dir, `udhcpc-${tag}.env`);
  const hook = join(dir, `udhcpc-${tag}.sh`);
  writeFileSync(hook, `#!/bin/sh\n[ "$1" = bound ] && echo "\${ip:-}|\${boot_file:-}|\${ntpsrv:-}|\${hostname:-}" > ${out}\nexit 0\n`);
  chmodSync(hook, 0o755);
  // -q: quit once bound; -n: fail if no lease; the vendor class makes it a UEFI x64 PXE client.
  const log = lab.exec(client, 'sh', ['-c', `udhcpc -i eth0 -f -q -n -t 5 -T 2 -V PXEClient:Arch:00007:UNDI:003000 -s ${hook} 2>&1`], { timeoutMs: 60_000 });
  assert.match(log, /lease of \S+ obtained/, `udhcpc got no lease:\n${log}`);
  const [ip = '', bootfile = '', ntp = '', hostname = ''] = readFileSync(out, 'utf8').trim().split('|');
  return { ip, bootfile, ntp, hostname };
}

test('a config with reservations and dhcp.boot.groups: loaded into the inventory with a warning; the client gets its address and boot file; the inventory wins after that', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const cfg = join(dir, 'config-hosts.yaml');
  writeFileSync(
    cfg,
    [
      ...serveConfig('state-config-hosts', 'root'),
      '  boot:',
      '    groups:',
      '      workers:',
      '        bootfiles: { uefi-x64: grubx64.efi }',
      '        ntp_servers: [198.18.20.123]',
      '  subnets:',
      '    - subnet: 198.18.20.0/24',
      '      pools: [{ start: 198.18.20.100, end: 198.18.20.150 }]',
      '      lease_time: 600',
      '      reservations:',
      `        - { mac: "${CLIENT_MAC}", ip: 198.18.20.10, hostname: node01, group: workers }`,
      '',
    ].join('\n'),
  );
  const first = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => first.stop('SIGKILL'));
  await first.ready();
  const deprecated = first.lines.filter((l) => l['code'] === 'BH_CONFIG_HOSTS_DEPRECATED');
  assert.equal(deprecated.length, 1, 'one warning');
  assert.match(deprecated[0]!.msg, /reservations and dhcp\.boot\.groups are deprecated.*bootherd config migrate .*config-hosts\.yaml > fleet\.yaml && bootherd apply -f fleet\.yaml/);

  assert.deepEqual(pxeClient('first'), { ip: '198.18.20.10', bootfile: 'grubx64.efi', ntp: '198.18.20.123', hostname: 'node01' });
  const shown = runBootherd(['hosts', 'show', CLIENT_MAC, '--json', '-c', cfg]);
  assert.equal(shown.status, 0, shown.stderr);
  const host = JSON.parse(shown.stdout) as { ip: string; group: string; state: string };
  assert.deepEqual([host.ip, host.group, host.state], ['198.18.20.10', 'workers', 'new']);

  // The inventory is the source now: a new address and boot file reach the client at its next DISCOVER.
  const set = runBootherd(['hosts', 'set', CLIENT_MAC, '--ip', '198.18.20.11', '--bootfile', 'shimx64.efi', '-c', cfg]);
  assert.equal(set.status, 0, set.stderr);
  await first.waitFor((l) => l.msg === 'dhcp reservations follow the inventory' && l['moved'] === 1, 'reservation re-sync', 30_000);
  const moved = pxeClient('moved');
  assert.deepEqual([moved.ip, moved.bootfile], ['198.18.20.11', 'shimx64.efi']);
  assert.deepEqual(await first.stop(), { code: 0, signal: null });

  // Restarted with the same config: the inventory's address wins, and the difference is named.
  const second = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => second.stop('SIGKILL'));
  await second.ready();
  const differ = second.lines.filter((l) => l['code'] === 'BH_CONFIG_HOSTS_DIFFER').map((l) => String(l['difference']));
  assert.ok(differ.includes(`host ${CLIENT_MAC}: ip is "198.18.20.11" in the inventory, "198.18.20.10" in the config; the inventory's is used`), differ.join('\n'));
  assert.equal(pxeClient('restart').ip, '198.18.20.11');
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
});
