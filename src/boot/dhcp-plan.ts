// The planner's DHCP stage: whether a DHCP client is answered at all, and with which first loader
// or URL. Pure. It is one step of the one boot decision: the inventory's plan for a known host
// (planner.ts) gives the loader chain, the config's reservations and groups give file overrides,
// and bootfile.ts turns the result into the file or URL for this firmware. DhcpServer asks a
// BootPlanner (the engine, or configOnlyPlanner without an inventory) and encodes the answer.
import type { AccessLists, UnknownClientsPolicy } from './access.ts';
import { decideAccess } from './access.ts';
import type { BootContext, BootDecision } from './bootfile.ts';
import { decideBoot } from './bootfile.ts';

/** What a DHCP request tells the planner. */
export interface DhcpPlanRequest {
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  uuid: string | undefined;
  /** Option 93 entries, first preferred. */
  arches: number[];
  /** Option 60. */
  vendorClass: string | undefined;
  /** Option 77. */
  userClasses: string[];
  /** The client's own address (ciaddr) when it has one. */
  ip: string | undefined;
  /** Where this client reaches bootherd: next-server, and the HTTP base URL (no trailing slash). */
  tftpServer: string;
  httpBase: string;
  /** `dhcp.unknown_clients` of the client's subnet. */
  unknownClients: UnknownClientsPolicy;
  /** The config's reservation for this MAC, if any (a host declared in the config file). */
  reservation?: { bootfile?: string | undefined; ipxeScript?: string | undefined; group?: string | undefined; hostname?: string | undefined } | undefined;
}

/** The DHCP settings the planner reads (from the compiled `dhcp` and `boot` config). */
export interface DhcpPlanSettings {
  access: AccessLists;
  /** `dhcp.boot.bootfiles` by architecture key. */
  bootfiles: Record<string, string>;
  ipxeScript: string;
  registrationScript: string;
  /** `dhcp.boot.groups` by name: boot files and the iPXE script of config groups. */
  groups: ReadonlyMap<string, { bootfiles?: Record<string, string> | undefined; ipxeScript?: string | undefined }>;
  chains: { bios: 'ipxe' | 'pxelinux'; uefi: 'ipxe' | 'grub' };
}

/** What the inventory says about a DHCP client: its record, and the first loader its plan starts with. */
export interface DhcpHost {
  id: string;
  /** A HostState. */
  state: string;
  hostname: string | null;
  group: string | undefined;
  /** The plan's first loader (pxelinux.0, grubx64.efi, shimx64.efi), when its chain is not the default iPXE one. */
  firstLoader: string | undefined;
}

export type DhcpIgnoreReason = 'host_disabled' | 'denied_mac' | 'denied_oui' | 'not_allowed' | 'unknown_client';

export type DhcpPlan =
  | { answer: false; reason: DhcpIgnoreReason; hostId: string | undefined }
  | {
      answer: true;
      hostId: string | undefined;
      /** The inventory's hostname, else the reservation's. */
      hostname: string | undefined;
      /** The group whose DHCP options apply (the inventory's group name, else the reservation's). */
      group: string | undefined;
      /** An unknown client under the register policy: it gets the registration path. */
      registration: boolean;
      boot: BootDecision;
    };

/** The one question DhcpServer asks about a client. */
export interface BootPlanner {
  planDhcp(req: DhcpPlanRequest, settings: DhcpPlanSettings): DhcpPlan;
}

/** The DHCP stage of the plan for a client the inventory knows as `host` (undefined: no record, or state new). */
export function planDhcp(req: DhcpPlanRequest, host: DhcpHost | undefined, s: DhcpPlanSettings): DhcpPlan {
  if (host?.state === 'disabled') return { answer: false, reason: 'host_disabled', hostId: host.id };
  const r = req.reservation;
  const known = host !== undefined || r !== undefined;
  const access = decideAccess(s.access, req.mac, known, req.unknownClients);
  if (access.action === 'ignore') return { answer: false, reason: access.reason.replace(/-/g, '_') as DhcpIgnoreReason, hostId: host?.id };
  const registration = access.action === 'register';
  const groupName = host?.group ?? r?.group;
  const group = groupName === undefined ? undefined : s.groups.get(groupName);
  const bootfile = host?.firstLoader ?? r?.bootfile;
  const ipxeScript = r?.ipxeScript;
  const ctx: BootContext = {
    tftpServer: req.tftpServer,
    httpBase: req.httpBase,
    defaults: { bootfiles: s.bootfiles, ipxeScript: s.ipxeScript },
    registrationScript: s.registrationScript,
    registrationOnly: registration,
    chains: s.chains,
  };
  if (group !== undefined && groupName !== undefined) ctx.group = { name: groupName, ...(group.bootfiles ? { bootfiles: group.bootfiles } : {}), ...(group.ipxeScript ? { ipxeScript: group.ipxeScript } : {}) };
  if (bootfile !== undefined || ipxeScript !== undefined) {
    ctx.host = { source: host?.firstLoader !== undefined ? 'inventory' : 'reservation', ...(bootfile ? { bootfile } : {}), ...(ipxeScript ? { ipxeScript } : {}) };
  }
  const boot = decideBoot({ arches: req.arches, vendorClass: req.vendorClass, userClasses: req.userClasses }, ctx);
  return { answer: true, hostId: host?.id, hostname: host?.hostname ?? r?.hostname, group: groupName, registration, boot };
}

/** The planner for a DHCP server with no inventory (tests, a config-only deployment): the config's reservations and groups only. */
export const configOnlyPlanner: BootPlanner = { planDhcp: (req, settings) => planDhcp(req, undefined, settings) };
