// `bootherd profiles list|add|show|set|rm|default`: what hosts boot.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ProfileSpec } from '../inventory/types.ts';
import type { ProfileView } from '../inventory/service.ts';
import { BhError } from '../errors.ts';
import { withInventory } from './store.ts';
import type { StoreOpts } from './store.ts';
import { collect, printFields, printJson, printTable, run } from './output.ts';

const CONFIG = ['-c, --config <file>', 'YAML configuration file (as for serve)'] as const;

interface SpecFlags {
  kind?: string;
  kernel?: string;
  initrd: string[];
  cmdline?: string;
  chain?: string;
  description?: string;
  secureBoot?: boolean;
  from?: string;
}

function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--kind <kind>', 'linux, chain, menu or local (implied by --kernel or --chain)')
    .option('--kernel <file|url>', 'kernel: a path under the boot root, or a URL')
    .option('--initrd <file|url>', 'initrd (repeatable, in order)', collect, [])
    .option('--cmdline <text>', 'kernel command line')
    .option('--chain <file|url>', 'loader or iPXE script to hand over to')
    .option('--description <text>', 'what it is for')
    .option('--secure-boot', 'boot through shim → GRUB → signed kernel (UEFI Secure Boot)')
    .option('--from <file>', 'the whole profile from a YAML or JSON file (arch variants, menus); other flags then add to it');
}

function readSpecFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BhError('BH_USAGE', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`, 'check the path given to --from');
  }
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (err) {
    throw new BhError('BH_USAGE', `${file}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, 'correct the file; docs/inventory.md shows a profile');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BhError('BH_USAGE', `${file}: a profile file is a mapping of keys`, 'start with kind: linux (or chain, menu, local)');
  return v as Record<string, unknown>;
}

/** The spec that flags describe, on top of `base` (the existing spec for set, {} for add). */
function specFrom(base: Record<string, unknown>, f: SpecFlags): Record<string, unknown> {
  let spec: Record<string, unknown> = f.from !== undefined ? readSpecFile(f.from) : { ...base };
  const kind = f.kind ?? (f.kernel !== undefined ? 'linux' : f.chain !== undefined ? 'chain' : undefined);
  // A new kind starts over: keys of the old kind would not fit it.
  if (kind !== undefined && kind !== spec['kind']) spec = { kind, ...(spec['description'] !== undefined ? { description: spec['description'] } : {}), ...(spec['arch'] !== undefined ? { arch: spec['arch'] } : {}) };
  if (f.kernel !== undefined) spec['kernel'] = f.kernel;
  if (f.initrd.length > 0) spec['initrd'] = f.initrd;
  if (f.cmdline !== undefined) spec['cmdline'] = f.cmdline;
  if (f.chain !== undefined) spec['chain'] = f.chain;
  if (f.description !== undefined) spec['description'] = f.description;
  if (f.secureBoot === true) spec['secure_boot'] = true;
  if (spec['kind'] === undefined) throw new BhError('BH_USAGE', 'the profile has no kind', 'give --kernel (linux), --chain (chain), --kind local, or --from FILE');
  return spec;
}

/** One line saying what a profile boots. */
export function bootSummary(s: ProfileSpec): string {
  switch (s.kind) {
    case 'linux':
      return [s.kernel, ...(s.initrd ?? [])].join(' + ') + (s.cmdline ? ` "${s.cmdline}"` : '') + (s.secure_boot ? ' [secure boot]' : '');
    case 'chain':
      return s.chain ?? '';
    case 'menu':
      return s.menu?.items.map((i) => i.profile).join(' | ') ?? '';
    case 'local':
      return 'local disk';
  }
}

