// Runs one QEMU guest (software emulation) on a lab tap with real firmware from Debian's packages,
// its serial console captured to a file, until the payload's marker line appears or a hard timeout
// (the guest is then killed by PID).
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootLab } from './lab.ts';
import { MARKER } from './payload.ts';

/**
 * - `bios`: SeaBIOS, e1000 with QEMU's iPXE option ROM (package ipxe-qemu).
 * - `uefi`: OVMF, q35, virtio-net with an empty romfile (EDK2's own PXE).
 * - `uefi-http`: as `uefi`, with IPv4 PXE off so that EDK2 does UEFI HTTP Boot.
 * - `secureboot`: OVMF secboot code with Microsoft keys enrolled, SMM, EDK2's own PXE.
 */
export type Firmware = 'bios' | 'uefi' | 'uefi-http' | 'secureboot';

export const OVMF = '/usr/share/OVMF';

export interface GuestOptions {
  firmware: Firmware;
  tap: string;
  mac: string;
  /** Folder for the serial log (serial.log) and the OVMF variable store copy. */
  runDir: string;
  /** Hard limit; the guest is killed (by PID) when it is reached. */
  timeoutMs: number;
  /** Stop as soon as the serial log contains this (besides the marker), e.g. a refusal message. */
  failOn?: RegExp;
}

export interface GuestResult {
  /** The marker line (`BOOTHERD-MARKER <cmdline>`), if the payload ran. */
  marker: string | undefined;
  /** The kernel command line from the marker. */
  cmdline: string | undefined;
  /** Seconds from QEMU start to the marker line (or to the end). */
  seconds: number;
  /** `marker`, `failOn`, `exit` (QEMU stopped without a marker) or `timeout`. */
  end: 'marker' | 'failOn' | 'exit' | 'timeout';
  serialLog: string;
  serial: string;
}

function need(path: string, pkg: string): string {
  if (!existsSync(path)) throw new Error(`BH_E2E_FIRMWARE: ${path} is missing (fix: apt-get install ${pkg})`);
  return path;
}

export function qemuArgs(opts: GuestOptions): string[] {
  const net = ['-netdev', `tap,id=n0,ifname=${opts.tap},script=no,downscript=no`];
  const common = ['-accel', 'tcg', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults', '-vga', 'none'];
  need('/usr/bin/qemu-system-x86_64', 'qemu-system-x86');
  if (opts.firmware === 'bios') {
    need('/usr/lib/ipxe/qemu/efi-e1000.rom', 'ipxe-qemu');
    // SeaBIOS's serial console (etc/sercon-port = 0x3f8, a little-endian integer): without a VGA
    // device, the BIOS's and iPXE ROM's text output then reaches the serial log too.
    const sercon = join(opts.runDir, 'sercon-port.bin');
    writeFileSync(sercon, Buffer.from([0xf8, 0x03]));
    return [...common, '-machine', 'pc', '-m', '256', '-fw_cfg', `name=etc/sercon-port,file=${sercon}`, ...net, '-device', `e1000,netdev=n0,mac=${opts.mac},bootindex=1`, '-boot', 'n'];
  }
  const secure = opts.firmware === 'secureboot';
  const code = need(join(OVMF, secure ? 'OVMF_CODE_4M.secboot.fd' : 'OVMF_CODE_4M.fd'), 'ovmf');
  const varsTemplate = need(join(OVMF, secure ? 'OVMF_VARS_4M.ms.fd' : 'OVMF_VARS_4M.fd'), 'ovmf');
  const vars = join(opts.runDir, 'OVMF_VARS.fd');
  copyFileSync(varsTemplate, vars);
  const args = [
    ...common,
    '-machine', secure ? 'q35,smm=on' : 'q35',
    '-m', '512',
    ...(secure ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${code}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    ...net,
    '-device', `virtio-net-pci,netdev=n0,mac=${opts.mac},romfile=,bootindex=1`,
    '-fw_cfg', 'name=opt/org.tianocore/IPv6Support,string=no',
  ];
  if (opts.firmware === 'uefi-http') args.push('-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=no');
  return args;
}

/** Boots one guest in the lab namespace and waits for its marker, a failOn match, its exit or the timeout. */
export async function runGuest(lab: BootLab, opts: GuestOptions): Promise<GuestResult> {
  const serialLog = join(opts.runDir, 'serial.log');
  const out = createWriteStream(serialLog);
  const args = qemuArgs(opts);
  out.write(`# qemu-system-x86_64 ${args.join(' ')}\n`);
  const start = performance.now();
  const child: ChildProcess = lab.spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = '';
  let stderr = '';
  let end: GuestResult['end'] | undefined;
  let seconds = 0;
  const result = await new Promise<GuestResult['end']>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
    const finish = (why: GuestResult['end']): void => {
      clearTimeout(timer);
      resolve(why);
    };
    child.stdout?.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      serial += s;
      out.write(d);
      if (end !== undefined) return;
      if (new RegExp(`${MARKER} [^\\r\\n]*[\\r\\n]`).test(serial)) {
        end = 'marker';
        seconds = (performance.now() - start) / 1000;
        finish('marker');
      } else if (opts.failOn !== undefined && opts.failOn.test(serial)) {
        end = 'failOn';
        finish('failOn');
      }
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', () => finish('exit'));
  });
  if (seconds === 0) seconds = (performance.now() - start) / 1000;
  // Stop the guest by PID whatever the outcome (the marker's poweroff usually did already).
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
  if (stderr !== '') out.write(`\n# qemu stderr:\n${stderr}`);
  await new Promise<void>((r) => out.end(r));
  const line = new RegExp(`${MARKER} ([^\\r\\n]*)`).exec(serial);
  return { marker: line?.[0], cmdline: line?.[1]?.trim(), seconds, end: result, serialLog, serial };
}
