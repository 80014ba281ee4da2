// The boot-file decision: from what a DHCP client says about itself (architecture, vendor class,
// user class) and the configured overrides, pick the file or URL it should load next, and say why.
// Pure: no I/O, no clock. The DHCP server encodes the result into siaddr, file, sname, 60 and 67.
import { archInfo } from './arch.ts';
import type { ArchInfo } from './arch.ts';
import { CHAIN_LOADERS, DEBIAN_LOADERS, DEFAULT_LOADERS } from './loaders.ts';

export interface BootFacts {
  /** Option 93 entries (first = preferred); empty when absent or malformed. */
  arches: number[];
  /** Option 60 as sent, or undefined. */
  vendorClass: string | undefined;
  /** Option 77 entries (`iPXE` when the client already runs iPXE). */
  userClasses: string[];
}

export interface BootSettings {
  bootfiles?: Record<string, string>;
  ipxeScript?: string;
}

export interface BootContext {
  /** The TFTP server for siaddr/sname. */
  tftpServer: string;
  /** Base URL of the HTTP server, without a trailing slash (http://198.18.0.1:8080). */
  httpBase: string;
  /** Config defaults: `dhcp.boot.bootfiles` and `dhcp.boot.ipxe_script`. */
  defaults: BootSettings & { ipxeScript: string };
  registrationScript: string;
  /** The host's group settings, if the host is in a group. */
  group?: BootSettings & { name: string };
  /** Per-host settings (reservation or inventory); `bootfile` wins over every arch map. */
  host?: { bootfile?: string; ipxeScript?: string; source: string };
  /** Unknown client under the `register` policy: iPXE gets the registration script only. */
  registrationOnly?: boolean;
  /** `boot.bios_loader` / `boot.uefi_loader`: which chain firmware PXE clients start by default (iPXE unless set). HTTP Boot always starts iPXE. */
  chains?: { bios?: 'ipxe' | 'pxelinux'; uefi?: 'ipxe' | 'grub' };
}

function defaultLoader(info: ArchInfo, ctx: BootContext): { file: string; chain: string } | undefined {
  if (!info.http) {
    if (info.firmware === 'bios' && ctx.chains?.bios === 'pxelinux') return { file: CHAIN_LOADERS.bios!, chain: 'pxelinux' };
    if (info.firmware === 'uefi' && ctx.chains?.uefi === 'grub' && CHAIN_LOADERS[info.key] !== undefined) return { file: CHAIN_LOADERS[info.key]!, chain: 'grub' };
  }
  const file = DEFAULT_LOADERS[info.key];
  return file === undefined ? undefined : { file, chain: 'ipxe' };
}

export interface BootDecision {
  /** `none`: not a network-boot client (or nothing to give it); send no boot file. */
  action: 'boot' | 'none';
  /** The TFTP path or absolute URL for `file` and option 67. */
  file?: string;
  transport?: 'tftp' | 'http';
  /** next-server. */
  siaddr: string;
  /** Option 60 the reply must carry (HTTP Boot clients ignore offers without `HTTPClient`). */
  vendorClass?: 'PXEClient' | 'HTTPClient';
  /** `ipxe` once the client runs iPXE (user class iPXE), else `firmware`. */
  stage: 'firmware' | 'ipxe';
  arch?: { code: number; key: string; name: string };
  why: string;
}

function isUrl(s: string): boolean {
  return /^(https?|tftp):\/\//i.test(s);
}

function toUrl(base: string, pathOrUrl: string): string {
  if (isUrl(pathOrUrl)) return pathOrUrl;
  return `${base}/${pathOrUrl.replace(/^\/+/, '')}`;
}

/** The architecture: option 93's first entry, else the `Arch:NNNNN` part of option 60. */
export function clientArch(facts: BootFacts): number | undefined {
  if (facts.arches.length > 0) return facts.arches[0];
  const m = /^(?:PXEClient|HTTPClient):Arch:([0-9]{5})/.exec(facts.vendorClass ?? '');
  return m === null ? undefined : Number(m[1]);
}

/**
 * Loaders that are not iPXE and do no DHCP of their own (pxelinux, GRUB, shim): they reuse the
 * packets the firmware cached, so handing one to a client that already runs iPXE cannot start a
 * chainload loop. Decided by the file's base name in the boot namespace; anything else (undionly.kpxe,
 * snponly.efi, ipxe.efi, a custom build, a URL) may be iPXE.
 */
