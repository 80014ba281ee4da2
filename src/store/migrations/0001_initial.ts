// The first schema: leases, the inventory (hosts, MACs, groups, profiles), boot events and settings.
import { sql } from 'kysely';
import type { Migration } from './migration.ts';
import { autoIncrementId, autoIncrementType } from './migration.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up({ db, backend }) {
    await db.schema
      .createTable('leases')
      .addColumn('ip', 'text', (c) => c.primaryKey())
      .addColumn('subnet', 'text', (c) => c.notNull())
      .addColumn('client_key', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('server_id', 'text', (c) => c.notNull())
      .addCheckConstraint('leases_state_check', sql`state in ('offered', 'bound', 'declined', 'released', 'expired')`)
      .execute();
    await db.schema.createIndex('leases_subnet_client').on('leases').columns(['subnet', 'client_key']).execute();
    await db.schema.createIndex('leases_expires_at').on('leases').column('expires_at').execute();

    await db.schema
      .createTable('profiles')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('spec', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('profile_id', 'text', (c) => c.references('profiles.id').onDelete('set null'))
      .addColumn('labels', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('hosts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('hostname', 'text')
      .addColumn('uuid', 'text', (c) => c.unique())
      .addColumn('arch', 'text')
      .addColumn('group_id', 'text', (c) => c.references('groups.id').onDelete('set null'))
      .addColumn('profile_id', 'text', (c) => c.references('profiles.id').onDelete('set null'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('host_macs')
      .addColumn('mac', 'text', (c) => c.primaryKey())
      .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
      .execute();
    await db.schema.createIndex('host_macs_host').on('host_macs').column('host_id').execute();

    await db.schema
      .createTable('boot_events')
      .addColumn('id', autoIncrementType(backend), autoIncrementId(backend))
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('boot_events_host').on('boot_events').columns(['host', 'id']).execute();

    await db.schema
      .createTable('kv')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};
