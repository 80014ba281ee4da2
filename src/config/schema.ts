// The one schema of bootherd's YAML configuration. Every key carries a description, its default
// and an example: docs/configuration.md is generated from these (scripts/config-docs.ts), and a
// unit test fails when the two disagree.
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import { DhcpConfigSchema } from './dhcp.ts';
import { BootConfigSchema } from './boot.ts';

const LOG_LEVEL = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { description: 'Lowest level that is logged.', default: 'info', examples: ['debug'] },
);

export const LogSchema = Type.Object(
  {
    level: LOG_LEVEL,
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
      description: 'Log line format: JSON lines, a readable coloured form, or `auto` (pretty on a terminal, JSON otherwise).',
      default: 'auto',
      examples: ['json'],
    }),
    event_burst: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description:
        'Boot events of one kind that one client may cause in each `event_window` (fetches of the same script or file, file misses), each logged and stored on its own; a boot needs a handful. Past that they are counted into one summary event per client and window (`script-repeats`, `file-repeats`, `file-misses`, with the count), so a client in a boot loop, a scanner or a flood cannot fill the log and the disk. 0: no limit, every event on its own.',
      default: 20,
      examples: [0],
    }),
    event_window: Type.Integer({ minimum: 1, maximum: 3600, description: 'Seconds per window for `event_burst`.', default: 10, examples: [60] }),
  },
  { additionalProperties: false, default: {}, description: 'Logging.' },
);

export const DatabaseSchema = Type.Object(
  {
    url: Type.Optional(Type.String({
      minLength: 1,
      description:
        'Where the inventory and leases live. `sqlite:PATH` (the default, a file in the state directory) or `postgres://USER:PASSWORD@HOST/DB` so that several bootherd servers share one inventory and lease space. Unix sockets: `postgres:///DB?host=/run/postgresql`.',
      default: 'sqlite:STATE_DIR/bootherd.db',
      'x-computed': true,
      examples: ['postgres://bootherd:secret@db.example.net/bootherd'],
    })),
  },
  { additionalProperties: false, default: {}, description: 'Storage.' },
);

export const InterfaceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 15, description: 'Network interface to serve DHCP on.', examples: ['eth0'] }),
    mode: Type.Optional(
      Type.Union([Type.Literal('proxy'), Type.Literal('full')], {
        description:
          '`proxy`: answer only PXE clients beside the LAN\'s existing DHCP server, never hand out addresses. `full`: be the DHCP server for the subnets on this interface.',
        default: 'dhcp.mode (proxy)',
        'x-computed': true,
        examples: ['full'],
      }),
    ),
  },
  { additionalProperties: false },
);

export const TftpSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Serve TFTP.', default: true, examples: [false] }),
    address: Type.String({ description: 'Address to listen on.', default: '0.0.0.0', examples: ['198.18.0.1'] }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'UDP port to listen on.', default: 69, examples: [6969] }),
    max_sessions: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Concurrent transfers in all; requests beyond it get TFTP ERROR "try again later". Each transfer holds one socket (file descriptor).', default: 4000, examples: [1000] }),
    max_sessions_per_client: Type.Integer({ minimum: 1, maximum: 10_000, description: 'Concurrent transfers per client IP address, so one client (or a flood of never-ACKing requests) cannot take every slot.', default: 32, examples: [8] }),
    idle_timeout: Type.Integer({ minimum: 1, maximum: 3600, description: 'Seconds a transfer may go without a valid packet from its client before it is freed.', default: 30, examples: [10] }),
    gso: Type.Boolean({
      description:
        'Send a windowed transfer\'s window (RFC 7440 windowsize) with one UDP segmentation-offload (GSO) send instead of one send per block. A transfer whose sends the kernel refuses falls back to one send per block by itself; `false` turns GSO off everywhere (for a network driver that mishandles it).',
      default: true,
      examples: [false],
    }),
    blocking_wait: Type.Boolean({
      description:
        'While only one transfer is active, wait for its ACKs in a blocking receive (fastest for a lone client in lock-step). A client that goes quiet can then hold bootherd\'s main thread for up to ~8 ms once (the kernel timer granularity) before it stops waiting; `false` keeps the shorter polled wait, for lower DHCP latency when DHCP runs in the same process.',
      default: true,
      examples: [false],
    }),
    native_loop: Type.Boolean({
      description:
        'Run the ordinary rounds of lock-step transfers (an ACK in, the next DATA out), of a lone transfer and of many at once, in the compiled loop that `npm ci` builds from native/tftp-fast.c when a C compiler is present; every other packet and every decision stays in bootherd\'s JavaScript. Where the loop was not built, bootherd logs BH_TFTP_NATIVE once at start and uses its JavaScript path; `false` uses that path always.',
      default: true,
      examples: [false],
    }),
    io_uring: Type.Boolean({
      description:
        'With the compiled loop: when ACKs from several lock-step transfers arrive together, send all their next blocks with one io_uring_enter instead of one sendmsg each. The clients those blocks wake then run after the batch instead of interrupting it (with 50 clients, ~15 times fewer context switches and ~30 % less CPU for the server). Used only where the kernel allows an io_uring (Linux 5.11 or later, kernel.io_uring_disabled 0, no seccomp filter against it); the ready line says which (`batchSend`). `false`: one sendmsg each.',
      default: true,
      examples: [false],
    }),
  },
  { additionalProperties: false, default: {}, description: 'TFTP server.' },
);

