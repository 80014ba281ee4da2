// Boot times per path: every boot path of test/e2e run against bootherd and against dnsmasq (the
// reference from FIELD-NOTES.md, with busybox httpd for HTTP) in the same run, alternating path by
// path, in software emulation. Writes docs/boot-times.md (seconds from QEMU start to the payload's
// marker line, medians, and bootherd/dnsmasq ratios). Run as root:
//   node_modules/.bin/node bench/boot/run.ts [--repeat N] [--paths id,id] [--out docs/boot-times.md]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { canUseNetns } from '../../test/helpers/netns.ts';
import { BootLab } from '../../test/e2e/lib/lab.ts';
import { buildPayload } from '../../test/e2e/lib/payload.ts';
import { cmdline, populateBootRoot } from '../../test/e2e/lib/bootroot.ts';
import { fleetFile, payloadProfile, startBootherd } from '../../test/e2e/lib/bootherd.ts';
import type { BootherdServer } from '../../test/e2e/lib/bootherd.ts';
import { startBusyboxHttpd, startDnsmasq, startRadvd } from '../../test/e2e/lib/servers.ts';
import type { Proc } from '../../test/e2e/lib/servers.ts';
import { boot, token } from '../../test/e2e/lib/run.ts';
import { keepArtifacts } from '../../test/e2e/lib/lab.ts';
import { CHAINS, DNSMASQ_COMMON, PATHS } from '../../test/e2e/lib/paths.ts';
import { dhcpMessages, udpDatagrams } from '../../test/e2e/lib/pcap.ts';
import type { BootPath, PathContext } from '../../test/e2e/lib/paths.ts';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '1' }, paths: { type: 'string' }, out: { type: 'string' } } });
const repeat = Math.max(1, Math.min(10, Number(values.repeat)));
const wanted = values.paths?.split(',');
// Paths needing the same loader chains run together: bootherd restarts once per repetition.
const paths = PATHS.filter((p) => wanted === undefined || wanted.includes(p.id)).sort((a, b) => (a.chains === b.chains ? 0 : a.chains === 'classic' ? -1 : 1));
/** One token per path for the whole run: bootherd's profiles and dnsmasq's files carry it. */
const tokens = new Map(paths.map((p) => [p.id, token()]));
const out = values.out ?? fileURLToPath(new URL('../../docs/boot-times.md', import.meta.url));
const HTTP_PORT = 8080;

if (!canUseNetns()) {
  console.error('bench/boot: needs root (network namespaces and taps)');
  process.exit(2);
}

type Kind = 'bootherd' | 'dnsmasq';
interface Side {
  kind: Kind;
  lab: BootLab;
  ctx: PathContext;
  /** Gets the server ready for a path (bootherd: its loader chains). Not timed. */
  ready: (p: BootPath) => Promise<void>;
  stop: () => Promise<void>;
  logDirs: string[];
  note: string;
}

const payload = buildPayload();

async function side(kind: Kind, subnet: number): Promise<Side> {
  const lab = new BootLab({ subnet });
  const bootRoot = join(lab.dir, 'boot');
  populateBootRoot(bootRoot, payload, kind === 'dnsmasq'); // bootherd serves Debian's loaders itself
  const ctx: PathContext = { bootRoot, serverIp: lab.serverIp, httpBase: `http://${lab.serverIp}:${HTTP_PORT}` };
  const logDir = join(lab.dir, kind);
  mkdirSync(logDir);
  const procs: Proc[] = [await startRadvd(lab, lab.dir)];
  if (kind === 'dnsmasq') {
    procs.push(await startBusyboxHttpd(lab, bootRoot, lab.serverIp, HTTP_PORT, logDir));
    procs.push(
      await startDnsmasq(lab, {
        tftpRoot: bootRoot,
        range: { start: `${lab.prefix}.100`, end: `${lab.prefix}.199` },
        logDir,
        options: [...DNSMASQ_COMMON, ...paths.flatMap((p) => p.dnsmasq(ctx))],
      }),
    );
    return {
      kind,
      lab,
      ctx,
      logDirs: [logDir],
      note: 'dnsmasq 2.90 (DHCP + TFTP) + busybox httpd (HTTP), configs written by the bench',
      ready: async (p) => p.prepare(ctx, tokens.get(p.id)!),
      stop: async () => {
        for (const x of procs.reverse()) await x.stop();
      },
    };
  }
  let chains: BootPath['chains'] = paths[0]?.chains ?? 'ipxe';
  const server: BootherdServer = await startBootherd(lab, {
    bootRoot,
    dir: logDir,
    httpPort: HTTP_PORT,
    interfaces: [{ name: lab.bridge, mode: 'full' }],
    dhcp: { subnets: [{ subnet: `${lab.prefix}.0/24`, pools: [{ start: `${lab.prefix}.100`, end: `${lab.prefix}.199` }] }] },
    boot: { ...CHAINS[chains] },
    fleet: fleetFile(
      Object.fromEntries(paths.map((p) => [p.id, payloadProfile(cmdline(tokens.get(p.id)!), p.profile ?? {})])),
      paths.map((p) => ({ mac: p.mac, hostname: p.id, profile: p.id })),
    ),
  });
  return {
    kind,
    lab,
    ctx,
    logDirs: [logDir],
    note: 'bootherd serve (DHCP, TFTP, HTTP; inventory from a fleet file, configs generated per host)',
    ready: async (p) => {
      if (p.chains === chains) return;
      chains = p.chains;
      await server.restart({ ...CHAINS[chains] });
    },
    stop: async () => {
      await server.stop();
      for (const x of procs) await x.stop();
    },
  };
}