export function isNonIpxeLoader(file: string): boolean {
  if (isUrl(file)) return false;
  const base = file.replace(/^.*\//, '');
  return /^(?:l?pxelinux\.0|(?:shim|grub)[a-z0-9]*\.efi)$/i.test(base);
}

type Choice = { ok: true; file: string; why: string } | { ok: false; decision: BootDecision };

/** The first loader for a firmware client: host, group, per-arch config, the chain's default. */
function chooseLoader(info: ArchInfo | undefined, code: number | undefined, vc: string, ctx: BootContext, echo: 'PXEClient' | 'HTTPClient' | undefined, arch: BootDecision['arch']): Choice {
  const siaddr = ctx.tftpServer;
  if (ctx.registrationOnly !== true && ctx.host?.bootfile !== undefined) return { ok: true, file: ctx.host.bootfile, why: `boot file from ${ctx.host.source}` };
  if (ctx.registrationOnly !== true && info !== undefined && ctx.group?.bootfiles?.[info.key] !== undefined) return { ok: true, file: ctx.group.bootfiles[info.key]!, why: `boot file of group ${ctx.group.name} for ${info.key}` };
  if (info !== undefined && ctx.defaults.bootfiles?.[info.key] !== undefined) return { ok: true, file: ctx.defaults.bootfiles[info.key]!, why: `configured boot file for ${info.key}` };
  const dl = info === undefined ? undefined : defaultLoader(info, ctx);
  if (info !== undefined && dl !== undefined) {
    let why = `default ${dl.chain} loader for arch ${info.code} (${info.name})`;
    if (!DEBIAN_LOADERS.has(dl.file)) why += `: ${dl.file} is not shipped by Debian's ipxe package; put it in the assets directory or set dhcp.boot.bootfiles.${info.key}`;
    if (ctx.registrationOnly === true) why += dl.chain === 'ipxe' ? '; unknown host: the registration script follows in iPXE' : `; unknown host: the ${dl.chain} config asks again until it is approved`;
    return { ok: true, file: dl.file, why };
  }
  if (code === undefined) {
    return { ok: false, decision: { action: 'none', siaddr, stage: 'firmware', why: `${vc.split(':')[0]} without a usable architecture (option 93); no boot file`, ...(echo ? { vendorClass: echo } : {}) } };
  }
  const key = info?.key ?? String(code);
  return {
    ok: false,
    decision: {
      action: 'none',
      siaddr,
      stage: 'firmware',
      why: `no default loader for arch ${code}${info ? ` (${info.name})` : ' (not in the IANA registry)'}; set dhcp.boot.bootfiles.${key}`,
      ...(echo ? { vendorClass: echo } : {}),
      ...(arch ? { arch } : {}),
    },
  };
}

/**
 * The boot file or URL for this client. One rule keeps iPXE out of a chainload loop: a client that
 * already runs iPXE (user class iPXE) gets the HTTP script URL whenever its chain's first loader
 * may be iPXE; when the chain starts with a loader that is not iPXE (pxelinux.0, GRUB, shim), it
 * gets that loader like any firmware client (QEMU's BIOS PXE ROM is iPXE, and pxelinux does no
 * DHCP of its own, so there is no loop).
 */
export function decideBoot(facts: BootFacts, ctx: BootContext): BootDecision {
  const vc = facts.vendorClass ?? '';
  const pxe = vc.startsWith('PXEClient');
  const httpClient = vc.startsWith('HTTPClient');
  const ipxe = facts.userClasses.includes('iPXE');
  const code = clientArch(facts);
  const info: ArchInfo | undefined = code === undefined ? undefined : archInfo(code);
  const arch = info === undefined ? undefined : { code: info.code, key: info.key, name: info.name };
  const siaddr = ctx.tftpServer;
  const echo: 'PXEClient' | 'HTTPClient' | undefined = httpClient ? 'HTTPClient' : pxe ? 'PXEClient' : undefined;

  if (!pxe && !httpClient && !ipxe) {
    return { action: 'none', siaddr, stage: 'firmware', why: 'not a network-boot client (no PXEClient/HTTPClient vendor class, no iPXE user class)', ...(arch ? { arch } : {}) };
  }

  const http = httpClient || info?.http === true;
  const choice = chooseLoader(info, code, vc, ctx, echo, arch);

  if (ipxe) {
    // The chain starts with a loader that is not iPXE: iPXE (a ROM) loads it over TFTP; no loop.
    if (choice.ok && !http && isNonIpxeLoader(choice.file)) {
      return { action: 'boot', file: choice.file, transport: 'tftp', siaddr, vendorClass: 'PXEClient', stage: 'ipxe', why: `iPXE client on the ${choiceChain(choice.file)} chain: ${choice.why} (not iPXE, so no chainload loop)`, ...(arch ? { arch } : {}) };
    }
    // Already in iPXE: hand out the script URL, never an iPXE binary again (no chainload loop).
    let script: string;
    let why: string;
    if (ctx.registrationOnly === true) {
      script = ctx.registrationScript;
      why = 'iPXE client, unknown host under the register policy: registration script';
    } else if (ctx.host?.ipxeScript !== undefined) {
      script = ctx.host.ipxeScript;
      why = `iPXE client: script from ${ctx.host.source}`;
    } else if (ctx.group?.ipxeScript !== undefined) {
      script = ctx.group.ipxeScript;
      why = `iPXE client: script of group ${ctx.group.name}`;
    } else {
      script = ctx.defaults.ipxeScript;
      why = 'iPXE client (user class iPXE): the HTTP script URL, not the iPXE binary again';
    }
    return { action: 'boot', file: toUrl(ctx.httpBase, script), transport: 'http', siaddr, stage: 'ipxe', why, ...(echo ? { vendorClass: echo } : {}), ...(arch ? { arch } : {}) };
  }

  if (!choice.ok) return choice.decision;
  const { file, why } = choice;
  if (http) {
    return { action: 'boot', file: toUrl(ctx.httpBase, file), transport: 'http', siaddr, vendorClass: 'HTTPClient', stage: 'firmware', why: `HTTP Boot: ${why}`, ...(arch ? { arch } : {}) };
  }
  return { action: 'boot', file, transport: isUrl(file) ? 'http' : 'tftp', siaddr, vendorClass: 'PXEClient', stage: 'firmware', why, ...(arch ? { arch } : {}) };
}

function choiceChain(file: string): string {
  const base = file.replace(/^.*\//, '').toLowerCase();
  return base.includes('pxelinux') ? 'pxelinux' : base.startsWith('shim') ? 'shim' : 'grub';
}
