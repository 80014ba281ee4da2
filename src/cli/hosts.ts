// `bootherd hosts list|add|show|set|approve|rm`: the machines bootherd knows, by MAC.
import type { Command } from 'commander';
import type { HostView } from '../inventory/service.ts';
import { planRecord } from '../boot/planner.ts';
import { withInventory } from './store.ts';
import type { StoreOpts } from './store.ts';
import { collect, labelsText, parseLabels, printFields, printJson, printTable, run } from './output.ts';

const CONFIG = ['-c, --config <file>', 'YAML configuration file (as for serve)'] as const;

function row(h: HostView): string[] {
  return [h.macs.join(','), h.hostname ?? '-', h.state, h.group ?? '-', h.profile ?? '-', h.arch ?? '-', h.ip ?? '-', labelsText(h.labels) || '-'];
}
const HEADER = ['MAC', 'HOSTNAME', 'STATE', 'GROUP', 'PROFILE', 'ARCH', 'IP', 'LABELS'];

/** The DHCP options of a host or group on one line (`-` for none). */
export function dhcpText(d: HostView['dhcp']): string {
  if (d === null) return '-';
  const parts = Object.entries(d).filter(([k]) => k !== 'options').map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  for (const o of d.options ?? []) parts.push(`${o.code}(${o.type})=${Array.isArray(o.value) ? o.value.join(',') : String(o.value)}`);
  return parts.join(' ');
}

/** Commander's value for `--x <v>` paired with `--no-x`: a string, false (clear), or undefined. */
function nullable(v: string | boolean | undefined): string | null | undefined {
  return v === false ? null : v === true ? undefined : v;
}

