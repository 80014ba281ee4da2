// The planner's DHCP stage: whether a DHCP client is answered at all, and with which first loader
// or URL and DHCP options. Pure. It is one step of the one boot decision: the inventory's plan for
// a known host (planner.ts) gives the loader chain; the host's record and its group give the boot
// file, iPXE script and DHCP options (the inventory is their one source); bootfile.ts turns the
// result into the file or URL for this firmware. DhcpServer asks a BootPlanner (the engine) and
// encodes the answer.
import type { DhcpOptions } from '../inventory/types.ts';
export type { DhcpOptions } from '../inventory/types.ts';
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
}

/** The DHCP settings the planner reads (from the compiled `dhcp` and `boot` config). */
export interface DhcpPlanSettings {
  access: AccessLists;
  /** `dhcp.boot.bootfiles` by architecture key. */
  bootfiles: Record<string, string>;
  ipxeScript: string;
  registrationScript: string;
  chains: { bios: 'ipxe' | 'pxelinux'; uefi: 'ipxe' | 'grub' };
}

/** A group's DHCP boot settings, from the inventory. */
export interface DhcpGroup {
  name: string;
  bootfiles?: Record<string, string> | null | undefined;
  ipxeScript?: string | null | undefined;
  dhcp?: DhcpOptions | null | undefined;
}

/** What the inventory says about a DHCP client: its record, its group, and the first loader its plan starts with. */
export interface DhcpHost {
  id: string;
  /** A HostState. */
  state: string;
  hostname: string | null;
  group: DhcpGroup | undefined;
  /** The plan's first loader (pxelinux.0, grubx64.efi, shimx64.efi), when its profile's chain is not the default iPXE one. */
  firstLoader: string | undefined;
  /** The record's own boot file, iPXE script and DHCP options. */
  bootfile?: string | null | undefined;
  ipxeScript?: string | null | undefined;
  dhcp?: DhcpOptions | null | undefined;
}

export type DhcpIgnoreReason = 'host_disabled' | 'denied_mac' | 'denied_oui' | 'not_allowed' | 'unknown_client';

export type DhcpPlan =
  | { answer: false; reason: DhcpIgnoreReason; hostId: string | undefined }
  | {
      answer: true;
      hostId: string | undefined;
      /** The inventory's hostname. */
      hostname: string | undefined;
      /** The host's group. */
      group: string | undefined;
      /** DHCP options over the subnet's, later ones winning: the group's, then the host's. */
      options: readonly DhcpOptions[];
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
  const access = decideAccess(s.access, req.mac, host !== undefined, req.unknownClients);
  if (access.action === 'ignore') return { answer: false, reason: access.reason.replace(/-/g, '_') as DhcpIgnoreReason, hostId: host?.id };
  const registration = access.action === 'register';
  const group = host?.group;
  // The host's profile chain (pxelinux, GRUB, shim) starts with its own loader; else the record's boot file.
  const bootfile = host?.firstLoader ?? host?.bootfile ?? undefined;
  const ipxeScript = host?.ipxeScript ?? undefined;
  const who = host === undefined ? '' : host.hostname ?? host.id;
  const ctx: BootContext = {
    tftpServer: req.tftpServer,
    httpBase: req.httpBase,
    defaults: { bootfiles: s.bootfiles, ipxeScript: s.ipxeScript },
    registrationScript: s.registrationScript,
    registrationOnly: registration,
    chains: s.chains,
  };
  if (group !== undefined) ctx.group = { name: group.name, ...(group.bootfiles ? { bootfiles: group.bootfiles } : {}), ...(group.ipxeScript ? { ipxeScript: group.ipxeScript } : {}) };
  if (bootfile !== undefined || ipxeScript !== undefined) {
    ctx.host = { source: host?.firstLoader !== undefined ? `the profile of host ${who}` : `host ${who}`, ...(bootfile ? { bootfile } : {}), ...(ipxeScript ? { ipxeScript } : {}) };
  }
  const boot = decideBoot({ arches: req.arches, vendorClass: req.vendorClass, userClasses: req.userClasses }, ctx);
  const options: DhcpOptions[] = [];
  if (group?.dhcp) options.push(group.dhcp);
  if (host?.dhcp) options.push(host.dhcp);
  return { answer: true, hostId: host?.id, hostname: host?.hostname ?? undefined, group: group?.name, options, registration, boot };
}

/** The planner with an empty inventory (a DHCP server whose inventory is not loaded yet, or failed): every client is unknown. */
export const noInventoryPlanner: BootPlanner = { planDhcp: (req, settings) => planDhcp(req, undefined, settings) };
