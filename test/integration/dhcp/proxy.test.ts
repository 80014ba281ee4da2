// ProxyDHCP beside a plain DHCP server (dnsmasq, addresses only) on one LAN: bootherd in proxy
// mode answers only PXE clients, with a boot offer that carries no address, while dnsmasq hands out
// the address; on port 4011 it answers the request's source port (4011 for EDK2, 68 for iPXE).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { startDhcpServerProc, tempDir } from '../../helpers/dhcp-lab.ts';
import type { DhcpProc } from '../../helpers/dhcp-lab.ts';
import { requireTool } from '../../helpers/dhcp-clients.ts';
import { UdpAgent } from '../../helpers/udp-agent-driver.ts';
import type { AgentEvent } from '../../helpers/udp-agent-driver.ts';
import { MSG, OPT, encodeClient, readReply } from '../../helpers/dhcp-packets.ts';
import type { ReadReply } from '../../helpers/dhcp-packets.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';
const BOOTHERD = '198.18.0.1';
const DNSMASQ = '198.18.0.2';
const MAC = '02:00:00:00:00:5e';
const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const UUID = Uint8Array.of(0, ...Array.from({ length: 16 }, (_, i) => i + 1));
const EDK2 = (): [number, Uint8Array][] => [
  [OPT.VENDOR_CLASS, text('PXEClient:Arch:00007:UNDI:003000')],
  [93, Uint8Array.of(0, 7)],
  [94, Uint8Array.of(1, 3, 0)],
  [97, UUID],
];
// Option 43 with sub-option 71 (boot item: server type 0x8000, layer 0), as PXE clients send to 4011.
const BOOT_ITEM: [number, Uint8Array] = [OPT.VENDOR_SPECIFIC, Uint8Array.of(71, 4, 0x80, 0x00, 0, 0, 255)];

