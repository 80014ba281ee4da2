// Two links: bootherd serves two interfaces, each with its own subnet. Each client is answered on
// its own link, from that link's address, with an address from that link's pool, and the other
// link never sees the reply.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, tempDir } from '../../helpers/dhcp-lab.ts';
import type { DhcpProc } from '../../helpers/dhcp-lab.ts';
import { requireTool, udhcpcLease } from '../../helpers/dhcp-clients.ts';
import { UdpAgent } from '../../helpers/udp-agent-driver.ts';
import { readReply } from '../../helpers/dhcp-packets.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';

describe('DHCP on two links', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srv: DhcpProc | undefined;
  const ns: Record<'srv' | 'a' | 'b', string> = { srv: '', a: '', b: '' };
  const MAC = { a: '02:00:00:00:0a:01', b: '02:00:00:00:0b:01' };

  before(async () => {
    requireTool('udhcpc', 'udhcpc');
    lab = new NetLab();
    state = tempDir('twolinks');
    ns.srv = lab.ns('srv');
    ns.a = lab.ns('la');
    ns.b = lab.ns('lb');
    lab.veth({ ns: ns.srv, ifname: 'lan0', addr: '198.18.1.1/24' }, { ns: ns.a, ifname: 'c0' });
    lab.veth({ ns: ns.srv, ifname: 'lan1', addr: '198.18.2.1/24' }, { ns: ns.b, ifname: 'c0' });
    lab.exec(ns.a, 'ip', ['link', 'set', 'c0', 'address', MAC.a]);
    lab.exec(ns.b, 'ip', ['link', 'set', 'c0', 'address', MAC.b]);
    srv = await startDhcpServerProc(lab, ns.srv, {
      state_dir: state.path,
      dhcp: {
        mode: 'full',
        interfaces: [{ name: 'lan0' }, { name: 'lan1' }],
        subnets: [
          { subnet: '198.18.1.0/24', pools: [{ start: '198.18.1.100', end: '198.18.1.199' }] },
          { subnet: '198.18.2.0/24', pools: [{ start: '198.18.2.100', end: '198.18.2.199' }] },
        ],
      },
    });
  });
  /** The server's warnings and errors (a slow lease store says BH_DHCP_SLOW_ACK), for failure messages. */
  const serverWarnings = (): string => JSON.stringify(srv?.reader.lines.filter((l) => Number(l.level) >= 40) ?? []);
  after(async () => {
    await srv?.stop();
    await lab?.destroy();
    state?.cleanup();
  });

  test('each client gets its own link\'s pool and server address; the other link never sees the reply', async () => {
    // Watchers on both client links record every DHCP reply broadcast there.
    const watch = { a: await UdpAgent.start(lab, ns.a), b: await UdpAgent.start(lab, ns.b) };
    try {
      for (const w of Object.values(watch)) assert.equal((await w.open('w', 'c0', 68)).ev, 'opened');
      const run = (side: 'a' | 'b'): { ip: string; server: string } => {
        const { bound, log } = udhcpcLease(lab, ns[side], 'c0', state.path, side);
        assert.ok(bound, `client ${side} got no lease: ${JSON.stringify(log.events())}; server: ${serverWarnings()}`);
        return bound;
      };
      const a = run('a');
      const b = run('b');
      assert.match(a.ip, /^198\.18\.1\.1[0-9][0-9]$/);
      assert.equal(a.server, '198.18.1.1');
      assert.match(b.ip, /^198\.18\.2\.1[0-9][0-9]$/);
      assert.equal(b.server, '198.18.2.1');

      const replies = (side: 'a' | 'b') =>
        watch[side]
          .received('w')
          .map((e) => ({ from: String(e.from), r: readReply(Buffer.from(String(e.hex), 'hex')) }))
          .filter((x) => x.r !== undefined);
      // Each link carried replies (OFFER, ACK) for its own client only, sent from its own address.
      // (The watchers report through a pipe: wait until each has seen its own client's two replies.)
      for (const side of ['a', 'b'] as const) {
        await watch[side].waitFor(() => replies(side).filter((x) => x.r!.mac === MAC[side]).length >= 2, 5000, `the OFFER and ACK on link ${side}`);
      }
      assert.deepEqual(new Set(replies('a').map((x) => `${x.r!.mac} ${x.from}`)), new Set([`${MAC.a} 198.18.1.1`]));
      assert.deepEqual(new Set(replies('b').map((x) => `${x.r!.mac} ${x.from}`)), new Set([`${MAC.b} 198.18.2.1`]));
    } finally {
      watch.a.stop();
      watch.b.stop();
    }
  });
});
