// The DHCP server's LeaseStore port over the store's lease repository (src/store).
// The server keys clients as `id:<hex>` / `mac:<mac>`; the store accepts only hex, ':', '.', '-'
// in client_key, so a MAC key is stored as the bare MAC, a client-id key as '-' + hex, and any other
// key (the server's `declined:<key>` for quarantined addresses) as '.' + the hex of its text, all
// reversibly.
import type { Store, Lease as StoredLease } from '../store/index.ts';
import type { Lease, LeaseStore } from './lease-store.ts';

const toKey = (k: string): string => (k.startsWith('mac:') ? k.slice(4) : k.startsWith('id:') ? `-${k.slice(3)}` : `.${Buffer.from(k, 'utf8').toString('hex')}`);
const fromKey = (k: string): string => (k.startsWith('-') ? `id:${k.slice(1)}` : k.startsWith('.') ? Buffer.from(k.slice(1), 'hex').toString('utf8') : `mac:${k}`);

function toPort(l: StoredLease): Lease {
  return {
    subnet: l.subnet,
    ip: l.ip,
    clientKey: fromKey(l.clientKey),
    mac: l.mac,
    hostname: l.hostname,
    state: l.state,
    expiresAt: l.expiresAt,
    updatedAt: l.updatedAt,
    serverId: l.serverId,
  };
}

const toRow = (l: Lease) => ({ ...l, clientKey: toKey(l.clientKey) });

export function leaseStoreOver(store: Store): LeaseStore {
  const r = store.leases;
  return {
    get: async (ip) => {
      const l = await r.get(ip);
      return l === undefined ? undefined : toPort(l);
    },
    findByClient: async (subnet, key) => {
      const l = (await r.findByClient(subnet, toKey(key)))[0];
      return l === undefined ? undefined : toPort(l);
    },
    listBySubnet: async (subnet) => (await r.listBySubnet(subnet)).map(toPort),
    listAll: async () => (await r.listAll()).map(toPort),
    put: async (l) => {
      await r.put(toRow(l));
    },
    putMany: async (ls) => {
      await r.putMany(ls.map(toRow));
    },
    delete: async (ip) => {
      await r.delete(ip);
    },
    reclaimExpired: async (now) => (await r.reclaimExpired(now)).length,
  };
}