export function registerProfiles(program: Command): void {
  const profiles = program.command('profiles').description('what hosts boot: list, add, show, set, rm, default');

  profiles.command('list')
    .description('list profiles')
    .option(...CONFIG)
    .option('--json', 'print JSON')
    .action((o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const list = await inv.listProfiles();
      const def = await inv.getDefaultProfile();
      if (o.json === true) {
        printJson(list.map((p) => ({ ...p, default: p.name === def })));
        return;
      }
      printTable(['NAME', 'KIND', 'BOOTS', 'VARIANTS', 'DEFAULT'], list.map((p) => [p.name, p.spec.kind, bootSummary(p.spec), Object.keys(p.spec.arch ?? {}).join(',') || '-', p.name === def ? 'yes' : '']), 'no profiles');
    })));

  addSpecOptions(profiles.command('add').description('create a profile').argument('<name>', 'profile name'))
    .option(...CONFIG)
    .option('--json', 'print the profile as JSON')
    .action((name: string, o: StoreOpts & SpecFlags & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const p = await inv.createProfile(name, specFrom({}, o));
      if (o.json === true) printJson(p);
      else process.stdout.write(`added profile ${p.name} (${p.spec.kind}: ${bootSummary(p.spec)})\n`);
    })));

  profiles.command('show')
    .description('show a profile and who uses it')
    .argument('<name>', 'profile name')
    .option(...CONFIG)
    .option('--json', 'print JSON')
    .action((name: string, o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const p = await inv.getProfile(name);
      const users = await inv.profileUsers(name);
      if (o.json === true) {
        printJson({ ...p, usedBy: users });
        return;
      }
      showProfile(p, users);
    })));

  addSpecOptions(profiles.command('set').description('change a profile (flags change those keys; --from replaces it)').argument('<name>', 'profile name'))
    .option(...CONFIG)
    .option('--no-cmdline', 'remove the command line')
    .option('--json', 'print the profile as JSON')
    .action((name: string, o: StoreOpts & Omit<SpecFlags, 'cmdline'> & { cmdline?: string | boolean; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const cur = await inv.getProfile(name);
      const spec = specFrom(cur.spec as unknown as Record<string, unknown>, { ...o, ...(typeof o.cmdline === 'string' ? { cmdline: o.cmdline } : { cmdline: undefined }) } as SpecFlags);
      if (o.cmdline === false) delete spec['cmdline'];
      const p = await inv.updateProfile(name, spec);
      if (o.json === true) printJson(p);
      else process.stdout.write(`updated profile ${p.name} (${p.spec.kind}: ${bootSummary(p.spec)})\n`);
    })));

  profiles.command('rm')
    .description('remove a profile')
    .argument('<name>', 'profile name')
    .option(...CONFIG)
    .option('--force', 'remove it even when groups, hosts or menus use it (they fall back to their group\'s or the default profile)')
    .action((name: string, o: StoreOpts & { force?: boolean }) => run(() => withInventory(o, async (inv) => {
      await inv.deleteProfile(name, { force: o.force === true });
      process.stdout.write(`removed profile ${name}\n`);
    })));

  profiles.command('default')
    .description('show or set the default profile (for hosts with no profile of their own or from a group)')
    .argument('[name]', 'profile name to make the default')
    .option(...CONFIG)
    .option('--none', 'no default profile')
    .option('--json', 'print JSON')
    .action((name: string | undefined, o: StoreOpts & { none?: boolean; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      if (name !== undefined && o.none === true) throw new BhError('BH_USAGE', 'a name and --none together', 'give either a profile name or --none');
      if (name !== undefined || o.none === true) await inv.setDefaultProfile(name ?? null);
      const def = await inv.getDefaultProfile();
      if (o.json === true) printJson({ default: def });
      else process.stdout.write(def === null ? 'no default profile\n' : `default profile: ${def}\n`);
    })));
}

function showProfile(p: ProfileView, users: { groups: string[]; hosts: string[]; menus: string[]; isDefault: boolean }): void {
  const s = p.spec;
  const fields: [string, string][] = [['name', p.name], ['kind', s.kind]];
  if (s.description !== undefined) fields.push(['description', s.description]);
  if (s.kernel !== undefined) fields.push(['kernel', s.kernel]);
  if (s.initrd !== undefined) fields.push(['initrd', s.initrd.join(', ')]);
  if (s.cmdline !== undefined) fields.push(['cmdline', s.cmdline]);
  if (s.chain !== undefined) fields.push(['chain', s.chain]);
  if (s.menu !== undefined) fields.push(['menu', s.menu.items.map((i) => `${i.label} → ${i.profile}`).join('; ')]);
  if (s.secure_boot === true) fields.push(['secure_boot', 'yes']);
  for (const [arch, v] of Object.entries(s.arch ?? {})) if (v !== undefined) fields.push([`arch ${arch}`, `${v.kind}: ${bootSummary(v)}`]);
  fields.push(['default', users.isDefault ? 'yes' : 'no']);
  fields.push(['used by', [...users.groups.map((g) => `group ${g}`), ...users.hosts.map((h) => `host ${h}`), ...users.menus.map((m) => `menu ${m}`)].join(', ') || '-']);
  printFields(fields);
}