describe('ProxyDHCP beside dnsmasq', { skip }, () => {
  let lab: NetLab;
  let state: ReturnType<typeof tempDir>;
  let srv: DhcpProc | undefined;
  let cli: UdpAgent | undefined;
  let cliNs: string;
  let xid = 0x5e000000;

  before(async () => {
    requireTool('dnsmasq', 'dnsmasq');
    lab = new NetLab();
    state = tempDir('proxy');
    const lan = lab.ns('lan');
    const srvNs = lab.ns('srv');
    const dnsNs = lab.ns('dns');
    cliNs = lab.ns('cli');
    lab.bridge(lan, 'br0');
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: `${BOOTHERD}/24` }, { ns: lan, ifname: 'p-srv' });
    lab.veth({ ns: dnsNs, ifname: 'd0', addr: `${DNSMASQ}/24` }, { ns: lan, ifname: 'p-dns' });
    lab.veth({ ns: cliNs, ifname: 'c0' }, { ns: lan, ifname: 'p-cli' });
    for (const p of ['p-srv', 'p-dns', 'p-cli']) lab.enslave(lan, p, 'br0');
    lab.exec(cliNs, 'ip', ['link', 'set', 'c0', 'address', MAC]);

    // A plain DHCP server: addresses only, no PXE, no DNS (port=0), bound to its namespace's interface.
    const dns = lab.spawn(dnsNs, 'dnsmasq', [
      '--keep-in-foreground', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--no-resolv', '--no-hosts', '--user=root',
      '--interface=d0', '--bind-interfaces', '--no-ping', '--log-dhcp', '--log-facility=-',
      '--dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,10m',
      `--dhcp-leasefile=${state.path}/dnsmasq.leases`, `--pid-file=${state.path}/dnsmasq.pid`,
    ]);
    dns.stdout?.resume();
    dns.stderr?.resume();
    // log_level info: bootherd serve logs every boot event, which the first test reads.
    srv = await startDhcpServerProc(lab, srvNs, { state_dir: state.path, log_level: 'info', dhcp: { mode: 'proxy', interfaces: [{ name: 'lan0' }] } });
    cli = await UdpAgent.start(lab, cliNs);
    const o = await cli.open('c68', 'c0', 68);
    assert.equal(o.ev, 'opened', JSON.stringify(o));
  });
  after(async () => {
    cli?.stop();
    await srv?.stop();
    await lab?.destroy();
    state?.cleanup();
  });

  const replies = (id: string, x: number): { e: AgentEvent; r: ReadReply }[] =>
    cli!
      .received(id)
      .map((e) => ({ e, r: readReply(Buffer.from(String(e.hex), 'hex'))! }))
      .filter((y) => y.r !== undefined && y.r.packet.xid === x);
  const waitReply = (id: string, x: number, from: string, what: string): Promise<AgentEvent> =>
    cli!.waitFor((e) => e.ev === 'recv' && e.id === id && e.from === from && readReply(Buffer.from(String(e.hex), 'hex'))?.packet.xid === x, 10_000, what);

  test('a plain client gets only dnsmasq\'s offer; a PXE client also gets bootherd\'s boot offer without an address', async () => {
    // Broadcast flag set, as EDK2 does: this client has no address yet, so dnsmasq must broadcast too.
    const plain = ++xid;
    const pxe = ++xid;
    assert.equal((await cli!.sendTo('c68', '255.255.255.255', 67, encodeClient({ type: MSG.DISCOVER, mac: MAC, xid: plain, broadcast: true }))).ev, 'sent');
    await waitReply('c68', plain, DNSMASQ, 'dnsmasq\'s offer to the plain client');
    assert.equal((await cli!.sendTo('c68', '255.255.255.255', 67, encodeClient({ type: MSG.DISCOVER, mac: MAC, xid: pxe, broadcast: true, options: EDK2() }))).ev, 'sent');
    await waitReply('c68', pxe, BOOTHERD, 'bootherd\'s proxy offer');
    await waitReply('c68', pxe, DNSMASQ, 'dnsmasq\'s offer to the PXE client');

    // bootherd handles requests in order: by the time the PXE offer is here, a reply to the plain
    // DISCOVER (sent first) would be too.
    assert.deepEqual(replies('c68', plain).map((x) => x.e.from), [DNSMASQ]);
    const offer = replies('c68', pxe).find((x) => x.e.from === BOOTHERD)!.r;
    assert.equal(offer.type, MSG.OFFER);
    assert.equal(offer.packet.yiaddr, '0.0.0.0', 'a proxy offer carries no address');
    assert.equal(offer.serverId, BOOTHERD);
    assert.equal(Buffer.from(offer.packet.options.get(OPT.VENDOR_CLASS)!).toString('latin1'), 'PXEClient');
    assert.deepEqual(offer.packet.options.get(97), UUID, 'option 97 echoed');
    for (const lease of [OPT.LEASE_TIME, OPT.SUBNET_MASK, OPT.ROUTER]) assert.equal(offer.packet.options.has(lease), false, `no lease option ${lease}`);
    // And bootherd's boot event for the plain DISCOVER says why it stayed silent.
    const ignored = await srv!.reader.waitFor((l) => l.component === 'events' && l.kind === 'ignored' && (l.detail as { xid?: number } | undefined)?.xid === plain, 5000, 'the ignored event');
    assert.equal((ignored.detail as { reason: string }).reason, 'not_pxe_client');
    assert.equal(ignored.host, MAC);
    const theirs = replies('c68', pxe).find((x) => x.e.from === DNSMASQ)!.r;
    assert.match(theirs.packet.yiaddr, /^198\.18\.0\.1[0-9][0-9]$/, 'the address comes from dnsmasq');
  });

  test('port 4011: the boot-server ACK goes to the request\'s source port (4011 like EDK2, 68 like iPXE)', async () => {
    // The client now holds the address dnsmasq leased it.
    lab.exec(cliNs, 'ip', ['addr', 'add', '198.18.0.150/24', 'dev', 'c0']);
    assert.equal((await cli!.open('c4011', 'c0', 4011)).ev, 'opened');
    for (const [id, port] of [['c4011', 4011], ['c68', 68]] as const) {
      const x = ++xid;
      const req = encodeClient({ type: MSG.REQUEST, mac: MAC, xid: x, ciaddr: '198.18.0.150', options: [...EDK2(), BOOT_ITEM] });
      assert.equal((await cli!.sendTo(id, BOOTHERD, 4011, req)).ev, 'sent');
      const got = await waitReply(id, x, BOOTHERD, `the boot-server ACK on port ${port}`);
      assert.equal(got.fromPort, 4011, 'sent from port 4011');
      const r = readReply(Buffer.from(String(got.hex), 'hex'))!;
      assert.equal(r.type, MSG.ACK);
      assert.notEqual(r.packet.file, '', 'the ACK names the boot file');
      assert.equal(r.packet.siaddr, BOOTHERD);
    }
  });
});
