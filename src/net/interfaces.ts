// Interface discovery: names, MAC, MTU, up/down and IPv4 addresses of this network namespace.
// MTU and flags come from /sys/class/net (as seen by this process), addresses from getifaddrs.
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { NetError } from './errors.ts';
import { validInterfaceName } from './socket.ts';

export interface InterfaceAddress {
  address: string;
  prefix: number;
}

export interface InterfaceInfo {
  name: string;
  /** aa:bb:cc:dd:ee:ff; '' for interfaces without a link-layer address. */
  mac: string;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  ipv4: InterfaceAddress[];
}

const SYS = '/sys/class/net';
const IFF_UP = 0x1;

function readSys(name: string, file: string): string | undefined {
  try {
    return readFileSync(`${SYS}/${name}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function sysNames(): string[] {
  try {
    return readdirSync(SYS).filter(validInterfaceName);
  } catch {
    return [];
  }
}

function build(name: string, addrs: ReturnType<typeof networkInterfaces>): InterfaceInfo {
  const list = addrs[name] ?? [];
  const ipv4 = list.filter((a) => a.family === 'IPv4').map((a) => ({ address: a.address, prefix: Number((a.cidr ?? '/32').split('/')[1]) }));
  const flags = Number.parseInt(readSys(name, 'flags') ?? '', 16);
  const mtuSys = Number(readSys(name, 'mtu'));
  const macSys = readSys(name, 'address');
  const firstMac = list.find((a) => a.mac !== '00:00:00:00:00:00')?.mac;
  return {
    name,
    mac: macSys ?? firstMac ?? '',
    mtu: Number.isFinite(mtuSys) && mtuSys > 0 ? mtuSys : 1500,
    // Without /sys, an interface with addresses is reported up (getifaddrs lists only configured ones).
    up: Number.isFinite(flags) ? (flags & IFF_UP) !== 0 : list.length > 0,
    ipv4,
  };
}

/** Every interface of this network namespace, sorted by name. */
export function listInterfaces(): InterfaceInfo[] {
  const addrs = networkInterfaces();
  const names = new Set([...sysNames(), ...Object.keys(addrs)]);
  return [...names].sort().map((n) => build(n, addrs));
}

/** One interface; throws BH_NET_NO_INTERFACE when it does not exist. */
export function interfaceInfo(name: string): InterfaceInfo {
  const addrs = networkInterfaces();
  if (!validInterfaceName(name) || (readSys(name, 'mtu') === undefined && addrs[name] === undefined)) {
    throw new NetError('BH_NET_NO_INTERFACE', `interface ${name} does not exist`, 'check the interface name with `ip link`; it must exist before bootherd starts');
  }
  return build(name, addrs);
}

/** The interface's first IPv4 address, or throws BH_NET_NO_ADDRESS. */
export function primaryIpv4(name: string): InterfaceAddress {
  const info = interfaceInfo(name);
  const first = info.ipv4[0];
  if (first === undefined) {
    throw new NetError('BH_NET_NO_ADDRESS', `interface ${name} has no IPv4 address`, `give ${name} an address (ip addr add ADDR/PREFIX dev ${name}) before starting bootherd`);
  }
  return first;
}
