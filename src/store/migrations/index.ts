// The one ordered list of migrations. Append new ones (NNNN_name.ts); never edit or reorder applied ones.
import type { Migration } from './migration.ts';
import { initial } from './0001_initial.ts';
import { bootSettings } from './0002_boot_settings.ts';

export const MIGRATIONS: readonly Migration[] = [initial, bootSettings];

export type { Migration, MigrationContext, Backend } from './migration.ts';
