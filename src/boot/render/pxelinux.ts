// pxelinux.cfg per host, for BIOS clients on the pxelinux chain (pxelinux.0 + ldlinux.c32, and
// menu.c32 + libutil.c32 for menus). pxelinux has no quoting: every value is one checked line.
// pxelinux.0 reads files over TFTP only; http URLs need lpxelinux.0.
import type { LinuxPayload, MenuPayload, Payload } from '../planner.ts';
import type { RenderHost } from './ipxe.ts';
import { checkPath, checkValue, safeText } from './text.ts';

function labelLines(key: string, title: string, p: MenuPayload['items'][number]['payload']): string[] {
  const out = [`LABEL ${key}`, `  MENU LABEL ${safeText(title, 80) || key}`];
  if (p.kind === 'linux') out.push(...linuxLines(p));
  else if (p.kind === 'chain') out.push(`  KERNEL ${checkPath(`profile ${p.profile}: chain`, p.target)}`);
  else out.push('  LOCALBOOT 0');
  return out;
}

function linuxLines(p: LinuxPayload): string[] {
  const out = [`  KERNEL ${checkPath(`profile ${p.profile}: kernel`, p.kernel)}`];
  const initrds = p.initrd.map((i, n) => checkPath(`profile ${p.profile}: initrd[${n}]`, i));
  if (initrds.length > 0) out.push(`  INITRD ${initrds.join(',')}`);
  const cmdline = checkValue(`profile ${p.profile}: cmdline`, p.cmdline).trim();
  if (cmdline !== '') out.push(`  APPEND ${cmdline}`);
  return out;
}

export interface PxelinuxOptions {
  host: RenderHost;
}

/** The pxelinux.cfg file for a payload. Throws RenderError when a profile value is unsafe. */
export function renderPxelinux(payload: Payload, o: PxelinuxOptions): string {
  const who = [safeText(o.host.hostname), safeText(o.host.mac, 17)].filter((s) => s !== '').join(' ');
  const out = [`# bootherd: pxelinux.cfg${who === '' ? '' : ` for ${who}`}`];
  switch (payload.kind) {
    case 'linux':
      out.push('DEFAULT boot', 'PROMPT 0', ...labelLines('boot', payload.profile, payload));
      break;
    case 'chain':
      out.push('DEFAULT boot', 'PROMPT 0', ...labelLines('boot', payload.profile, payload));
      break;
    case 'menu': {
      const keys = payload.items.map((_, i) => `item${i}`);
      const def = keys[Math.max(0, payload.items.findIndex((i) => i.key === payload.default))]!;
      // TIMEOUT is in tenths of a second; 0 waits forever.
      out.push('UI menu.c32', `MENU TITLE ${safeText(payload.title, 80)}`, `DEFAULT ${def}`, 'PROMPT 0', `TIMEOUT ${payload.timeoutS * 10}`);
      payload.items.forEach((it, i) => out.push(...labelLines(keys[i]!, checkValue(`menu item ${it.key}: label`, it.label, 80), it.payload)));
      break;
    }
    case 'wait':
      // Loads pxelinux.0 again after the poll interval, which reads this file again.
      out.push(`SAY ${safeText(payload.message, 120)}; asking again in ${payload.pollS} seconds`, 'DEFAULT wait', 'PROMPT 1', `TIMEOUT ${payload.pollS * 10}`, 'LABEL wait', '  KERNEL pxelinux.0');
      break;
    case 'local':
      out.push('DEFAULT local', 'PROMPT 0', 'LABEL local', '  LOCALBOOT 0');
      break;
    default:
      out.push('SAY bootherd has nothing to boot for this machine', 'DEFAULT local', 'PROMPT 0', 'LABEL local', '  LOCALBOOT 0');
  }
  out.push('');
  return out.join('\n');
}

/** The per-host file name pxelinux asks for first after its UUID: `01-aa-bb-cc-dd-ee-ff`. */
export function pxelinuxMacName(mac: string): string {
  return `01-${mac.toLowerCase().replace(/:/g, '-')}`;
}
