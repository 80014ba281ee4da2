// iPXE scripts from a plan's payload: a per-host script (kernel + initrd, chain, local disk, wait
// for approval) and menus with a default and a timeout. Paths under the boot root become
// root-relative URLs (`/debian/linux`), which iPXE resolves against the script's own URL.
import type { ChainPayload, LinuxPayload, MenuPayload, Payload } from '../planner.ts';
import { baseName, checkPath, checkValue, isUrl, safeText, words } from './text.ts';

export interface RenderHost {
  hostname?: string | null | undefined;
  mac?: string | undefined;
  id?: string | undefined;
}

export interface IpxeOptions {
  host: RenderHost;
  /**
   * This script's own URL (relative or absolute), used by a pending host to ask again. bootherd's
   * own template: it may hold iPXE variables such as `${net0/mac}`, expanded by the client.
   */
  selfUrl: string;
  /** Prefix of boot-root files over HTTP; default `/`. */
  filesBase?: string;
}

function header(o: IpxeOptions, what: string): string[] {
  const who = [safeText(o.host.hostname), safeText(o.host.mac, 17)].filter((s) => s !== '').join(' ');
  return ['#!ipxe', `# bootherd: ${safeText(what, 128)}${who === '' ? '' : ` for ${who}`}`];
}

export function fileUrl(path: string, filesBase = '/'): string {
  if (isUrl(path)) return path;
  const base = filesBase.endsWith('/') ? filesBase : `${filesBase}/`;
  return base + path.replace(/^\/+/, '');
}

function linuxLines(p: LinuxPayload, o: IpxeOptions): string[] {
  const kernel = fileUrl(checkPath(`profile ${p.profile}: kernel`, p.kernel), o.filesBase);
  const initrds = p.initrd.map((i, n) => fileUrl(checkPath(`profile ${p.profile}: initrd[${n}]`, i), o.filesBase));
  const cmdline = words(checkValue(`profile ${p.profile}: cmdline`, p.cmdline));
  // An EFI-stub kernel loads its initrd itself and needs initrd=<name> (field notes); iPXE names
  // each image after the last segment of its URL.
  const args = [...initrds.map((i) => `initrd=${baseName(i)}`), ...cmdline];
  return ['imgfree', `kernel ${kernel}${args.length > 0 ? ` ${args.join(' ')}` : ''} || goto failed`, ...initrds.map((i) => `initrd ${i} || goto failed`), 'boot || goto failed'];
}

function chainLines(p: ChainPayload, o: IpxeOptions): string[] {
  return [`chain --autofree ${fileUrl(checkPath(`profile ${p.profile}: chain`, p.target), o.filesBase)} || goto failed`];
}

const LOCAL = ['echo Booting from the local disk', 'exit 0'];
const FAILED = [':failed', 'echo Boot failed: returning to the firmware (see the bootherd log)', 'sleep 5', 'exit 1'];

function menuLines(m: MenuPayload, o: IpxeOptions): string[] {
  const keys = m.items.map((_, i) => `item${i}`);
  const def = keys[Math.max(0, m.items.findIndex((i) => i.key === m.default))]!;
  const who = safeText(o.host.hostname) || safeText(o.host.mac, 17) || 'not yet known';
  const out = [`menu ${safeText(m.title, 80) || 'bootherd'}`, `item --gap -- Host ${who}`];
  m.items.forEach((it, i) => out.push(`item ${keys[i]} ${safeText(checkValue(`menu item ${it.key}: label`, it.label, 80), 80) || it.key}`));
  const timeout = m.timeoutS > 0 ? ` --timeout ${m.timeoutS * 1000}` : '';
  out.push(`choose --default ${def}${timeout} target && goto \${target} || goto ${def}`);
  m.items.forEach((it, i) => {
    out.push(`:${keys[i]}`);
    if (it.payload.kind === 'linux') out.push(...linuxLines(it.payload, o));
    else if (it.payload.kind === 'chain') out.push(...chainLines(it.payload, o));
    else out.push(...LOCAL);
  });
  return out;
}

/** The iPXE script for a payload. Throws RenderError when a profile value is unsafe. */
export function renderIpxe(payload: Payload, o: IpxeOptions): string {
  let body: string[];
  let what: string;
  switch (payload.kind) {
    case 'linux':
      what = `profile ${payload.profile}`;
      body = [...linuxLines(payload, o), ...FAILED];
      break;
    case 'chain':
      what = `profile ${payload.profile} (chain)`;
      body = [...chainLines(payload, o), ...FAILED];
      break;
    case 'menu':
      what = 'menu';
      body = [...menuLines(payload, o), ...FAILED];
      break;
    case 'local':
      what = 'local disk';
      body = LOCAL;
      break;
    case 'wait':
      what = 'waiting for approval';
      body = [`echo ${safeText(payload.message, 120)}`, `echo Asking again in ${payload.pollS} seconds`, `sleep ${payload.pollS}`, `chain --replace --autofree ${o.selfUrl}`];
      break;
    default:
      what = 'nothing to boot';
      body = ['echo bootherd has nothing to boot for this machine', ...LOCAL];
  }
  return [...header(o, what), ...body, ''].join('\n');
}

/** The script served when rendering failed: tells the console, then leaves the network boot. */
export function renderIpxeError(code: string): string {
  return ['#!ipxe', `echo bootherd could not build a boot script (${safeText(code, 40)}): see the bootherd log`, 'sleep 5', 'exit 1', ''].join('\n');
}