export const HttpSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Serve boot files and scripts over HTTP.', default: true, examples: [false] }),
    address: Type.String({ description: 'Address to listen on.', default: '0.0.0.0', examples: ['198.18.0.1'] }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port to listen on.', default: 8080, examples: [80] }),
    tls_cert: Type.Optional(Type.String({
      minLength: 1,
      description:
        'PEM certificate (server certificate first, then intermediates) for HTTPS. With `tls_key` set too, bootherd also serves HTTPS on `https_port` (TLS 1.2 and 1.3 only). Read before the privilege drop, so it may be readable by root only. `bootherd tls init` makes a lab CA and certificate.',
      default: '(none: no HTTPS)',
      'x-computed': true,
      examples: ['/etc/bootherd/tls/server.crt'],
    })),
    tls_key: Type.Optional(Type.String({
      minLength: 1,
      description: 'PEM private key of `tls_cert`. Keep it mode 0600.',
      default: '(none: no HTTPS)',
      'x-computed': true,
      examples: ['/etc/bootherd/tls/server.key'],
    })),
    https_port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port for HTTPS, used when `tls_cert` and `tls_key` are set.', default: 8443, examples: [443] }),
    max_connections_per_ip: Type.Integer({
      minimum: 1,
      maximum: 100000,
      description: 'Simultaneous HTTP(S) connections one client address may hold; more are closed at once. Raise it when many clients reach bootherd through one NAT or proxy.',
      default: 128,
      examples: [512],
    }),
    cache_size: Type.Integer({
      minimum: 0,
      maximum: 1_048_576,
      description: 'MiB of memory for boot files HTTP keeps in memory (kernels, initrds, scripts), least recently used out first. 0: every request reads from disk.',
      default: 512,
      examples: [2048],
    }),
    cache_max_file: Type.Integer({
      minimum: 0,
      maximum: 1_048_576,
      description: 'MiB: larger files are never kept in memory and are streamed from disk.',
      default: 256,
      examples: [64],
    }),
  },
  { additionalProperties: false, default: {}, description: 'HTTP boot-file server.' },
);

/**
 * The `dhcp` section as the DHCP server defines it, less its interface list (the top-level
 * `interfaces` is the one list, shared with `--interface` and BOOTHERD_INTERFACES), and with
 * `unknown_clients` left unset by default so that it follows `boot.unknown_hosts`.
 */
const dhcpOwn = Type.Omit(DhcpConfigSchema, ['interfaces', 'unknown_clients']);
export const DhcpSectionSchema = Type.Object(
  {
    ...dhcpOwn.properties,
    unknown_clients: Type.Optional(
      Type.Union([Type.Literal('answer'), Type.Literal('ignore'), Type.Literal('register')], {
        description: 'Default policy for clients without a reservation or inventory entry (a subnet may override it): `answer`, `ignore` (logged and counted) or `register` (registration boot only).',
        default: 'follows boot.unknown_hosts (ignore → ignore, register → register, otherwise answer)',
        'x-computed': true,
        examples: ['register'],
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: DhcpConfigSchema.description },
);

/** Sections contributed by the servers are added here as they exist. */
export const ConfigSchema = Type.Object(
  {
    state_dir: Type.Optional(Type.String({
      minLength: 1,
      description: 'Directory for the database and other state. Created if missing, owned by `user`.',
      default: '/var/lib/bootherd (as root), else $XDG_STATE_HOME/bootherd',
      'x-computed': true,
      examples: ['/srv/bootherd/state'],
    })),
    boot_root: Type.Optional(Type.String({
      minLength: 1,
      description: 'Directory served over TFTP and HTTP (boot loaders, kernels, images). Nothing outside it is ever served.',
      default: 'STATE_DIR/boot',
      'x-computed': true,
      examples: ['/srv/tftp'],
    })),
    user: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'When started as root: bind the privileged ports, then drop to this user (its groups, gid and uid) and verify that root cannot be regained. Unset, bootherd started as root drops to `bootherd` if that user exists, else to `nobody`. `root` keeps root (not recommended). Started as an unprivileged user (systemd with CAP_NET_BIND_SERVICE), there is nothing to drop.',
        default: 'bootherd, else nobody',
        'x-computed': true,
        examples: ['bootherd'],
      }),
    ),
    shutdown_grace: Type.Number({
      minimum: 0,
      maximum: 600,
      description: 'Seconds that in-flight transfers and requests get to finish on SIGTERM/SIGINT before they are cut.',
      default: 10,
      examples: [30],
    }),
    log: LogSchema,
    database: DatabaseSchema,
    interfaces: Type.Array(InterfaceSchema, {
      description: 'Interfaces that DHCP (proxy or full) answers on. Empty: no DHCP at all, only TFTP and HTTP.',
      default: [],
      examples: [[{ name: 'eth0', mode: 'proxy' }]],
    }),
    tftp: TftpSchema,
    http: HttpSchema,
    dhcp: DhcpSectionSchema,
    boot: BootConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export type AnySchema = TSchema;
