// Durability: kill -9 the DHCP server in the middle of a burst of 1,000 DORAs; after a restart on
// the same state directory, every lease the client saw ACKed is still there: an INIT-REBOOT
// REQUEST for it (option 50, ciaddr 0, no server id) is ACKed with the same address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, startLoadClient, tempDir } from '../../helpers/dhcp-lab.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';

describe('DHCP durability across kill -9', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srvNs: string;
  let cliNs: string;
  const config = () => ({
    state_dir: state.path,
    dhcp: { mode: 'full', interfaces: [{ name: 'lan0' }], subnets: [{ subnet: '198.18.0.0/20', lease_time: 3600, pools: [{ start: '198.18.1.0', end: '198.18.15.254' }] }] },
  });

  before(() => {
    lab = new NetLab();
    state = tempDir('durability');
    srvNs = lab.ns('srv');
    cliNs = lab.ns('cli');
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: '198.18.0.1/20' }, { ns: cliNs, ifname: 'c0', addr: '198.18.0.2/20' });
  });
  after(async () => {
    await lab?.destroy();
    state?.cleanup();
  });

  test('every ACKed lease survives kill -9 and is re-ACKed with the same address on INIT-REBOOT', async () => {
    const first = await startDhcpServerProc(lab, srvNs, config());
    const burst = startLoadClient(lab, cliNs, { mode: 'dora', server: '198.18.0.1', relay: '198.18.0.2', count: 1000, concurrency: 32, timeoutMs: 1000, tries: 2 });
    // Kill the server while the burst is running: after 300 ACKs, with 700 still to go.
    await burst.waitFor((l) => typeof l.ack === 'string' && burst.lines.filter((x) => typeof x.ack === 'string').length >= 300, 60_000, '300 ACKs');
    await first.kill9();
    burst.child.kill('SIGTERM');
    await burst.exited;

    const acked = new Map<string, string>();
    for (const l of burst.lines) if (typeof l.ack === 'string') acked.set(l.ack, String(l.ip));
    assert.ok(acked.size >= 300 && acked.size < 1000, `the kill landed mid-burst (${acked.size} ACKs seen)`);
    assert.equal(new Set(acked.values()).size, acked.size, 'no address was ACKed to two clients');

    const second = await startDhcpServerProc(lab, srvNs, config());
    try {
      const check = startLoadClient(lab, cliNs, {
        mode: 'reboot',
        server: '198.18.0.1',
        relay: '198.18.0.2',
        concurrency: 32,
        timeoutMs: 2000,
        tries: 3,
        backoff: true,
        input: [...acked].map(([mac, ip]) => ({ mac, ip })),
      });
      const done = await check.waitFor((l) => l.done === true, 120_000, 'the INIT-REBOOT run');
      const bad = check.lines.filter((l) => typeof l.reboot === 'string' && (l.result !== 'ack' || l.ip !== l.asked));
      assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${acked.size} ACKed leases were lost or moved`);
      assert.equal(done.acks, acked.size);
    } finally {
      await second.stop();
    }
  });
});
