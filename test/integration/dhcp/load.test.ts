// Load through a relay: perfdhcp (package kea-admin; it always acts as a relay) runs a bounded
// 10,000-client DORA at a moderate rate against bootherd in full mode; at least 99.5 % are ACKed
// and no address is handed to two clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, tempDir } from '../../helpers/dhcp-lab.ts';
import type { DhcpProc } from '../../helpers/dhcp-lab.ts';
import { requireTool } from '../../helpers/dhcp-clients.ts';
import { runPerfdhcp } from '../../helpers/perfdhcp.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';
const CLIENTS = 10_000;
const RATE = 500; // DORAs per second: moderate, well below the peak (bench/dhcp measures that)

describe('DHCP load through a relay (perfdhcp)', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srv: DhcpProc | undefined;
  let cliNs: string;

  before(async () => {
    requireTool('perfdhcp', 'kea-admin');
    lab = new NetLab();
    state = tempDir('load');
    const srvNs = lab.ns('srv');
    cliNs = lab.ns('cli');
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: '198.18.0.1/17' }, { ns: cliNs, ifname: 'c0', addr: '198.18.0.2/17' });
    srv = await startDhcpServerProc(lab, srvNs, {
      state_dir: state.path,
      dhcp: { mode: 'full', interfaces: [{ name: 'lan0' }], subnets: [{ subnet: '198.18.0.0/17', pools: [{ start: '198.18.1.0', end: '198.18.127.254' }] }] },
    });
  });
  after(async () => {
    await srv?.stop();
    await lab?.destroy();
    state?.cleanup();
  });

  test(`${CLIENTS} clients at ${RATE}/s: at least 99.5 % ACKed, no address given twice`, async () => {
    // Bounded: -n caps the DISCOVERs sent, -p the run time (seconds). -d: an answer counts if it comes
    // within 4 s (perfdhcp's default is 1 s), the patience of a firmware client: an ACK waits for its
    // lease to be durable, and a slow disk delays it (BH_DHCP_SLOW_ACK).
    const r = await runPerfdhcp(lab, cliNs, ['-4', '-l', 'c0', '-r', String(RATE), '-R', String(CLIENTS), '-n', String(CLIENTS), '-d', '4', '-p', String(Math.ceil(CLIENTS / RATE) + 15), '198.18.0.1'], 120_000);
    assert.equal(r.discoverOffer.sent, CLIENTS, r.raw);
    const acked = r.requestAck.received / CLIENTS;
    assert.ok(acked >= 0.995, `only ${(acked * 100).toFixed(2)} % ACKed:\n${r.raw}`);
    assert.equal(r.discoverOffer.nonUnique, 0, 'an address was offered to two clients');
    assert.equal(r.requestAck.nonUnique, 0, 'an address was ACKed to two clients');
    assert.equal(r.requestAck.rejected, 0);
  });
});
