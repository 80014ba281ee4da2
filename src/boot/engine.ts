// The boot engine: the glue between the planner, the host directory and the three servers.
// - DHCP: `planDhcp(request)`, the BootPlanner DhcpServer asks (synchronous, from the snapshot;
//   the sighting is recorded in the background).
// - HTTP: `handleHttp(request)` answers /boot.ipxe (per-host script), /register.ipxe and
//   /menu.ipxe, framework-free; src/http/boot-routes.ts mounts it.
// - TFTP: `attach(registry)` serves pxelinux.cfg/01-<mac>, grub/grub.cfg and grub/hosts/<mac>.cfg
//   on request, and the boot-loader assets under their stable names.
// Each stage emits a boot event carrying the host record's id.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/logger.ts';
import { EventBus } from '../events/bus.ts';
import { BurstLimiter } from '../events/burst.ts';
import type { BootStage } from '../events/bus.ts';
import type { GeneratedFiles } from '../files/registry.ts';
import type { BootPlanner, DhcpHost, DhcpPlan, DhcpPlanRequest, DhcpPlanSettings } from './dhcp-plan.ts';
import { planDhcp } from './dhcp-plan.ts';
import type { Host } from '../store/index.ts';
import type { DhcpOptions, FirmwareArch } from '../inventory/types.ts';
import type { BootConfig } from '../config/boot.ts';
import type { BootPlan, PlanSettings } from './planner.ts';
import { DEFAULT_PLAN_SETTINGS, firmwareArchFromDhcp, firmwareArchFromIpxe, plan, unknownHostMenu } from './planner.ts';
import type { HostDirectory } from './hosts.ts';
import { renderIpxe, renderIpxeError } from './render/ipxe.ts';
import { renderGrub } from './render/grub.ts';
import { renderPxelinux } from './render/pxelinux.ts';
import { IPXE_SCRIPT_TEMPLATE } from './render/url.ts';
import { RenderError, canonicalMac, canonicalUuid } from './render/text.ts';

/** The planner's settings from the `boot` config section. */
export function planSettings(c: BootConfig): PlanSettings {
  return { unknownHosts: c.unknown_hosts, biosLoader: c.bios_loader, uefiLoader: c.uefi_loader, menu: { title: c.menu.title, timeoutS: c.menu.timeout, default: c.menu.default }, pendingPollS: c.pending_poll };
}

export interface BootEngineOptions {
  directory: HostDirectory;
  events: EventBus;
  logger: Logger;
  settings?: PlanSettings;
  /** Prefix of boot-root files over HTTP (default `/`). */
  filesBase?: string;
  /**
   * The boot root: a file there with the name of a generated one (boot.ipxe, pxelinux.cfg/01-<mac>,
   * grub/grub.cfg) wins, so an operator's hand-written file keeps working.
   */
  bootRoot?: string;
  /**
   * How long the answer to "does the boot root have its own boot.ipxe (register.ipxe, menu.ipxe)?"
   * is reused (default 1000 ms): a file the operator adds wins within this window. One stat per
   * script request otherwise (docs/decisions/0008-http-serving-speed.md).
   */
  diskCheckMs?: number;
  /** Clock for diskCheckMs and the repeat windows (tests). */
  now?: () => number;
  /**
   * Script fetches per host (or client) and script per window that are events of their own; more
   * are counted into one `script-repeats` event per window (log.event_burst, log.event_window).
   * Default 20 per 10 s; burst 0: every fetch is an event.
   */
  repeats?: { burst?: number; windowMs?: number };
}

