// The DHCP boot settings that hosts and groups carry in the inventory (the config file's
// reservations and `dhcp.boot.groups` had them before): a host's reserved IPv4 address (unique
// among hosts), first-stage boot file, iPXE script and DHCP options; a group's boot files by
// architecture, iPXE script and DHCP options. JSON is stored as text, as elsewhere.
import type { Migration } from './migration.ts';

export const bootSettings: Migration = {
  version: 2,
  name: 'boot_settings',
  async up({ db }) {
    // One column per statement: SQLite adds one column per ALTER TABLE.
    for (const col of ['ip', 'bootfile', 'ipxe_script', 'dhcp_options']) await db.schema.alterTable('hosts').addColumn(col, 'text').execute();
    // A unique index rather than a UNIQUE column (SQLite cannot add one); both backends let many NULLs through.
    await db.schema.createIndex('hosts_ip').unique().on('hosts').column('ip').execute();
    for (const col of ['bootfiles', 'ipxe_script', 'dhcp_options']) await db.schema.alterTable('groups').addColumn(col, 'text').execute();
  },
};
