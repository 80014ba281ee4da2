// The error classes around src/errors.ts: one base class whose exit code comes from the list, and
// thin subclasses that print the same text as before. (test/unit/docs/error-codes.test.ts holds
// src/ and the troubleshooting page to the list.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BhError, ERRORS, exitCodeOf } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import { ConfigError } from '../../src/errors.ts';
import { FileError, PUBLIC_NOT_FOUND } from '../../src/files/errors.ts';
import { InventoryError } from '../../src/inventory/errors.ts';
import { NetError } from '../../src/net/errors.ts';
import { StoreError } from '../../src/store/errors.ts';

const CODES = Object.keys(ERRORS) as ErrorCode[];

/** What exits 2: bad usage or configuration, as the command line has always answered (every other code exits 1). */
const USAGE: ErrorCode[] = [
  'BH_CONFIG_INVALID',
  'BH_USAGE',
  'BH_DHCP_CONFIG_SUBNET',
  'BH_DHCP_CONFIG_POOL',
  'BH_DHCP_CONFIG_RESERVATION',
  'BH_DHCP_CONFIG_GROUP',
  'BH_DHCP_CONFIG_ARCH',
  'BH_DHCP_CONFIG_OPTION',
  'BH_TLS_BAD_NAME',
  'BH_TLS_BAD_IP',
  'BH_TLS_NO_NAME',
  'BH_TLS_EXISTS',
  'BH_APPLY_CONFIRM',
  'BH_STORE_INVALID',
  // Inventory input the command line gave (what was `kind: 'invalid'`); missing or conflicting records exit 1.
  'BH_INV_INVALID_PROFILE',
  'BH_INV_INVALID_GROUP',
  'BH_INV_INVALID_HOST',
  'BH_INV_BAD_MAC',
  'BH_INV_BAD_UUID',
  'BH_INV_BAD_STATE',
  'BH_INV_TRANSITION',
  'BH_INV_QUICK_FILE',
];

test('a BhError carries its code, message and hint, and the exit code the list gives its code', () => {
  const cause = new Error('EACCES');
  const e = new BhError('BH_STATE_DIR', 'cannot prepare the state directory /var/lib/bootherd (EACCES)', 'set state_dir', { cause });
  assert.ok(e instanceof Error);
  assert.deepEqual([e.code, e.message, e.hint, e.exitCode, e.cause], ['BH_STATE_DIR', 'cannot prepare the state directory /var/lib/bootherd (EACCES)', 'set state_dir', 1, cause]);
  assert.equal(new BhError('BH_USAGE', 'unknown log level "loud"', 'use one of: info').exitCode, 2);
  assert.equal(new BhError('BH_FILES_IO', 'x').hint, undefined, 'no hint unless the site gives one');
});

test('exactly the usage and configuration codes exit 2; every other code exits 1', () => {
  assert.deepEqual(CODES.filter((c) => exitCodeOf(c) === 2).sort(), [...USAGE].sort());
  for (const c of CODES) assert.equal(new BhError(c, 'm').exitCode, USAGE.includes(c) ? 2 : 1, c);
});

test('every coded error class is a BhError whose text reads as before', () => {
  const net = new NetError('BH_NET_IN_USE', 'UDP port 67 on eth1 is in use', 'stop the other server', 'EADDRINUSE');
  assert.ok(net instanceof BhError);
  assert.deepEqual([net.name, net.message, net.hint, net.errno, net.exitCode], ['NetError', 'BH_NET_IN_USE: UDP port 67 on eth1 is in use (hint: stop the other server)', 'stop the other server', 'EADDRINUSE', 1]);

  const file = new FileError('BH_FILES_NOT_FOUND', 'not-found', '"pxelinux.0" does not exist under the root');
  assert.ok(file instanceof BhError);
  assert.deepEqual([file.name, file.code, file.message, file.kind, file.publicMessage, file.hint], ['FileError', 'BH_FILES_NOT_FOUND', 'BH_FILES_NOT_FOUND: "pxelinux.0" does not exist under the root', 'not-found', PUBLIC_NOT_FOUND, undefined]);

  const inv = new InventoryError('BH_INV_CONFLICT', 'group lab already exists', "change it with 'bootherd groups set lab'");
  assert.deepEqual([inv instanceof BhError, inv.name, inv.exitCode], [true, 'InventoryError', 1]);
  assert.equal(new InventoryError('BH_INV_BAD_MAC', '"zz" is not a MAC address', 'write six hex octets').exitCode, 2);

  const store = new StoreError('BH_STORE_OPEN', 'cannot open the SQLite store /x.db', 'check the directory');
  assert.deepEqual([store instanceof BhError, store.name, store.hint, store.exitCode], [true, 'StoreError', 'check the directory', 1]);

  const config = new ConfigError([{ source: 'bootherd.yaml', line: 3, key: 'tftp.port', message: 'must be a number', fix: 'write 69' }]);
  assert.deepEqual([config instanceof BhError, config.code, config.message, config.exitCode], [true, 'BH_CONFIG_INVALID', 'bootherd.yaml:3: tftp.port: must be a number (fix: write 69)', 2]);
});
