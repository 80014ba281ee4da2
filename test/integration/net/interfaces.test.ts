// Interface discovery, checked against what `ip` reports inside a namespace the test creates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';
const PROBE = `
import { listInterfaces, interfaceInfo } from ${JSON.stringify(new URL('../../../src/net/index.ts', import.meta.url).pathname)};
let missing;
try { interfaceInfo('nosuch0'); } catch (e) { missing = e.code; }
console.log(JSON.stringify({ list: listInterfaces(), one: interfaceInfo('lan0'), missing }));
`;

describe('listInterfaces / interfaceInfo', { skip }, () => {
  let lab: NetLab;
  let ns: string;
  before(() => {
    lab = new NetLab();
    ns = lab.ns('ifs');
    const peer = lab.ns('peer');
    lab.veth({ ns, ifname: 'lan0', addr: '198.18.3.1/24' }, { ns: peer, ifname: 'p0' });
    lab.exec(ns, 'ip', ['addr', 'add', '198.18.4.1/25', 'dev', 'lan0']);
    lab.exec(ns, 'ip', ['link', 'set', 'lan0', 'mtu', '1450']);
    lab.exec(ns, 'ip', ['link', 'add', 'down0', 'type', 'bridge']);
  });
  after(() => lab?.destroy());

  test('reports name, MAC, MTU, up and every IPv4 address with its prefix', () => {
    const r = JSON.parse(lab.exec(ns, process.execPath, ['--input-type=module', '-e', PROBE])) as {
      list: { name: string; mac: string; mtu: number; up: boolean; ipv4: { address: string; prefix: number }[] }[];
      one: { name: string; mac: string; mtu: number; up: boolean; ipv4: { address: string; prefix: number }[] };
      missing: string;
    };
    const mac = JSON.parse(lab.exec(ns, 'ip', ['-j', 'link', 'show', 'lan0']))[0].address as string;
    assert.deepEqual(r.list.map((i) => i.name), ['down0', 'lan0', 'lo']);
    assert.deepEqual(r.one, { name: 'lan0', mac, mtu: 1450, up: true, ipv4: [{ address: '198.18.3.1', prefix: 24 }, { address: '198.18.4.1', prefix: 25 }] });
    const down = r.list.find((i) => i.name === 'down0');
    assert.equal(down?.up, false);
    assert.deepEqual(down?.ipv4, []);
    assert.equal(r.missing, 'BH_NET_NO_INTERFACE');
  });
});
