// The typed shape of bootherd's tables, as Kysely sees them. Times are integer milliseconds since
// the Unix epoch; JSON is stored as text. Keep in step with migrations/.
import type { Generated } from 'kysely';

export type LeaseState = 'offered' | 'bound' | 'declined' | 'released' | 'expired';
export const LEASE_STATES: readonly LeaseState[] = ['offered', 'bound', 'declined', 'released', 'expired'];

export interface LeasesTable {
  ip: string;
  subnet: string;
  client_key: string;
  mac: string;
  hostname: string | null;
  state: LeaseState;
  expires_at: number;
  updated_at: number;
  server_id: string;
}

export interface HostsTable {
  id: string;
  hostname: string | null;
  uuid: string | null;
  arch: string | null;
  group_id: string | null;
  profile_id: string | null;
  state: string;
  labels: string;
  created_at: number;
  updated_at: number;
  /** Reserved IPv4 address, unique among hosts (migration 0002). */
  ip: string | null;
  bootfile: string | null;
  ipxe_script: string | null;
  /** JSON: routers, dns_servers, domain_name, ntp_servers, options. */
  dhcp_options: string | null;
}

export interface HostMacsTable {
  mac: string;
  host_id: string;
}

export interface GroupsTable {
  id: string;
  name: string;
  profile_id: string | null;
  labels: string;
  /** JSON: architecture key → boot file (migration 0002). */
  bootfiles: string | null;
  ipxe_script: string | null;
  dhcp_options: string | null;
}

export interface ProfilesTable {
  id: string;
  name: string;
  spec: string;
}

export interface BootEventsTable {
  id: Generated<number>;
  host: string;
  stage: string;
  kind: string;
  detail: string;
  time: number;
}

export interface KvTable {
  key: string;
  value: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Database {
  leases: LeasesTable;
  hosts: HostsTable;
  host_macs: HostMacsTable;
  groups: GroupsTable;
  profiles: ProfilesTable;
  boot_events: BootEventsTable;
  kv: KvTable;
  schema_migrations: SchemaMigrationsTable;
}