const sides: Side[] = [];
const times = new Map<string, Record<Kind, number[]>>();
/** From the captures: seconds from the client's first DHCPDISCOVER to the server's first OFFER. */
const offers = new Map<string, Record<Kind, number[]>>();
/** From the captures: the largest TFTP transfer of the boot (file, seconds from RRQ to its last packet). */
const transfers = new Map<string, Record<Kind, { file: string; seconds: number; bytes: number }[]>>();
function cell<T>(m: Map<string, Record<Kind, T[]>>, id: string): Record<Kind, T[]> {
  const e = m.get(id) ?? { bootherd: [], dnsmasq: [] };
  m.set(id, e);
  return e;
}
const failures: string[] = [];
const started = new Date();
try {
  sides.push(await side('dnsmasq', 43), await side('bootherd', 44));
  for (let r = 0; r < repeat; r++) {
    for (const p of paths) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        await s.ready(p);
        const t = tokens.get(p.id)!;
        const run = await boot(s.lab, { name: `bench-${s.kind}-${p.id}-${r}`, firmware: p.firmware, mac: p.mac, timeoutMs: 180_000 });
        const booted = run.end === 'marker' && (run.cmdline ?? '').includes(`bh_token=${t}`);
        const fetched = p.mustFetch === undefined || run.tftp().some((x) => x.file.replace(/^\//, '') === p.mustFetch && x.dataBlocks > 0);
        const entry = times.get(p.id) ?? { bootherd: [], dnsmasq: [] };
        times.set(p.id, entry);
        if (booted && fetched) {
          entry[s.kind].push(run.seconds);
          const dhcp = dhcpMessages(udpDatagrams(readFileSync(run.pcap))).filter((m) => m.mac === p.mac);
          const discover = dhcp.find((m) => m.op === 1 && m.type === 1)?.time;
          const offer = dhcp.find((m) => m.op === 2 && m.type === 2 && m.src === s.lab.serverIp)?.time;
          if (discover !== undefined && offer !== undefined) cell(offers, p.id)[s.kind].push(offer - discover);
          const big = run.tftp().filter((x) => x.dataBlocks > 0).sort((a, b) => b.dataBlocks * Number(b.acknowledged?.['blksize'] ?? 512) - a.dataBlocks * Number(a.acknowledged?.['blksize'] ?? 512))[0];
          if (big !== undefined) cell(transfers, p.id)[s.kind].push({ file: big.file.replace(/^\//, ''), seconds: big.end - big.start, bytes: big.dataBlocks * Number(big.acknowledged?.['blksize'] ?? 512) });
        }
        else if (booted) failures.push(`${p.id} with ${s.kind} (run ${r + 1}): booted in ${run.seconds.toFixed(1)} s but not by this path (${p.mustFetch} never fetched over TFTP)`);
        else failures.push(`${p.id} with ${s.kind} (run ${r + 1}): ${run.end}; kept in ${keepArtifacts(run.runDir, run.name)}`);
        console.error(`${p.id.padEnd(16)} ${s.kind.padEnd(9)} ${booted ? run.seconds.toFixed(1) + ' s' : 'FAILED (' + run.end + ')'}${booted && !fetched ? ' (other path)' : ''}`);
      }
    }
  }
} finally {
  for (const s of sides) {
    await s.stop().catch(() => undefined);
    s.lab.destroy();
  }
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}
const fmt = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(1));

function row(p: BootPath): string {
  const e = times.get(p.id) ?? { bootherd: [], dnsmasq: [] };
  const b = median(e.bootherd);
  const d = median(e.dnsmasq);
  const ratio = b !== undefined && d !== undefined ? (b / d).toFixed(2) : '—';
  return `| ${p.title} | ${fmt(d)} | ${fmt(b)} | ${ratio} | ${e.dnsmasq.map((x) => x.toFixed(1)).join(', ') || '—'} | ${e.bootherd.map((x) => x.toFixed(1)).join(', ') || '—'} |`;
}

function serverRow(p: BootPath): string {
  const o = offers.get(p.id) ?? { bootherd: [], dnsmasq: [] };
  const t = transfers.get(p.id) ?? { bootherd: [], dnsmasq: [] };
  const file = t.bootherd[0]?.file ?? t.dnsmasq[0]?.file;
  const tf = (k: Kind): string => {
    const xs = t[k].map((x) => x.seconds);
    const m = median(xs);
    if (m === undefined) return '—';
    const mib = (t[k][0]?.bytes ?? 0) / 1048576;
    return `${m.toFixed(2)} (${(mib / m).toFixed(1)} MiB/s)`;
  };
  const od = median(o.dnsmasq);
  const ob = median(o.bootherd);
  return `| ${p.title} | ${od === undefined ? '—' : od.toFixed(2)} | ${ob === undefined ? '—' : ob.toFixed(2)} | ${file ?? '— (HTTP only)'} | ${tf('dnsmasq')} | ${tf('bootherd')} |`;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
const doc = `# Boot times per path

Measured by \`bench/boot/run.ts\` (run as root: \`node_modules/.bin/node bench/boot/run.ts --repeat ${repeat}\`), not estimated.
Each figure is the time from QEMU start to the payload's marker line (the initramfs printed the
kernel command line with the run's token), in software emulation (TCG), one guest at a time,
bootherd and dnsmasq alternating path by path in the same run. Ratio = bootherd / dnsmasq (below 1:
bootherd is faster). Medians of ${repeat} boot(s) per cell; the single runs follow.

| path | dnsmasq s | bootherd s | ratio | dnsmasq runs | bootherd runs |
|---|---|---|---|---|---|
${paths.map(row).join('\n')}

The server's own share, read from the pcap of the same boots (medians): how long the server took to
offer an address to the firmware's first DHCPDISCOVER, and the largest TFTP transfer of the boot
(RRQ to its last packet). The kernel comes from pxelinux or GRUB, which ask no TFTP windowsize, so
both servers send it lock-step; EDK2 asks windowsize 4 for the loaders, which bootherd honours and
dnsmasq ignores (the loaders are small: snponly.efi is the row that shows it).

| path | first OFFER, dnsmasq s | first OFFER, bootherd s | largest TFTP file | dnsmasq s | bootherd s |
|---|---|---|---|---|---|
${paths.map(serverRow).join('\n')}

- Run: ${started.toISOString()}, ${cpus().length} × ${cpu}, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (the machine is shared: other work ran at the same time).
- ${qemu}; payload ${payload.kernelPackage} ${payload.kernelVersion}, busybox-static ${payload.busyboxVersion}.
- Reference server: ${sides.find((s) => s.kind === 'dnsmasq')?.note ?? 'dnsmasq'}, default settings.
- bootherd: ${sides.find((s) => s.kind === 'bootherd')?.note ?? 'bootherd'}.
- Both labs send IPv6 router advertisements with router lifetime 0 (radvd), so iPXE does not wait ~13 s for a router at each DHCP stage; without them the BIOS iPXE → HTTP path took 39 s instead of 19 s here.
- dnsmasq boots from pxelinux/GRUB/iPXE files the bench writes; bootherd generates them per host from its inventory (a profile per path whose command line holds the run's token). bootherd is restarted between the pxelinux/GRUB paths and the iPXE paths (its loader chain settings); restarts are not timed.
${failures.length === 0 ? '' : `\nFailed boots (not in the medians):\n${failures.map((f) => `- ${f}`).join('\n')}\n`}`;
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, doc);
console.error(`bench/boot: wrote ${out}`);
process.exitCode = failures.length === 0 ? 0 : 1;