export interface HttpRequest {
  /** The path without query, e.g. `/boot.ipxe`. */
  path: string;
  query: Record<string, string | string[] | undefined>;
  /** The client's address. */
  ip: string;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Rendered scripts kept per engine (each well under 4 KiB); the map starts over when full. */
const MAX_CACHED_SCRIPTS = 4096;

/** The paths handleHttp answers. */
export const BOOT_HTTP_PATHS: readonly string[] = ['/boot.ipxe', '/register.ipxe', '/menu.ipxe'];

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export class BootEngine implements BootPlanner {
  readonly directory: HostDirectory;
  private readonly events: EventBus;
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly settings: PlanSettings;
  private readonly filesBase: string;
  private readonly bootRoot: string | undefined;
  /** Rendered scripts by request (path, host, arch, MAC, UUID), valid for one snapshot epoch. */
  private readonly scripts = new Map<string, { epoch: number; answer: Readonly<HttpAnswer> | undefined; detail: Readonly<Record<string, unknown>> }>();
  private readonly diskChecks = new Map<string, { at: number; found: boolean }>();
  private readonly diskCheckMs: number;
  private readonly now: () => number;
  private readonly repeats: BurstLimiter;

  constructor(opts: BootEngineOptions) {
    this.directory = opts.directory;
    this.events = opts.events;
    this.log = opts.logger;
    this.rl = new RateLimitedLog(opts.logger);
    this.settings = opts.settings ?? DEFAULT_PLAN_SETTINGS;
    this.filesBase = opts.filesBase ?? '/';
    this.bootRoot = opts.bootRoot;
    this.diskCheckMs = opts.diskCheckMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.repeats = new BurstLimiter({
      ...opts.repeats,
      now: this.now,
      report: (key, sum) => {
        const nl = key.indexOf('\n');
        this.events.emit({ host: key.slice(0, nl), stage: 'http', kind: 'script-repeats', detail: { script: key.slice(nl + 1), count: sum.count, actions: sum.counts, window_s: sum.window_s } });
      },
    });
  }

  /** Reports the script fetches counted in windows that have ended (all of them with `all`, at shutdown). */
  sweepRepeats(all = false): void {
    this.repeats.sweep(all);
  }

  /** onDisk for the dynamic HTTP paths (a fixed handful), answered from memory for diskCheckMs. */
  private scriptOnDisk(path: string): boolean {
    const t = this.now();
    const c = this.diskChecks.get(path);
    if (c !== undefined && t - c.at < this.diskCheckMs) return c.found;
    const found = this.onDisk(path.slice(1));
    this.diskChecks.set(path, { at: t, found });
    return found;
  }

  /** A regular file of this (already normalised, root-relative) name exists in the boot root. */
  private onDisk(rel: string): boolean {
    if (this.bootRoot === undefined) return false;
    try {
      // throwIfNoEntry: the usual answer (no such file) costs no exception: 20x cheaper per /boot.ipxe.
      return statSync(join(this.bootRoot, rel), { throwIfNoEntry: false })?.isFile() === true;
    } catch {
      return false;
    }
  }

  /** The plan for a client, from the snapshot. */
  planFor(host: Host | undefined, arch: FirmwareArch | undefined, mac?: string, uuid?: string, settings: PlanSettings = this.settings): BootPlan {
    return plan(
      { mac, uuid, arch },
      { host: host === undefined ? undefined : { id: host.id, hostname: host.hostname, state: host.state, profile: this.directory.ownProfile(host), group: this.directory.groupOf(host) }, profiles: this.directory.profiles(), defaultProfile: this.directory.defaultProfile() },
      settings,
    );
  }

  private emit(stage: BootStage, kind: string, host: Host | undefined, who: string, detail: Record<string, unknown>): void {
    this.events.emit({ host: host?.id ?? who, stage, kind, detail: { ...(host === undefined ? {} : { client: who }), ...detail } });
  }

  private sight(s: Parameters<HostDirectory['identify']>[0]): Promise<Host | undefined> {
    return this.directory.identify(s).catch((err: unknown) => {
      this.rl.warn('identify', { code: 'BH_BOOT_HOST_RECORD', err }, 'could not find or record a host in the store; the client boots as unknown until the store answers');
      return undefined;
    });
  }

  private sightingFor(mac: string | undefined, uuid: string | undefined, ip: string | undefined, arch: FirmwareArch | undefined, forceRegister = false): Parameters<HostDirectory['identify']>[0] {
    const register = forceRegister || this.settings.unknownHosts === 'register';
    return { mac, uuid, ip, arch, create: this.settings.unknownHosts !== 'ignore' || forceRegister, state: register ? 'pending' : 'new', promoteToPending: register };
  }

  // ------------------------------------------------------------------ DHCP

  /**
   * The DHCP stage of the plan (BootPlanner, asked by DhcpServer): a known host (a record in a
   * state other than `new`) starts its plan's loader chain; unknown ones follow
   * `dhcp.unknown_clients`. The sighting of a network-boot client is recorded in the background.
   */
  readonly planDhcp = (req: DhcpPlanRequest, settings: DhcpPlanSettings): DhcpPlan => {
    const netboot = req.vendorClass?.startsWith('PXEClient') === true || req.vendorClass?.startsWith('HTTPClient') === true || req.userClasses.includes('iPXE');
    const arch = firmwareArchFromDhcp(req.arches, req.vendorClass);
    const host = this.directory.find({ mac: req.mac, uuid: req.uuid });
    if (netboot) void this.sight(this.sightingFor(req.mac, req.uuid, req.ip, arch));
    let known: DhcpHost | undefined;
    // A record in state new is unknown, unless it carries a reservation, boot file or script (a
    // host loaded from the config's reservations): DHCP knows it, its plan stays the unknown one's.
    if (host !== undefined && (host.state !== 'new' || host.ip !== null || host.bootfile !== null || host.ipxeScript !== null)) {
      const firstLoader = host.state === 'disabled' || host.state === 'new' ? undefined : this.planFor(host, arch, req.mac, req.uuid).dhcp.bootfile;
      known = {
        id: host.id,
        state: host.state,
        hostname: host.hostname,
        group: this.directory.groupOf(host),
        firstLoader,
        bootfile: host.bootfile,
        ipxeScript: host.ipxeScript,
        // As stored (the inventory validated it on the way in): DhcpServer encodes what it can.
        dhcp: host.dhcpOptions as DhcpOptions | null,
      };
    }
    return planDhcp(req, known, settings);
  };

  // ------------------------------------------------------------------ HTTP

  /** Answers the dynamic boot paths; undefined for any other path, or when the boot root has that file. Never throws. */
  async handleHttp(req: HttpRequest): Promise<HttpAnswer | undefined> {
    return this.handleHttpNow(req);
  }

  /**
   * handleHttp, but answered at once when it can be: when the snapshot already knows the machine
   * as well as this request could teach it (every fetch after the first), no store round trip is
   * needed and the HTTP fast path writes the answer without a promise. A script's answer object is
   * shared by every request for it in the same snapshot epoch: callers must not modify it.
   */
  handleHttpNow(req: HttpRequest): HttpAnswer | Promise<HttpAnswer | undefined> | undefined {
    if (!BOOT_HTTP_PATHS.includes(req.path) || this.scriptOnDisk(req.path)) return undefined;
    const rawMac = one(req.query['mac']);
    const mac = canonicalMac(rawMac);
    const uuid = canonicalUuid(one(req.query['uuid']));
    const arch = firmwareArchFromIpxe(one(req.query['arch']), one(req.query['platform']));
    const facts = { rawMac, mac, uuid, arch };
    if (mac === undefined && uuid === undefined) return this.scriptAnswer(req, this.directory.byIp(req.ip), facts);
    const sighting = this.sightingFor(mac, uuid, req.ip, arch, req.path === '/register.ipxe');
    const known = this.directory.known(sighting);
    if (known !== undefined) return this.scriptAnswer(req, known, facts);
    return this.sight(sighting).then((host) => this.scriptAnswer(req, host ?? this.directory.find({ mac, uuid }), facts));
  }

  /** The script's answer; undefined when the plan defers to the boot root (the file route answers, 404 without a file). */
  private scriptAnswer(req: HttpRequest, host: Host | undefined, f: { rawMac: string | undefined; mac: string | undefined; uuid: string | undefined; arch: FirmwareArch | undefined }): HttpAnswer | undefined {
    const { rawMac, mac, uuid, arch } = f;
    const script = req.path.slice(1);
    const who = mac ?? req.ip;
    try {
      // Plan and render are pure functions of the snapshot and these inputs: a script rendered in
      // this snapshot epoch is reused (a machine polling /register.ipxe, a fleet booting at once).
      const epoch = this.directory.epoch;
      const key = `${req.path}\n${host?.id ?? ''}\n${arch ?? ''}\n${mac ?? ''}\n${uuid ?? ''}`;
      let r = this.scripts.get(key);
      if (r === undefined || r.epoch !== epoch) {
        const made = this.renderScript(req.path, script, host, arch, mac, uuid);
        r = { epoch, detail: made.detail, answer: made.body === undefined ? undefined : Object.freeze({ status: 200, contentType: 'text/plain; charset=utf-8', body: made.body }) };
        if (this.scripts.size >= MAX_CACHED_SCRIPTS) this.scripts.clear();
        this.scripts.set(key, r);
      }
      // A host fetching the same script over and over (a boot loop, a flood) is counted past its burst.
      const subject = host?.id ?? who;
      if (this.repeats.offer(`${subject}\n${script}`, undefined, String(r.detail['action']))) {
        const detail: Record<string, unknown> = host === undefined ? { script, ip: req.ip } : { client: who, script, ip: req.ip };
        if (arch) detail['arch'] = arch;
        if (rawMac !== undefined && mac === undefined) detail['badMac'] = true;
        this.events.emit({ host: subject, stage: 'http', kind: 'script', detail: Object.assign(detail, r.detail) });
      }
      return r.answer;
    } catch (err) {
      const code = err instanceof RenderError ? err.code : 'BH_BOOT_SCRIPT';
      this.rl.warn(`script:${code}`, { code, err, host: host?.id, mac }, err instanceof RenderError ? `cannot render the boot script: ${err.message}` : 'cannot build the boot script');
      this.emit('http', 'script-error', host, who, { script, ip: req.ip, code });
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: renderIpxeError(code) };
    }
  }

