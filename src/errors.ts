// The one list of bootherd's error codes (BH_<AREA>_<WHAT>). Every code that src/ raises, logs or
// prints is a key here, with what happened and what to do (the cells of its row in
// docs/troubleshooting.md, in the same words and Markdown) and how it reaches the user (the row's
// result): the exit status of the command it stops, or what a client is answered.
// test/unit/docs/error-codes.test.ts fails when src/ uses a code this list lacks, when a listed
// code is used nowhere, or when the doc disagrees with the list. This file imports nothing, so
// every layer may import it.

/**
 * How an error reaches the user. `exit 1` / `exit 2`: the command stops and prints
 * `bootherd: MESSAGE [CODE]` and `hint: …` (2 is bad usage or configuration). The others are
 * raised while serving: what the client gets (`dropped`: nothing, the packet was not even
 * decided on; `no reply`: a valid request left unanswered; `error script`: an iPXE script that
 * prints the error; `transfer stops`: no more DATA; `thrown`: an exception to a program embedding
 * the server), or `log only` when the client does not notice. Those raised while serving are all logged.
 */
export type Answer =
  | 'exit 1'
  | 'exit 2'
  | 'dropped'
  | 'no reply'
  | 'error script'
  | `TFTP ERROR ${0 | 1 | 2}`
  | 'transfer stops'
  | `HTTP ${400 | 404 | '4xx' | 500}`
  | 'connection closed'
  | 'thrown'
  | 'log only';

export interface ErrorInfo {
  /** What happened, in operator words. */
  readonly message: string;
  /** What to do about it. */
  readonly hint: string;
  readonly answer: readonly Answer[];
}

