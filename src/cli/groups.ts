// `bootherd groups list|add|show|set|rm`: named sets of hosts sharing a profile and labels.
import type { Command } from 'commander';
import { withInventory } from './store.ts';
import type { StoreOpts } from './store.ts';
import { collect, labelsText, parseLabels, printFields, printJson, printTable, run } from './output.ts';
import { dhcpText } from './hosts.ts';

const BOOTFILE = ['--bootfile <arch=file>', 'boot file or URL for an architecture key, e.g. uefi-x64=grubx64.efi (repeatable)'] as const;
const bootfiles = (items: string[]) => parseLabels(items, 'boot file', '--bootfile uefi-x64=grubx64.efi');
const bootfilesText = (b: Record<string, string> | null) => (b === null ? '-' : labelsText(b));
const CONFIG = ['-c, --config <file>', 'YAML configuration file (as for serve)'] as const;

export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('groups of hosts sharing a profile: list, add, show, set, rm');

  groups.command('list')
    .description('list groups')
    .option(...CONFIG)
    .option('--json', 'print JSON')
    .action((o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const list = await inv.listGroups();
      const hosts = await inv.listHosts();
      const count = (g: string) => hosts.filter((h) => h.group === g).length;
      if (o.json === true) printJson(list.map((g) => ({ ...g, hosts: count(g.name) })));
      else printTable(['NAME', 'PROFILE', 'HOSTS', 'LABELS'], list.map((g) => [g.name, g.profile ?? '-', String(count(g.name)), labelsText(g.labels) || '-']), 'no groups');
    })));

  groups.command('add')
    .description('create a group')
    .argument('<name>', 'group name')
    .option(...CONFIG)
    .option('--profile <name>', 'the profile its hosts boot (unless a host has its own)')
    .option('--label <key=value>', 'a label (repeatable)', collect, [])
    .option(...BOOTFILE, collect, [])
    .option('--ipxe-script <path>', 'the iPXE script URL or path its hosts get once they run iPXE')
    .option('--json', 'print the group as JSON')
    .action((name: string, o: StoreOpts & { profile?: string; label: string[]; bootfile: string[]; ipxeScript?: string; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const g = await inv.createGroup({ name, profile: o.profile ?? null, labels: parseLabels(o.label) ?? {}, bootfiles: bootfiles(o.bootfile) ?? null, ipxeScript: o.ipxeScript ?? null });
      if (o.json === true) printJson(g);
      else process.stdout.write(`added group ${g.name}${g.profile ? ` (profile ${g.profile})` : ''}\n`);
    })));

  groups.command('show')
    .description('show a group and its hosts')
    .argument('<name>', 'group name')
    .option(...CONFIG)
    .option('--json', 'print JSON')
    .action((name: string, o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const g = await inv.getGroup(name);
      const members = await inv.listHosts({ group: name });
      if (o.json === true) {
        printJson({ ...g, hosts: members.map((h) => ({ id: h.id, macs: h.macs, hostname: h.hostname, state: h.state })) });
        return;
      }
      printFields([
        ['name', g.name],
        ['profile', g.profile ?? '-'],
        ['labels', labelsText(g.labels) || '-'],
        ['bootfiles', bootfilesText(g.bootfiles)],
        ['ipxe script', g.ipxeScript ?? '-'],
        ['dhcp options', dhcpText(g.dhcp)],
        ['hosts', members.map((h) => h.hostname ?? h.macs[0] ?? h.id).join(', ') || '-'],
      ]);
    })));

  groups.command('set')
    .description('change a group')
    .argument('<name>', 'group name')
    .option(...CONFIG)
    .option('--profile <name>', 'the profile its hosts boot')
    .option('--no-profile', 'no profile (its hosts boot their own or the default)')
    .option('--label <key=value>', 'set a label (repeatable)', collect, [])
    .option('--unset-label <key>', 'remove a label (repeatable)', collect, [])
    .option(...BOOTFILE, collect, [])
    .option('--unset-bootfile <arch>', 'remove an architecture\'s boot file (repeatable)', collect, [])
    .option('--ipxe-script <path>', 'the iPXE script URL or path its hosts get')
    .option('--no-ipxe-script', 'drop the group\'s iPXE script')
    .option('--json', 'print the group as JSON')
    .action((name: string, o: StoreOpts & { profile?: string | boolean; label: string[]; unsetLabel: string[]; bootfile: string[]; unsetBootfile: string[]; ipxeScript?: string | boolean; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const labels = parseLabels(o.label);
      const files = bootfiles(o.bootfile);
      const g = await inv.updateGroup(name, {
        ...(o.profile === false ? { profile: null } : typeof o.profile === 'string' ? { profile: o.profile } : {}),
        ...(labels !== undefined ? { setLabels: labels } : {}),
        ...(o.unsetLabel.length > 0 ? { unsetLabels: o.unsetLabel } : {}),
        ...(files !== undefined ? { setBootfiles: files } : {}),
        ...(o.unsetBootfile.length > 0 ? { unsetBootfiles: o.unsetBootfile } : {}),
        ...(o.ipxeScript === false ? { ipxeScript: null } : typeof o.ipxeScript === 'string' ? { ipxeScript: o.ipxeScript } : {}),
      });
      if (o.json === true) printJson(g);
      else process.stdout.write(`updated group ${g.name}\n`);
    })));

  groups.command('rm')
    .description('remove a group')
    .argument('<name>', 'group name')
    .option(...CONFIG)
    .option('--force', 'remove it even when hosts are in it (they are left without a group)')
    .action((name: string, o: StoreOpts & { force?: boolean }) => run(() => withInventory(o, async (inv) => {
      await inv.deleteGroup(name, { force: o.force === true });
      process.stdout.write(`removed group ${name}\n`);
    })));
}