  /** The script for one request (undefined when the plan defers to the boot root) and the plan facts its event carries. Throws RenderError. */
  private renderScript(path: string, script: string, host: Host | undefined, arch: FirmwareArch | undefined, mac: string | undefined, uuid: string | undefined): { body: string | undefined; detail: Readonly<Record<string, unknown>> } {
    let payload: BootPlan['payload'];
    let detail: Record<string, unknown>;
    if (path === '/menu.ipxe') {
      payload = unknownHostMenu({ host: undefined, profiles: this.directory.profiles() }, arch, this.settings);
      detail = { action: 'menu', why: 'menu requested' };
    } else {
      const settings = path === '/register.ipxe' ? { ...this.settings, unknownHosts: 'register' as const } : this.settings;
      const p = this.planFor(host, arch, mac, uuid, settings);
      payload = p.payload;
      detail = { action: p.action, chain: p.chain, why: p.why, ...(p.payload.kind === 'linux' || p.payload.kind === 'chain' ? { profile: p.payload.profile } : {}) };
      if (p.action === 'defer') return { body: undefined, detail: Object.freeze(detail) };
    }
    const body = renderIpxe(payload, { host: { hostname: host?.hostname, mac: mac ?? host?.macs[0] }, selfUrl: `${script}?${IPXE_SCRIPT_TEMPLATE.split('?')[1]!}`, filesBase: this.filesBase });
    return { body, detail: Object.freeze(detail) };
  }