export const ERRORS = {
  // Configuration and command line
  BH_CONFIG_INVALID: {
    message: 'the config file, a `BOOTHERD_*` variable, or a fleet file (`bootherd apply -f`) is wrong; every problem is printed as `FILE:LINE: KEY: PROBLEM (fix: …)`',
    hint: 'apply each `fix:`; `bootherd config check FILE` lists all problems of a config file at once',
    answer: ['exit 2'],
  },
  BH_CONFIG_HOSTS_DEPRECATED: {
    message: "the config file has `dhcp.subnets[].reservations` or `dhcp.boot.groups`, which are deprecated; `serve` loaded them into the inventory and works as before",
    hint: "`bootherd config migrate FILE > fleet.yaml && bootherd apply -f fleet.yaml`, then delete those keys from FILE",
    answer: ['log only'],
  },
  BH_CONFIG_HOSTS_DIFFER: {
    message: "a config reservation or group says something else than the inventory's record of that MAC or name (the inventory's value is used), or could not be loaded (e.g. its address is another host's)",
    hint: "make the config and the inventory agree, best by moving the keys out of the config (`bootherd config migrate`)",
    answer: ['log only'],
  },
  BH_USAGE: {
    message: 'a bad command-line argument: unknown log level, `--initrd`/`--cmdline` without `--kernel`, quick mode without `--interface`, a `--label` that is not `KEY=VALUE`, an unreadable or malformed `profiles --from` file, `--days` outside 1–3650, a name together with `--none`',
    hint: 'follow the hint; `bootherd COMMAND --help` shows the options',
    answer: ['exit 2'],
  },
  BH_INTERNAL: {
    message: 'an error without a code of its own reached the command line: a bug in bootherd',
    hint: 'report it with the stack trace printed under `hint:`',
    answer: ['exit 1'],
  },
  // Privileges and process
  BH_USER_UNKNOWN: {
    message: '`user:` names a user that does not exist',
    hint: 'create it (`useradd --system --no-create-home bootherd`) or change `user:`',
    answer: ['exit 1'],
  },
  BH_USER_NO_DEFAULT: {
    message: 'no `user:` is set, bootherd was started as root, and neither user `bootherd` nor `nobody` exists to drop to',
    hint: 'create a system user (`useradd --system bootherd`) or set `user:`',
    answer: ['exit 1'],
  },
  BH_USER_IS_ROOT: {
    message: '`user:` names a user whose uid is 0',
    hint: 'name an unprivileged user, for example `bootherd` or `nobody` (write `user: root` only to keep root on purpose)',
    answer: ['exit 1'],
  },
  BH_NOT_ROOT: {
    message: '`user:` names another user, but bootherd was not started as root, so it cannot switch',
    hint: 'start bootherd as root, or remove `user:` and start it as that user with CAP_NET_BIND_SERVICE (docs/deployment.md)',
    answer: ['exit 1'],
  },
  BH_PRIVDROP_FAILED: {
    message: "switching to `user:` failed (the message gives the system's reason)",
    hint: 'check that the user and its groups exist (`id USER`)',
    answer: ['exit 1'],
  },
  BH_PRIVDROP_INCOMPLETE: {
    message: 'after the switch, bootherd could still regain privileges (the message lists what was left); it refuses to run',
    hint: 'report it with the output of `id` and the kernel version (`uname -r`)',
    answer: ['exit 1'],
  },
  BH_STATE_DIR: {
    message: 'the state directory cannot be created, or handed to `user:` (the errno is in the message)',
    hint: 'set `state_dir` (or `BOOTHERD_STATE_DIR`) to a directory bootherd may create and write',
    answer: ['exit 1'],
  },
  // Network and sockets (DHCP interfaces)
  BH_NET_NO_INTERFACE: {
    message: 'an interface in `interfaces:` does not exist, or its name is invalid',
    hint: 'use a name from `ip -br link` (at most 15 characters); the interface must exist before bootherd starts',
    answer: ['exit 1'],
  },
  BH_NET_NO_ADDRESS: {
    message: 'an interface in `interfaces:` has no IPv4 address (bootherd answers from it)',
    hint: '`ip addr add ADDR/PREFIX dev IFACE` before starting bootherd',
    answer: ['exit 1'],
  },
  BH_NET_PERMISSION: {
    message: 'not allowed to open or bind the DHCP socket on that interface (EPERM/EACCES)',
    hint: 'run as root (with `user:` to drop afterwards) or grant CAP_NET_BIND_SERVICE and CAP_NET_RAW',
    answer: ['exit 1'],
  },
  BH_NET_IN_USE: {
    message: 'UDP 67 (or 4011) on that interface is already held: dnsmasq, Kea, isc-dhcp-server or a second bootherd',
    hint: "stop the other server on this interface (`ss -ulpn 'sport = :67'` shows it), or run bootherd in `proxy` mode on an interface where nothing else holds the ports",
    answer: ['exit 1'],
  },
  BH_NET_SOCKET: {
    message: 'any other socket failure (the errno is in the message); also an interface listed twice in `interfaces:`, or a port outside 1–65535',
    hint: 'for an errno: check the interface and the system limits (`ulimit -n`); a duplicate: list each interface once, with its mode; "could not adopt the socket": report it with your Node version',
    answer: ['exit 1'],
  },
  // DHCP and ProxyDHCP
  BH_DHCP_CONFIG_SUBNET: {
    message: '`dhcp.subnets[].subnet` is not a CIDR network, or two subnets overlap',
    hint: 'write it as `198.18.0.0/24`; give each address to one subnet only',
    answer: ['exit 2'],
  },
  BH_DHCP_CONFIG_POOL: {
    message: "a pool's start is above its end, or the pool lies outside its subnet",
    hint: 'fix `start`/`end`; move the pool into the subnet',
    answer: ['exit 2'],
  },
  BH_DHCP_CONFIG_RESERVATION: {
    message: "a reservation's MAC is invalid, its IP is not a host address of the subnet, a MAC is reserved twice, or one IP is reserved for two MACs",
    hint: 'correct the MAC (`52:54:00:12:34:56`), pick a host address inside the subnet, keep one entry per MAC and one MAC per address',
    answer: ['exit 2'],
  },
  BH_DHCP_CONFIG_GROUP: {
    message: 'a reservation names a group that is not under `dhcp.boot.groups`',
    hint: 'define the group there, or fix the name',
    answer: ['exit 2'],
  },
  BH_DHCP_CONFIG_ARCH: {
    message: 'a `bootfiles` map uses an unknown architecture key',
    hint: 'use one of the keys the message lists (`bios`, `uefi-x64`, …)',
    answer: ['exit 2'],
  },
  BH_DHCP_CONFIG_OPTION: {
    message: "an extra option's value does not fit its type, or the option is one the server sets itself",
    hint: 'fix the value (the message says what the type needs), or remove the option',
    answer: ['exit 2'],
  },
  BH_DHCP_DROPPED: {
    message: "a packet was dropped before any decision; `reason` says why: `not_a_request`, `too_many_hops`, `bad_message_type`, `duplicate_message_type`, `unexpected_message_type`, `no_chaddr`, `bad_giaddr`, `relay_not_allowed`, `rate_limited`, `forbidden_destination`, `bad_source`, `source_outside_subnets`, `no_requested_address`, `not_pxe_client`, or an undecodable packet (`truncated`, `no_cookie`, `bad_cookie`, `bad_hlen`, `bad_option`, with the decoder's code in `error`)",
    hint: 'nothing for stray or hostile packets; `relay_not_allowed`: add the relay (giaddr) to `dhcp.access.relays`; `rate_limited`: a client sent more than `dhcp.max_requests_per_client` per second (a looping client, or raise the limit)',
    answer: ['dropped'],
  },
  BH_DHCP_TRUNCATED: {
    message: '(in `error` of a `BH_DHCP_DROPPED` line) the packet is shorter than the 236-octet BOOTP header',
    hint: 'nothing: it is dropped',
    answer: ['dropped'],
  },
  BH_DHCP_NO_COOKIE: {
    message: '(in `error`) a BOOTP packet without the DHCP magic cookie; BOOTP is not supported',
    hint: 'nothing, unless a client really needs plain BOOTP (not supported)',
    answer: ['dropped'],
  },
  BH_DHCP_BAD_COOKIE: {
    message: '(in `error`) the magic cookie is not 99.130.83.99',
    hint: 'nothing: it is dropped',
    answer: ['dropped'],
  },
  BH_DHCP_BAD_HLEN: {
    message: '(in `error`) the hardware address length is over 16, or set with hardware type 0',
    hint: 'nothing: it is dropped',
    answer: ['dropped'],
  },
  BH_DHCP_BAD_OPTION: {
    message: '(in `error`) an option runs past the end of the packet',
    hint: 'nothing: it is dropped',
    answer: ['dropped'],
  },
  BH_DHCP_IGNORED: {
    message: 'a valid request was not answered; `reason`: `unknown_client` (policy `ignore`), `denied_mac`, `denied_oui`, `not_allowed` (not on the allow list), `host_disabled` (its host record is disabled), `no_subnet` (no subnet for the interface or relay), `no_boot_file`, `other_server`, `decline_not_owner`, `release_not_owner`',
    hint: '`unknown_client`: add the host (`bootherd hosts add --mac …`) or change `dhcp.unknown_clients`; `denied_mac`/`denied_oui`/`not_allowed`: `dhcp.access.deny_macs`, `deny_ouis`, `allow_macs`, `allow_ouis`; `host_disabled`: `bootherd hosts set HOST --state active`; `no_subnet`: add a `dhcp.subnets` entry for that interface (or relay)',
    answer: ['no reply'],
  },
  BH_DHCP_POOL_EXHAUSTED: {
    message: "no free address in the subnet's pools",
    hint: 'enlarge the pools, shorten `lease_time` or `dhcp.offer_hold`, or find who is flooding',
    answer: ['no reply'],
  },
  BH_DHCP_RESERVATION_CONFLICT: {
    message: "a client's reserved address is held by another client's lease",
    hint: 'release that lease, or change the reservation',
    answer: ['no reply'],
  },
  BH_DHCP_RESERVATION_OUTSIDE: {
    message: "a host's reserved address (`ip` in the inventory) lies in no configured subnet, is a subnet's network or broadcast address, or is reserved twice in one subnet: it is not reserved",
    hint: "`bootherd hosts set HOST --ip ADDRESS` with an address inside a `dhcp.subnets` entry, or add the subnet",
    answer: ['log only'],
  },
  BH_DHCP_HOST_OPTION: {
    message: "a DHCP option of a host or group in the inventory cannot be encoded (a value of the wrong type, a server-owned code); it is not sent, the rest of the answer is",
    hint: "fix the option with `bootherd apply -f` (the fleet file's `dhcp:`), `bootherd hosts show` / `groups show` list them",
    answer: ['log only'],
  },
  BH_DHCP_LEASE_WRITE: {
    message: 'a lease (or a declined or released one) could not be written; for a REQUEST no ACK was sent, so the client retries',
    hint: 'check the lease store: disk full, database down (see the `BH_STORE_*` lines next to it)',
    answer: ['no reply'],
  },
  BH_DHCP_SLOW_ACK: {
    message: 'a lease took `ms` milliseconds (1 s or more) to become durable, so its ACK went out that late (counted in `acked.slow`). Clients retry a REQUEST after a few seconds and give up after a few tries, so a slow store makes boots slow or fail',
    hint: "the disk or database is slow: look for other heavy writers on the state directory's disk (`iostat -x 1`), move `state_dir` to a faster disk, or check the PostgreSQL server's load and latency",
    answer: ['log only'],
  },
  BH_DHCP_LEASE_SKIPPED: {
    message: 'at start, lease rows the server cannot use were skipped (`skipped` counts them)',
    hint: 'check the lease store for corrupt rows',
    answer: ['log only'],
  },
  BH_DHCP_RECLAIM: {
    message: 'reclaiming expired leases failed',
    hint: 'the lease store may be unavailable: check the database',
    answer: ['log only'],
  },
  BH_DHCP_LOOKUP: {
    message: 'looking the client up in the inventory failed; it was answered as unknown',
    hint: 'check the store (see `BH_BOOT_HOST_RECORD`, `BH_STORE_*`)',
    answer: ['log only'],
  },
  BH_DHCP_INTERNAL: {
    message: 'handling a request failed inside the server',
    hint: 'a bug: report it with the log line (and, if you can, a capture of the packet)',
    answer: ['no reply'],
  },
  // TFTP
  BH_TFTP_BIND: {
    message: 'UDP `tftp.port` cannot be bound (the errno is in the message)',
    hint: "`EACCES`: start as root (with `user:` set) or grant CAP_NET_BIND_SERVICE; `EADDRINUSE`: another TFTP server holds it (`ss -ulpn 'sport = :69'`): stop it or change `tftp.port`; `EADDRNOTAVAIL`: `tftp.address` is not an address of this machine",
    answer: ['exit 1'],
  },
  BH_TFTP_SOCKET: {
    message: "an error on the listening socket or on one transfer's socket; that transfer fails (`transfer-fail`, `reason: socket-error`)",
    hint: 'if it repeats: check the interface and the system limits (`ulimit -n`)',
    answer: ['transfer stops'],
  },
  BH_TFTP_START: {
    message: 'a transfer could not start (out of file descriptors or sockets?)',
    hint: 'raise the open-file limit (`LimitNOFILE=` in the unit, `ulimit -n`) or lower `tftp.max_sessions`',
    answer: ['TFTP ERROR 0'],
  },
  BH_TFTP_READ: {
    message: 'reading a file failed in the middle of a transfer',
    hint: 'check the disk and the file under the boot root',
    answer: ['transfer stops'],
  },
  BH_TFTP_GSO: {
    message: 'the kernel refused to send a window as one UDP segmentation-offload (GSO) send (`errno` EIO or EINVAL); that transfer goes on one datagram per send, nothing is lost (rate-limited warning)',
    hint: "nothing, unless it happens on every windowed transfer: then check the interface's checksum offload and MTU (`ethtool -k IFACE`), or set `tftp.gso: false`",
    answer: ['log only'],
  },
  BH_TFTP_NATIVE: {
    message: 'at start (info): the compiled TFTP lock-step loop (`build/tftp-fast.node`, built by `npm ci` from `native/tftp-fast.c`) is missing or does not load (`reason` says which: no C compiler at install time, `npm ci --ignore-scripts`, a module from another version). TFTP works the same; lock-step transfers run their rounds through JavaScript, a few percent slower',
    hint: 'install a C compiler and libc headers (Debian: `apt-get install gcc libc6-dev`), then `npm run build:native` and restart; or set `tftp.native_loop: false` to choose the JavaScript path on purpose (the line is then not logged)',
    answer: ['log only'],
  },
  BH_TFTP_IO_URING: {
    message: "at start (info): the compiled TFTP loop cannot get an io_uring on this machine (Linux before 5.11, `sysctl kernel.io_uring_disabled` 1 or 2, or a seccomp filter, such as a systemd `SystemCallFilter=` without `@aio`, that refuses `io_uring_setup`). When ACKs from several transfers arrive together, their next blocks then go out by one `sendmsg` each: transfers are correct, but with many concurrent clients the server is preempted after each send and uses ~30 % more CPU. The ready line's `services.tftp.batchSend` says `sendmsg`",
    hint: "allow io_uring for the service (`kernel.io_uring_disabled=0`, or add bootherd's user to `kernel.io_uring_group` where it is 1; keep `@aio` in `SystemCallFilter=`, as the unit in deployment.md does), then restart; or set `tftp.io_uring: false` to choose one `sendmsg` per block on purpose (the line is then not logged)",
    answer: ['log only'],
  },
  BH_TFTP_RESOLVER: {
    message: 'the file resolver failed in an unexpected way; the client got ERROR 2',
    hint: 'a bug: report it with the log line',
    answer: ['TFTP ERROR 2'],
  },
  BH_TFTP_INTERNAL: {
    message: 'handling a request failed inside the server; the server keeps running',
    hint: 'a bug: report it with the log line',
    answer: ['log only'],
  },
  BH_TFTP_NOT_STARTED: {
    message: 'a program embedding the TFTP server asked for its port before starting it',
    hint: 'a bug in that program (not seen with `bootherd serve`)',
    answer: ['thrown'],
  },
  // Files (boot root, shared by TFTP and HTTP)
  BH_FILES_NOT_FOUND: {
    message: 'the requested file does not exist under the boot root',
    hint: "normal for probes (pxelinux, GRUB and shim try several names); otherwise put the file under `boot_root` or fix the profile's path",
    answer: ['TFTP ERROR 1', 'HTTP 404'],
  },
  BH_FILES_DENIED: {
    message: 'refused: a symlink leads outside the root, not a regular file, not world-readable, permission denied, or replaced while being opened',
    hint: 'place the file itself inside the root; `chmod o+r` it if it is meant to be served; check ownership and modes of the file and its directories',
    answer: ['TFTP ERROR 2', 'HTTP 404'],
  },
  BH_FILES_BAD_NAME: {
    message: 'the requested name is not acceptable (`..`, control bytes, too long); HTTP answers 400',
    hint: 'nothing for hostile requests; a real client asking for it has a wrong path in its boot file or profile',
    answer: ['TFTP ERROR 2', 'HTTP 400'],
  },
  BH_FILES_IO: {
    message: 'reading the file failed with an unexpected errno (in the message)',
    hint: 'check the disk and the file',
    answer: ['TFTP ERROR 2', 'HTTP 404'],
  },
  BH_FILES_BAD_ROOT: {
    message: 'the file root does not exist or cannot be read',
    hint: 'create `boot_root` or fix it in the config',
    answer: ['exit 1'],
  },
  BH_FILES_BAD_GENERATED_PATH: {
    message: 'bootherd tried to publish a generated file under a path no client could request',
    hint: 'a bug: report it with the log line',
    answer: ['exit 1'],
  },
  // HTTP and TLS
  BH_HTTP_BIND: {
    message: 'TCP `http.port` cannot be bound (errno in the message)',
    hint: "`EACCES`: start as root (it drops privileges after binding) or grant CAP_NET_BIND_SERVICE; `EADDRINUSE`: `ss -ltnp 'sport = :PORT'` shows who holds it: stop it or change `http.port`; `EADDRNOTAVAIL`: fix `http.address`",
    answer: ['exit 1'],
  },
  BH_HTTPS_BIND: {
    message: 'TCP `http.https_port` cannot be bound',
    hint: 'as for `BH_HTTP_BIND`, with `http.https_port`',
    answer: ['exit 1'],
  },
  BH_HTTP_TLS_CONFIG: {
    message: 'only one of `http.tls_cert` and `http.tls_key` is set',
    hint: 'set both (`bootherd tls init` makes a lab pair), or neither for plain HTTP only',
    answer: ['exit 1'],
  },
  BH_HTTP_TLS_READ: {
    message: 'the certificate or key cannot be read, or holds no PEM certificate / private key',
    hint: '`ENOENT`: check `http.tls_cert`/`http.tls_key` or run `bootherd tls init`; otherwise make it readable by the user bootherd starts as (root, before the privilege drop), and point each key at the right PEM file',
    answer: ['exit 1'],
  },
  BH_HTTP_TLS_KEY: {
    message: 'the certificate and key do not belong together (or the key is encrypted)',
    hint: '`http.tls_key` must be the unencrypted PEM private key of `http.tls_cert`',
    answer: ['exit 1'],
  },
  BH_HTTP_TLS_HANDSHAKE: {
    message: "a client's TLS handshake was refused: an old protocol (TLS 1.0/1.1) or cipher, or not TLS at all",
    hint: 'nothing for scanners; a client that should connect must speak TLS 1.2 or newer',
    answer: ['connection closed'],
  },
  BH_HTTP_BAD_REQUEST: {
    message: 'a malformed HTTP request was refused (status in `status`)',
    hint: 'nothing: it is refused',
    answer: ['HTTP 4xx'],
  },
  BH_HTTP_BAD_TARGET: {
    message: 'an absolute-form (`http://…`) or `//` request target was refused with 400',
    hint: 'nothing: bootherd is not a proxy',
    answer: ['HTTP 400'],
  },
  BH_HTTP_BAD_URL: {
    message: 'an undecodable request target was refused with 400',
    hint: 'nothing: it is refused',
    answer: ['HTTP 400'],
  },
  BH_HTTP_CONN_CAP: {
    message: 'one client address holds more than `http.max_connections_per_ip` connections; the newest was closed',
    hint: 'raise `http.max_connections_per_ip` if the clients sit behind one NAT or proxy',
    answer: ['connection closed'],
  },
  BH_HTTP_OPEN: {
    message: 'the file resolver failed in an unexpected way; the client got 404',
    hint: 'a bug: report it with the log line',
    answer: ['HTTP 404'],
  },
  BH_HTTP_INTERNAL: {
    message: 'a request failed inside bootherd; the client got 500',
    hint: 'a bug: report it with the log line',
    answer: ['HTTP 500'],
  },
  BH_HTTP_SHORT_READ: {
    message: 'a file shrank while it was being sent; the download ends short (its `file` event shows `complete: false`)',
    hint: 'do not rewrite boot files in place: write a new file and rename it over the old one',
    answer: ['connection closed'],
  },
  BH_TLS_BAD_NAME: {
    message: '`bootherd tls init --hostname` is not a valid host name',
    hint: 'use letters, digits, `-` and `.` only, e.g. `--hostname boot.lab.example`',
    answer: ['exit 2'],
  },
  BH_TLS_BAD_IP: {
    message: '`bootherd tls init --ip` is not an IP address',
    hint: 'give an IPv4 or IPv6 address, e.g. `--ip 198.18.0.1`',
    answer: ['exit 2'],
  },
  BH_TLS_NO_NAME: {
    message: '`bootherd tls init` was given neither `--hostname` nor `--ip`',
    hint: 'give the names clients use in `https://` URLs',
    answer: ['exit 2'],
  },
  BH_TLS_EXISTS: {
    message: 'the CA or server files already exist in `--dir`',
    hint: '`--force` replaces them (clients that trust the old CA must then be rebuilt), or choose another `--dir`',
    answer: ['exit 2'],
  },
  BH_TLS_DIR: {
    message: 'the `--dir` for the certificates cannot be created',
    hint: 'choose a `--dir` you may write to',
    answer: ['exit 1'],
  },
  BH_TLS_OPENSSL: {
    message: '`openssl` cannot be run, or failed (its last lines are in the message)',
    hint: '`ENOENT`: `apt-get install openssl`; otherwise check the openssl version (3.x expected) and the names given',
    answer: ['exit 1'],
  },
  // Store (database)
  BH_STORE_URL: {
    message: '`database.url` is empty or has an unknown form',
    hint: '`sqlite:/path/to/bootherd.db` (or a plain file path) or `postgres://user@host/dbname`; an SQLite URL names no host (`sqlite:///abs/path.db`); percent-encode `@`, `/` and `:` in a PostgreSQL password',
    answer: ['exit 1'],
  },
  BH_STORE_OPEN: {
    message: 'the SQLite file (or its write thread) cannot be opened, or PostgreSQL cannot be reached',
    hint: "SQLite: the state directory must exist, be writable by bootherd, and be on a local file system (WAL needs shared memory); PostgreSQL: check that the server runs, and the URL's host, port, database, user and password",
    answer: ['exit 1'],
  },
  BH_STORE_TOO_NEW: {
    message: 'the database has a schema version newer than this bootherd knows: a newer bootherd migrated it',
    hint: 'run that newer version, or point this one at another database',
    answer: ['exit 1'],
  },
  BH_STORE_MIGRATE: {
    message: 'a migration step failed and was rolled back (nothing of it was applied)',
    hint: 'fix the cause in the message (disk space, permissions, a conflicting object), then `bootherd db migrate` again',
    answer: ['exit 1'],
  },
  BH_STORE_WRITE: {
    message: 'the SQLite write thread failed or exited',
    hint: 'restart bootherd; if it happens again, report it with the log',
    answer: ['exit 1'],
  },
  BH_STORE_CONFLICT: {
    message: 'another record already has that name, MAC or UUID',
    hint: 'choose another value, or change the existing record',
    answer: ['exit 1'],
  },
  BH_STORE_NOT_FOUND: {
    message: 'no record with that id, or a reference to a group, profile or host that does not exist',
    hint: 'list the records to find the right id; create the referenced record first',
    answer: ['exit 1'],
  },
  BH_STORE_INVALID: {
    message: 'a value was refused before storing it (too long, wrong characters); from the command line it exits 2',
    hint: 'check the values given on the command line; elsewhere it is a bug (the caller must validate client-supplied values): report it',
    answer: ['exit 2'],
  },
  BH_STORE_CLOSED: {
    message: 'the store was used after it was shut down',
    hint: 'a bug in bootherd: report it with the log',
    answer: ['exit 1'],
  },
  // Inventory and apply
  BH_INV_INVALID_PROFILE: {
    message: 'a profile is not valid (every problem is listed with its field), its name is invalid, or its menu lists itself or a profile that does not exist',
    hint: 'fix the fields named (docs/inventory.md describes every profile key); names are 1–64 letters, digits, `.`, `_` or `-`',
    answer: ['exit 2'],
  },
  BH_INV_INVALID_GROUP: {
    message: 'a group name is not valid',
    hint: 'use 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit',
    answer: ['exit 2'],
  },
  BH_INV_INVALID_HOST: {
    message: "a host's hostname, arch or labels are not valid (the message names which)",
    hint: 'follow the hint: hostname of letters, digits, `.`, `_`, `-`; an arch bootherd knows; labels as `key: value`, at most 64',
    answer: ['exit 2'],
  },
  BH_INV_BAD_MAC: {
    message: 'not a MAC address; a host without any MAC or with more than 32; removing a MAC the host does not have, or its last one',
    hint: 'write six hex octets, e.g. `52:54:00:12:34:56`; add another MAC before removing the last, or `bootherd hosts rm`',
    answer: ['exit 2'],
  },
  BH_INV_BAD_UUID: {
    message: 'not a UUID',
    hint: 'the SMBIOS UUID as 8-4-4-4-12 hex digits (`dmidecode -s system-uuid`)',
    answer: ['exit 2'],
  },
  BH_INV_BAD_STATE: {
    message: 'not a host state',
    hint: 'use one of the states the hint lists',
    answer: ['exit 2'],
  },
  BH_INV_TRANSITION: {
    message: 'the host cannot go from its state to the one asked, or `approve` on a host that is not pending',
    hint: 'the hint lists the allowed next states; to boot a host anyway: `bootherd hosts set HOST --state active`',
    answer: ['exit 2'],
  },
  BH_INV_NOT_FOUND: {
    message: 'no host, profile or group by that name, MAC or id',
    hint: '`bootherd hosts list` (or `profiles list`, `groups list`) shows what exists',
    answer: ['exit 1'],
  },
  BH_INV_AMBIGUOUS: {
    message: 'several hosts share that hostname',
    hint: 'name the host by one of the MACs the hint lists',
    answer: ['exit 1'],
  },
  BH_INV_CONFLICT: {
    message: "the profile or group already exists, or the MAC, UUID or reserved address (`--ip`) belongs to another host",
    hint: "change the existing one (`bootherd profiles set`, `groups set`), or remove the MAC there first (`bootherd hosts set OTHER --remove-mac MAC`)",
    answer: ['exit 1'],
  },
  BH_INV_IN_USE: {
    message: 'the profile is used by hosts or groups, or the group has hosts',
    hint: 'point them elsewhere first, or add `--force`',
    answer: ['exit 1'],
  },
  BH_INV_QUICK_FILE: {
    message: 'quick mode (`serve --kernel/--initrd`) cannot serve a file: missing, not a regular file, or too large to hold in memory',
    hint: 'check the path given to `--kernel` or `--initrd`; for a large file use a profile with files under the boot root',
    answer: ['exit 2'],
  },
  BH_APPLY_CONFIRM: {
    message: '`bootherd apply` has changes to make but stdin is not a terminal to confirm them; nothing was applied',
    hint: 'review the diff, then run again with `--yes` (or `--dry-run` to only show it)',
    answer: ['exit 2'],
  },
  // Boot engine (plans, scripts, loaders)
  BH_BOOT_ROOT: {
    message: 'the boot root cannot be created',
    hint: 'set `boot_root` (or `BOOTHERD_BOOT_ROOT`) to an existing directory of boot files',
    answer: ['exit 1'],
  },
  BH_BOOT_ASSETS_MISSING: {
    message: 'at start: boot loaders (undionly.kpxe, snponly.efi, ipxe.efi, shimx64.efi, grubx64.efi, pxelinux.0) were found neither in `boot.assets_dir`, the boot root nor the Debian package paths; clients needing them get ERROR 1',
    hint: 'install the packages the message names (ipxe, shim-signed, grub-efi-amd64-signed, pxelinux), or put the files in `boot.assets_dir`; `bootherd assets` lists what is found',
    answer: ['log only'],
  },
  BH_BOOT_ASSET_UNREADABLE: {
    message: 'a boot loader exists but cannot be read (`error` has the errno)',
    hint: 'check its permissions',
    answer: ['log only'],
  },
  BH_BOOT_REFRESH: {
    message: 'reloading the inventory failed; boot plans use the last snapshot',
    hint: 'check the store (`BH_STORE_*` lines)',
    answer: ['log only'],
  },
  BH_BOOT_HOST_RECORD: {
    message: 'finding or recording a host in the store failed; the client boots as unknown until the store answers',
    hint: 'check the store',
    answer: ['log only'],
  },
  BH_BOOT_HOST_SPLIT: {
    message: 'a MAC and a UUID seen together belong to two different host records (`macHost`, `uuidHost`)',
    hint: 'check for a spoofed client, or merge the two records',
    answer: ['log only'],
  },
  BH_BOOT_NEW_HOST_LIMIT: {
    message: 'more new machines in a minute than the limit: no more are recorded (a flood of random MACs?); they boot as unknown hosts',
    hint: 'find the source of the flood; real machines are recorded once the rate drops',
    answer: ['log only'],
  },
  BH_BOOT_UNSAFE_VALUE: {
    message: 'a profile value cannot go into a boot script or config: too long, control characters, `${`, `&&`/`||`, whitespace or quotes in a path, a URL scheme other than http/https/tftp, an `https` URL for GRUB, or a bad `dhcp.boot.http_base`; the client gets an error script (event `script-error` or `config-error`)',
    hint: 'fix the field the message names in the profile (or the config)',
    answer: ['error script', 'TFTP ERROR 1'],
  },
  BH_BOOT_SCRIPT: {
    message: 'building the iPXE script failed for another reason; the client gets an error script and the event `script-error`',
    hint: 'report it with the log line',
    answer: ['error script'],
  },
  BH_BOOT_CONFIG: {
    message: 'rendering a pxelinux or GRUB config failed for another reason; the event `config-error` names the file',
    hint: 'report it with the log line',
    answer: ['TFTP ERROR 1'],
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERRORS;

/** Exit status for bad usage or configuration. */
export const EXIT_USAGE = 2;
/** Exit status for any other failure. */
export const EXIT_FAILURE = 1;

/** The exit status of a command stopped by this code: 2 where the list says so, else 1. */
export function exitCodeOf(code: ErrorCode): 1 | 2 {
  return (ERRORS[code].answer as readonly Answer[]).includes('exit 2') ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * An error with a code from the list. `message` says what happened in this instance (it names the
 * file, port or record), `hint` what to do about it; the command line prints both. The exit
 * status comes from the list, never from the site that throws.
 */
export class BhError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: 1 | 2;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = hint;
    this.exitCode = exitCodeOf(code);
  }
}

// ---- problems in a file the operator wrote (the config, a fleet file) ----------------------------

export interface ConfigProblem {
  /** `path/to/bootherd.yaml`, `env BOOTHERD_X` or `--option`. */
  source: string;
  line?: number;
  /** Dotted key, e.g. `tftp.port` or `interfaces[0].mode`; '' for the whole file. */
  key: string;
  message: string;
  fix: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.source}:${p.line}` : p.source;
  return `${where}: ${p.key === '' ? '' : `${p.key}: `}${p.message} (fix: ${p.fix})`;
}

export class ConfigError extends BhError {
  declare readonly code: 'BH_CONFIG_INVALID';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('BH_CONFIG_INVALID', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}