export function registerHosts(program: Command): void {
  const hosts = program.command('hosts').description('machines bootherd knows: list, add, show, set, approve, rm');

  hosts.command('list')
    .description('list hosts')
    .option(...CONFIG)
    .option('--group <name>', 'only hosts in this group')
    .option('--state <state>', 'only hosts in this state (new, pending, active, local, disabled)')
    .option('--profile <name>', 'only hosts with this profile of their own')
    .option('--json', 'print JSON')
    .action((o: StoreOpts & { group?: string; state?: string; profile?: string; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const list = await inv.listHosts({ ...(o.group ? { group: o.group } : {}), ...(o.state ? { state: o.state } : {}), ...(o.profile ? { profile: o.profile } : {}) });
      if (o.json === true) printJson(list);
      else printTable(HEADER, list.map(row), 'no hosts');
    })));

  hosts.command('add')
    .description('register a host (state active unless --state says otherwise)')
    .option(...CONFIG)
    .requiredOption('--mac <mac>', 'a MAC it boots from (repeatable)', collect, [])
    .option('--hostname <name>', 'host name')
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--arch <arch>', 'firmware (bios, uefi-x64, …); normally learned from the network')
    .option('--group <name>', 'group')
    .option('--profile <name>', 'its own profile (else its group\'s, else the default)')
    .option('--state <state>', 'new, pending, active (default), local or disabled')
    .option('--label <key=value>', 'a label (repeatable)', collect, [])
    .option('--ip <address>', 'the IPv4 address reserved for it (full-mode DHCP)')
    .option('--bootfile <file>', 'its first-stage boot file (TFTP path) or URL, over its group\'s and the defaults')
    .option('--ipxe-script <path>', 'the script URL or path (relative to the HTTP base) it gets once it runs iPXE')
    .option('--json', 'print the host as JSON')
    .action((o: StoreOpts & { mac: string[]; hostname?: string; uuid?: string; arch?: string; group?: string; profile?: string; state?: string; label: string[]; ip?: string; bootfile?: string; ipxeScript?: string; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const h = await inv.createHost({ macs: o.mac, hostname: o.hostname ?? null, uuid: o.uuid ?? null, arch: o.arch ?? null, group: o.group ?? null, profile: o.profile ?? null, labels: parseLabels(o.label) ?? {}, ip: o.ip ?? null, bootfile: o.bootfile ?? null, ipxeScript: o.ipxeScript ?? null, ...(o.state ? { state: o.state } : {}) });
      if (o.json === true) printJson(h);
      else process.stdout.write(`added host ${h.hostname ?? h.macs[0]} (${h.macs.join(', ')}), ${h.state}\n`);
    })));

  hosts.command('show')
    .description('show a host and what it boots (HOST: a MAC, UUID, hostname or id)')
    .argument('<host>', 'MAC, UUID, hostname or id')
    .option(...CONFIG)
    .option('--json', 'print JSON')
    .action((ref: string, o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const e = await inv.effectiveBoot(ref);
      const h = e.host;
      const p = planRecord(e);
      const boot = { action: p.action, profile: p.profile?.name ?? null, source: p.profile?.source ?? 'none', why: p.why };
      if (o.json === true) {
        printJson({ ...h, boot });
        return;
      }
      printFields([
        ['id', h.id],
        ['macs', h.macs.join(', ')],
        ['hostname', h.hostname ?? '-'],
        ['uuid', h.uuid ?? '-'],
        ['arch', h.arch ?? '-'],
        ['state', h.state],
        ['group', h.group ?? '-'],
        ['profile', h.profile ?? '-'],
        ['labels', labelsText(h.labels) || '-'],
        ['ip', h.ip ?? '-'],
        ['bootfile', h.bootfile ?? '-'],
        ['ipxe script', h.ipxeScript ?? '-'],
        ['dhcp options', dhcpText(h.dhcp)],
        ['boots', `${p.profile?.name ?? '-'} (${p.why})`],
        ['created', new Date(h.createdAt).toISOString()],
        ['updated', new Date(h.updatedAt).toISOString()],
      ]);
    })));

  hosts.command('set')
    .description('change a host')
    .argument('<host>', 'MAC, UUID, hostname or id')
    .option(...CONFIG)
    .option('--hostname <name>', 'host name')
    .option('--no-hostname', 'remove the host name')
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--no-uuid', 'forget the UUID')
    .option('--arch <arch>', 'firmware (bios, uefi-x64, …)')
    .option('--group <name>', 'move it to this group')
    .option('--no-group', 'take it out of its group')
    .option('--profile <name>', 'give it its own profile')
    .option('--no-profile', 'drop its own profile (it boots its group\'s or the default)')
    .option('--state <state>', 'new, pending, active, local or disabled (allowed changes: docs/inventory.md)')
    .option('--add-mac <mac>', 'add a MAC (repeatable)', collect, [])
    .option('--remove-mac <mac>', 'remove a MAC (repeatable)', collect, [])
    .option('--label <key=value>', 'set a label (repeatable)', collect, [])
    .option('--unset-label <key>', 'remove a label (repeatable)', collect, [])
    .option('--ip <address>', 'reserve this IPv4 address for it')
    .option('--no-ip', 'drop its reserved address')
    .option('--bootfile <file>', 'its first-stage boot file or URL')
    .option('--no-bootfile', 'drop its own boot file (its group\'s or the default applies)')
    .option('--ipxe-script <path>', 'its iPXE script URL or path')
    .option('--no-ipxe-script', 'drop its own iPXE script')
    .option('--json', 'print the host as JSON')
    .action((ref: string, o: StoreOpts & { hostname?: string | boolean; uuid?: string | boolean; arch?: string; group?: string | boolean; profile?: string | boolean; state?: string; addMac: string[]; removeMac: string[]; label: string[]; unsetLabel: string[]; ip?: string | boolean; bootfile?: string | boolean; ipxeScript?: string | boolean; json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const labels = parseLabels(o.label);
      const h = await inv.updateHost(ref, {
        ...(nullable(o.hostname) !== undefined ? { hostname: nullable(o.hostname) } : {}),
        ...(nullable(o.uuid) !== undefined ? { uuid: nullable(o.uuid) } : {}),
        ...(o.arch !== undefined ? { arch: o.arch } : {}),
        ...(nullable(o.group) !== undefined ? { group: nullable(o.group) } : {}),
        ...(nullable(o.profile) !== undefined ? { profile: nullable(o.profile) } : {}),
        ...(o.state !== undefined ? { state: o.state } : {}),
        ...(o.addMac.length > 0 ? { addMacs: o.addMac } : {}),
        ...(o.removeMac.length > 0 ? { removeMacs: o.removeMac } : {}),
        ...(labels !== undefined ? { setLabels: labels } : {}),
        ...(o.unsetLabel.length > 0 ? { unsetLabels: o.unsetLabel } : {}),
        ...(nullable(o.ip) !== undefined ? { ip: nullable(o.ip) } : {}),
        ...(nullable(o.bootfile) !== undefined ? { bootfile: nullable(o.bootfile) } : {}),
        ...(nullable(o.ipxeScript) !== undefined ? { ipxeScript: nullable(o.ipxeScript) } : {}),
      });
      if (o.json === true) printJson(h);
      else process.stdout.write(`updated host ${h.hostname ?? h.macs[0]}\n`);
    })));

  hosts.command('approve')
    .description('let pending hosts boot: pending → active')
    .argument('<host...>', 'MACs, UUIDs, hostnames or ids')
    .option(...CONFIG)
    .option('--json', 'print the hosts as JSON')
    .action((refs: string[], o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      const done: HostView[] = [];
      for (const ref of refs) done.push(await inv.approveHost(ref));
      if (o.json === true) printJson(done);
      else for (const h of done) process.stdout.write(`approved host ${h.hostname ?? h.macs[0]}: ${h.state}\n`);
    })));

  hosts.command('rm')
    .description('remove hosts (a removed host that boots again is treated as unknown)')
    .argument('<host...>', 'MACs, UUIDs, hostnames or ids')
    .option(...CONFIG)
    .option('--json', 'print the removed hosts as JSON')
    .action((refs: string[], o: StoreOpts & { json?: boolean }) => run(() => withInventory(o, async (inv) => {
      // Check every name first, so a typo removes nothing.
      for (const ref of refs) await inv.getHost(ref);
      const done: HostView[] = [];
      for (const ref of refs) done.push(await inv.deleteHost(ref));
      if (o.json === true) printJson(done);
      else for (const h of done) process.stdout.write(`removed host ${h.hostname ?? h.macs[0]}\n`);
    })));
}