  // ------------------------------------------------------------------ TFTP

  /** Registers the on-request per-host files (pxelinux.cfg, grub) with the registry. */
  attach(registry: GeneratedFiles): () => void {
    const offs = [registry.provide('pxelinux.cfg/', (p) => (this.onDisk(p) ? undefined : this.pxelinuxFile(p))), registry.provide('grub/', (p) => (this.onDisk(p) ? undefined : this.grubFile(p)))];
    return () => offs.forEach((f) => f());
  }

  private configFile(stage: BootStage, file: string, host: Host | undefined, mac: string | undefined, arch: FirmwareArch, render: (p: BootPlan) => string): { data: Buffer } | undefined {
    const p = this.planFor(host, arch, mac);
    if (mac !== undefined) void this.sight(this.sightingFor(mac, undefined, undefined, arch));
    if (p.action === 'defer') {
      // Nothing in the inventory for this client: the boot root answers (a missing file: the loader tries its next name).
      this.emit(stage, 'config-deferred', host, mac ?? file, { file, why: p.why });
      return undefined;
    }
    let text: string;
    try {
      text = render(p);
    } catch (err) {
      this.rl.warn(`config:${file}`, { code: err instanceof RenderError ? err.code : 'BH_BOOT_CONFIG', err, host: host?.id }, `cannot render ${file}`);
      this.emit(stage, 'config-error', host, mac ?? file, { file });
      return undefined;
    }
    this.emit(stage, 'config', host, mac ?? file, { file, action: p.action, chain: p.chain, why: p.why, ...(p.payload.kind === 'linux' || p.payload.kind === 'chain' ? { profile: p.payload.profile } : {}) });
    return { data: Buffer.from(text, 'utf8') };
  }

