// Public surface of the storage layer. Other folders import from here only.
export { openStore } from './store.ts';
export type { Store, StoreStatus, OpenStoreOptions } from './store.ts';
export { StoreError, isStoreError } from './errors.ts';
export type { StoreErrorCode } from './errors.ts';
export type { Lease, LeaseInput, LeaseRepository } from './leases.ts';
export { MemoryLeaseRepository } from './memory-leases.ts';
export type { AppendManyResult, EventRepository, EventQuery, StoredBootEvent } from './events.ts';
export { EVENT_COMMIT_DELAY_MS } from './events.ts';
export type { KvRepository } from './kv.ts';
export type { Host, HostInput, HostRepository, Group, GroupInput, GroupRepository, Profile, ProfileInput, ProfileRepository, Labels } from './inventory.ts';
export type { LeaseState } from './schema.ts';
export { LEASE_STATES } from './schema.ts';
export type { MigrateProgress } from './migrator.ts';
export { parseStoreUrl } from './url.ts';
export type { StoreLocation } from './url.ts';
export { sanitizeHostname } from './validate.ts';
export type { Migration, MigrationContext, Backend } from './migrations/index.ts';
export { MIGRATIONS } from './migrations/index.ts';
