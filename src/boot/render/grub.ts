// grub.cfg per host, for UEFI PXE and the Secure Boot chain (shim → grubnetx64 → signed kernel).
// GRUB reads it over TFTP from the server it booted from, so boot-root paths stay root-relative
// (`/debian/linux`); URLs become GRUB's `(http,host[:port])/path`. Every word is single-quoted,
// the one GRUB quoting that expands nothing.
import type { LinuxPayload, MenuItem, MenuPayload, Payload } from '../planner.ts';
import type { RenderHost } from './ipxe.ts';
import { checkPath, checkValue, safeText, words } from './text.ts';
import { RenderError } from './text.ts';

/** GRUB single quoting: 'it'\''s'. */
export function grubQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A boot-root path or an http(s) URL as GRUB names it. */
export function grubPath(field: string, p: string): string {
  checkPath(field, p);
  const m = /^https?:\/\/([^/]+)(\/.*)?$/i.exec(p);
  if (m !== null) {
    if (p.toLowerCase().startsWith('https')) throw new RenderError(field, `${field}: GRUB cannot fetch https URLs; serve the file under the boot root or over http`);
    return `(http,${m[1]})${m[2] ?? '/'}`;
  }
  if (/^tftp:\/\//i.test(p)) {
    const t = /^tftp:\/\/([^/]+)(\/.*)?$/i.exec(p)!;
    return `(tftp,${t[1]})${t[2] ?? '/'}`;
  }
  return `/${p.replace(/^\/+/, '')}`;
}

function linuxBody(p: LinuxPayload): string[] {
  const kernel = grubPath(`profile ${p.profile}: kernel`, p.kernel);
  const initrds = p.initrd.map((i, n) => grubPath(`profile ${p.profile}: initrd[${n}]`, i));
  const args = words(checkValue(`profile ${p.profile}: cmdline`, p.cmdline));
  const out = [`  echo ${grubQuote(`Loading ${safeText(p.profile)}`)}`, `  linux ${[kernel, ...args].map(grubQuote).join(' ')}`];
  if (initrds.length > 0) out.push(`  initrd ${initrds.map(grubQuote).join(' ')}`);
  return out;
}

function entry(title: string, item: MenuItem['payload']): string[] {
  const t = grubQuote(safeText(title, 80) || 'entry');
  if (item.kind === 'linux') return [`menuentry ${t} {`, ...linuxBody(item), '}'];
  if (item.kind === 'chain') return [`menuentry ${t} {`, `  chainloader ${grubQuote(grubPath(`profile ${item.profile}: chain`, item.target))}`, '}'];
  return [`menuentry ${t} {`, '  exit', '}'];
}

function menu(m: MenuPayload): string[] {
  const def = Math.max(0, m.items.findIndex((i) => i.key === m.default));
  const out = [`set default=${def}`, `set timeout=${m.timeoutS > 0 ? m.timeoutS : -1}`, `echo ${grubQuote(safeText(m.title, 80))}`];
  for (const it of m.items) out.push(...entry(checkValue(`menu item ${it.key}: label`, it.label, 80), it.payload));
  return out;
}

export interface GrubOptions {
  host: RenderHost;
  /** This file's own path, read again by a pending host. */
  selfPath: string;
}

/** The grub.cfg for a payload. Throws RenderError when a profile value is unsafe. */
export function renderGrub(payload: Payload, o: GrubOptions): string {
  const who = [safeText(o.host.hostname), safeText(o.host.mac, 17)].filter((s) => s !== '').join(' ');
  const head = [`# bootherd: grub.cfg${who === '' ? '' : ` for ${who}`}`];
  let body: string[];
  switch (payload.kind) {
    case 'linux':
      body = ['set default=0', 'set timeout=0', ...entry(payload.profile, payload)];
      break;
    case 'chain':
      body = ['set default=0', 'set timeout=0', ...entry(payload.profile, payload)];
      break;
    case 'menu':
      body = menu(payload);
      break;
    case 'wait':
      body = [
        `echo ${grubQuote(safeText(payload.message, 120))}`,
        `echo ${grubQuote(`Asking again in ${payload.pollS} seconds`)}`,
        `sleep ${payload.pollS}`,
        `configfile ${grubQuote(`/${o.selfPath.replace(/^\/+/, '')}`)}`,
      ];
      break;
    case 'local':
      body = [`echo ${grubQuote('Booting from the local disk')}`, 'exit'];
      break;
    default:
      body = [`echo ${grubQuote('bootherd has nothing to boot for this machine')}`, 'exit'];
  }
  return [...head, ...body, ''].join('\n');
}
