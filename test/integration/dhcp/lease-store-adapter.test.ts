// The DHCP server's lease keys survive a round trip through the real SQLite store: MAC keys,
// client-id keys and the server's `declined:` keys (a DECLINE must be durable like any lease).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { Lease } from '../../../src/dhcp/lease-store.ts';
import { leaseStoreOver } from '../../../src/dhcp/store-adapter.ts';
import { tempDir } from '../../helpers/dhcp-lab.ts';

test('mac:, id: and declined: client keys are stored and read back unchanged', async () => {
  const dir = tempDir('adapter');
  const store = await openStore(`sqlite:${dir.path}/db.sqlite`, { logger: silentLogger() });
  try {
    await store.migrate();
    const port = leaseStoreOver(store);
    const base = { subnet: '198.18.0.0/24', mac: '02:00:00:00:00:01', hostname: null, expiresAt: 2e12, updatedAt: 1e12, serverId: '198.18.0.1' };
    const leases: Lease[] = [
      { ...base, ip: '198.18.0.10', clientKey: 'mac:02:00:00:00:00:01', state: 'bound' },
      { ...base, ip: '198.18.0.11', clientKey: 'id:01020000000002', state: 'bound' },
      { ...base, ip: '198.18.0.12', clientKey: 'declined:mac:02:00:00:00:00:01', state: 'declined' },
    ];
    for (const l of leases) await port.put(l);
    for (const l of leases) assert.deepEqual(await port.get(l.ip), l);
    assert.deepEqual((await port.findByClient(base.subnet, 'id:01020000000002'))?.ip, '198.18.0.11');
    assert.deepEqual((await port.findByClient(base.subnet, 'declined:mac:02:00:00:00:00:01'))?.state, 'declined');
    assert.deepEqual((await port.listAll()).map((l) => l.clientKey).sort(), leases.map((l) => l.clientKey).sort());
  } finally {
    await store.close();
    dir.cleanup();
  }
});
