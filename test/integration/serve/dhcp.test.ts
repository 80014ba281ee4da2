// `bootherd serve` with a `dhcp` section, as an operator runs it: full mode on one link of a test
// namespace, started as root, serving as nobody. A real client (udhcpc) gets a lease; after a
// restart the same client gets the same address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { Daemon } from '../../helpers/daemon.ts';

const root = canUseNetns();
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
  lab.exec(client, 'ip', ['link', 'set', 'eth0', 'address', '52:54:00:aa:20:01']);
  dir = mkdtempSync(join(tmpdir(), 'bh-serve-dhcp-'));
  chmodSync(dir, 0o755);
});
after(() => lab?.destroySync());

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
      `state_dir: ${join(dir, 'state')}`,
      'user: nobody',
      'interfaces:',
      '  - name: lan0',
      '    mode: full',
      'tftp:',
      '  address: 198.18.20.1',
      'http:',
      '  address: 198.18.20.1',
      'dhcp:',
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