  private pxelinuxFile(path: string): { data: Buffer } | undefined {
    const name = path.slice('pxelinux.cfg/'.length);
    const m = /^01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i.exec(name);
    let mac: string | undefined;
    let host: Host | undefined;
    if (m !== null) {
      mac = m[1]!.toLowerCase().replace(/-/g, ':');
      host = this.directory.byMac(mac);
    } else {
      const uuid = canonicalUuid(name);
      host = uuid === undefined ? undefined : this.directory.byUuid(uuid);
      if (host === undefined) return undefined; // let pxelinux go on to 01-<mac>
      mac = host.macs[0];
    }
    return this.configFile('tftp', path, host, mac, 'bios', (p) => renderPxelinux(p.payload, { host: { hostname: host?.hostname, mac } }));
  }

  private grubFile(path: string): { data: Buffer } | undefined {
    if (path === 'grub/grub.cfg') {
      // grubnetx64 sources $prefix/grub.cfg ($prefix = (tftp,server)/grub); send it on to this machine's own file.
      return { data: Buffer.from('# bootherd: per-host dispatch\nsource "$prefix/hosts/${net_default_mac}.cfg"\n', 'utf8') };
    }
    const m = /^grub\/hosts\/([0-9a-f]{2}(?::[0-9a-f]{2}){5})\.cfg$/i.exec(path);
    if (m === null) return undefined;
    const mac = m[1]!.toLowerCase();
    const host = this.directory.byMac(mac);
    return this.configFile('tftp', path, host, mac, 'uefi-x64', (p) => renderGrub(p.payload, { host: { hostname: host?.hostname, mac }, selfPath: path }));
  }
}

/**
 * An event bus for a server that knows clients only by MAC or IP (TFTP, the HTTP file server,
 * DHCP): events it emits reach `target` with `host` set to the host record's id when the
 * directory knows the MAC or IP (from a DHCP ACK or the host's script request), and the original
 * identity kept as `detail.client`.
 */
export function hostAwareBus(target: EventBus, directory: HostDirectory): EventBus {
  const bus = new EventBus();
  bus.subscribe((e) => {
    const isMac = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(e.host);
    // A DHCP ACK tells which IP the machine now has: later TFTP/HTTP events from it map to its host.
    const ip = e.detail['ip'];
    if (isMac && (e.stage === 'dhcp' || e.stage === 'proxydhcp') && e.kind === 'ack' && typeof ip === 'string') directory.rememberLease(ip, e.host);
    const h = isMac ? directory.byMac(e.host) : directory.byIp(e.host);
    target.emit(h === undefined ? e : { ...e, host: h.id, detail: { client: e.host, ...e.detail } });
  });
  return bus;
}
