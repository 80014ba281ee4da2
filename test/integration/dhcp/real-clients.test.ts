// Real clients against bootherd in full mode, in namespaces: ISC dhclient and busybox udhcpc get a
// lease, renew it (unicast REQUEST to the server) and release it; and the same MAC gets the same
// address after bootherd restarts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, tempDir } from '../../helpers/dhcp-lab.ts';
import type { DhcpProc } from '../../helpers/dhcp-lab.ts';
import { UDHCPC_PATIENT_ARGS, requireTool, startDhclient, udhcpcLease, udhcpcScript } from '../../helpers/dhcp-clients.ts';
import { openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';
const SERVER = '198.18.0.1';

describe('real DHCP clients against bootherd (full mode)', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srvNs: string;
  let cliNs: string;
  let srv: DhcpProc | undefined;
  const config = () => ({
    state_dir: state.path,
    dhcp: {
      mode: 'full',
      interfaces: [{ name: 'lan0' }],
      subnets: [{ subnet: '198.18.0.0/24', lease_time: 600, routers: [SERVER], pools: [{ start: '198.18.0.100', end: '198.18.0.199' }] }],
    },
  });
  const leaseState = async (ip: string): Promise<string | undefined> => {
    const store = await openStore(`sqlite:${state.path}/bootherd.db`, { logger: silentLogger() });
    try {
      return (await store.leases.get(ip))?.state;
    } finally {
      await store.close();
    }
  };

  /** The server's warnings and errors (a slow lease store says BH_DHCP_SLOW_ACK), for failure messages. */
  const serverWarnings = (): string => JSON.stringify(srv?.reader.lines.filter((l) => Number(l.level) >= 40) ?? []);

  before(async () => {
    requireTool('dhclient', 'isc-dhcp-client');
    requireTool('udhcpc', 'udhcpc');
    lab = new NetLab();
    state = tempDir('realclients');
    srvNs = lab.ns('srv');
    cliNs = lab.ns('cli');
    // The client's interface starts without an address, like a booting machine.
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: `${SERVER}/24` }, { ns: cliNs, ifname: 'c0' });
    srv = await startDhcpServerProc(lab, srvNs, config());
  });
  after(async () => {
    await srv?.stop();
    await lab?.destroy();
    state?.cleanup();
  });

  const setMac = (mac: string): void => {
    lab.exec(cliNs, 'ip', ['link', 'set', 'c0', 'address', mac]);
  };

  test('dhclient gets a lease, renews it by unicast and releases it', async () => {
    setMac('02:00:00:00:d1:01');
    const dir = tempDir('dhclient');
    try {
      const dh = startDhclient(lab, cliNs, 'c0', dir.path, { renewS: 2 });
      const ev = await dh.log.waitFor((e) => e.some((x) => x.reason === 'RENEW'), 60_000, 'dhclient BOUND then RENEW');
      const bound = ev.find((x) => x.reason === 'BOUND');
      assert.ok(bound, JSON.stringify(ev));
      assert.match(bound.ip, /^198\.18\.0\.(1[0-9][0-9])$/);
      assert.equal(bound.server, SERVER);
      const renew = ev.find((x) => x.reason === 'RENEW')!;
      assert.equal(renew.ip, bound.ip, 'the renewal keeps the address');
      assert.equal(renew.server, SERVER);
      assert.equal(await leaseState(bound.ip), 'bound');
      dh.release();
      await dh.log.waitFor((e) => e.some((x) => x.reason === 'RELEASE'), 60_000, 'dhclient RELEASE');
      if (dh.child.exitCode === null && dh.child.signalCode === null) await once(dh.child, 'exit');
      await waitFor(async () => (await leaseState(bound.ip)) === 'released', 'the lease to be marked released');
    } finally {
      dir.cleanup();
    }
  });

  test('udhcpc gets a lease, renews it (SIGUSR1) and releases it (SIGUSR2)', async () => {
    setMac('02:00:00:00:d2:01');
    const { script, log } = udhcpcScript(state.path, 'renew');
    const u = lab.spawn(cliNs, 'udhcpc', ['-i', 'c0', '-f', '-s', script, ...UDHCPC_PATIENT_ARGS]);
    u.stdout?.resume();
    u.stderr?.resume();
    try {
      const ev = await log.waitFor((e) => e.some((x) => x.reason === 'bound'), 40_000, 'udhcpc bound');
      const bound = ev.find((x) => x.reason === 'bound')!;
      assert.match(bound.ip, /^198\.18\.0\.(1[0-9][0-9])$/);
      assert.equal(bound.server, SERVER);
      u.kill('SIGUSR1');
      const ev2 = await log.waitFor((e) => e.some((x) => x.reason === 'renew'), 40_000, 'udhcpc renew');
      assert.equal(ev2.find((x) => x.reason === 'renew')!.ip, bound.ip);
      assert.equal(await leaseState(bound.ip), 'bound');
      u.kill('SIGUSR2');
      await waitFor(async () => (await leaseState(bound.ip)) === 'released', 'the lease to be marked released');
    } finally {
      u.kill('SIGTERM');
    }
  });

  test('the same MAC gets the same address after bootherd restarts', async () => {
    const macs = ['02:00:00:00:e1:01', '02:00:00:00:e1:02', '02:00:00:00:e1:03'];
    const once_ = async (mac: string, tag: string): Promise<string> => {
      setMac(mac);
      const { bound, log } = udhcpcLease(lab, cliNs, 'c0', state.path, tag);
      assert.ok(bound, `${mac} got no lease: ${JSON.stringify(log.events())}; server: ${serverWarnings()}`);
      return bound.ip;
    };
    const before_ = new Map<string, string>();
    for (const [i, mac] of macs.entries()) before_.set(mac, await once_(mac, `a${i}`));
    assert.equal(new Set(before_.values()).size, macs.length, 'three clients, three addresses');

    await srv!.stop();
    srv = await startDhcpServerProc(lab, srvNs, config());
    // Ask in the reverse order: a server that forgot would hand out its first free address instead.
    for (const [i, mac] of [...macs].reverse().entries()) assert.equal(await once_(mac, `b${i}`), before_.get(mac), `${mac} after the restart`);
  });
});

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
