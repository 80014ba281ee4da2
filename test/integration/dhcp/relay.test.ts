// Relayed requests: a request whose giaddr lies in another configured subnet gets an address from
// that subnet's pool, answered by unicast to the relay's port 67; a giaddr outside every configured
// subnet gets no answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, startLoadClient, tempDir } from '../../helpers/dhcp-lab.ts';
import type { DhcpProc } from '../../helpers/dhcp-lab.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';

describe('DHCP through a relay', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srv: DhcpProc | undefined;
  let srvNs: string;
  let relayNs: string;

  before(async () => {
    lab = new NetLab();
    state = tempDir('relay');
    srvNs = lab.ns('srv');
    relayNs = lab.ns('rly');
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: '198.18.0.1/24' }, { ns: relayNs, ifname: 'up0', addr: '198.18.0.2/24' });
    // The relay's client-side addresses: one in a configured remote subnet, one in an unknown one.
    lab.exec(relayNs, 'ip', ['addr', 'add', '198.18.50.1/32', 'dev', 'up0']);
    lab.exec(relayNs, 'ip', ['addr', 'add', '198.18.60.1/32', 'dev', 'up0']);
    lab.exec(srvNs, 'ip', ['route', 'add', '198.18.50.0/24', 'via', '198.18.0.2']);
    lab.exec(srvNs, 'ip', ['route', 'add', '198.18.60.0/24', 'via', '198.18.0.2']);
    srv = await startDhcpServerProc(lab, srvNs, {
      state_dir: state.path,
      dhcp: {
        mode: 'full',
        interfaces: [{ name: 'lan0' }],
        subnets: [
          { subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }] },
          { subnet: '198.18.50.0/24', pools: [{ start: '198.18.50.100', end: '198.18.50.199' }] },
        ],
      },
    });
  });
  after(async () => {
    await srv?.stop();
    await lab?.destroy();
    state?.cleanup();
  });

  test('giaddr in another subnet: the address comes from that subnet\'s pool', async () => {
    const c = startLoadClient(lab, relayNs, { mode: 'dora', server: '198.18.0.1', relay: '198.18.50.1', count: 5, first: 1, backoff: true });
    const done = await c.waitFor((l) => l.done === true, 60_000, 'relayed DORAs');
    assert.equal(done.acks, 5);
    for (const l of c.lines.filter((x) => typeof x.ack === 'string')) {
      assert.match(String(l.ip), /^198\.18\.50\.1[0-9][0-9]$/);
      assert.equal(l.server, '198.18.0.1');
    }
  });

  test('giaddr in the interface\'s own subnet: the address comes from the local pool', async () => {
    const c = startLoadClient(lab, relayNs, { mode: 'dora', server: '198.18.0.1', relay: '198.18.0.2', count: 3, first: 100, backoff: true });
    const done = await c.waitFor((l) => l.done === true, 60_000, 'relayed DORAs');
    assert.equal(done.acks, 3);
    for (const l of c.lines.filter((x) => typeof x.ack === 'string')) assert.match(String(l.ip), /^198\.18\.0\.1[0-9][0-9]$/);
  });

  test('giaddr outside every configured subnet gets no answer', async () => {
    const c = startLoadClient(lab, relayNs, { mode: 'dora', server: '198.18.0.1', relay: '198.18.60.1', count: 2, first: 200, tries: 1, timeoutMs: 1500 });
    const done = await c.waitFor((l) => l.done === true, 30_000, 'relayed DORAs');
    assert.equal(done.acks, 0);
    assert.deepEqual(c.lines.filter((l) => l.fail !== undefined).map((l) => l.stage), ['offer', 'offer']);
  });
});
