// `bootherd serve`: assembles the services from the config and runs them until SIGTERM/SIGINT.
//
// Order matters for least privilege:
//   1. prepare the state directory (owned by `user` when one is configured);
//   2. bind every privileged socket (DHCP 67/4011, TFTP 69, HTTP) while still root;
//   3. drop to `user` and verify root cannot be regained;
//   4. only then open the store (so every file it creates belongs to `user`) and start serving;
//   5. log the readiness line.
// On SIGTERM/SIGINT: stop taking new work, give in-flight work `shutdown_grace` seconds, cut the
// rest, close the store, exit 0. A second signal exits at once.
import { chownSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedConfig } from '../config/load.ts';
import { pino } from 'pino';
import type { Logger } from '../log/logger.ts';
import { EventBus } from '../events/bus.ts';
import type { BootEvent } from '../events/bus.ts';
import { currentCredentials, dropPrivileges, lookupUser } from '../net/privileges.ts';
import type { UserInfo } from '../net/privileges.ts';
import { openStore, parseStoreUrl } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { BhError } from '../errors.ts';

/** A running service: something that can be asked to stop within a grace period. */
export interface Service {
  name: string;
  /** What the readiness line reports about it (addresses, ports, interfaces). */
  describe(): Record<string, unknown>;
  stop(graceMs: number): Promise<void>;
}

/** A service whose sockets are bound (as root) but which starts serving only once the store is open. */
export interface BoundService {
  name: string;
  start(ctx: { store: Store; events: EventBus; log: Logger }): Promise<Service>;
  /** Closes the bound sockets when startup fails before start(). */
  abort(): Promise<void>;
}

export interface ServeOptions {
  config: ResolvedConfig;
  log: Logger;
  /** Binds the sockets of every enabled service. Injected so tests and later services plug in. */
  bind: (config: ResolvedConfig, log: Logger) => Promise<BoundService[]>;
  /** Resolves when the daemon should stop (defaults to SIGTERM/SIGINT). */
  stopSignal?: Promise<string>;
}

export async function serve(opts: ServeOptions): Promise<void> {
  const { config, log } = opts;
  // Listen for the stop signal from the very start: a SIGTERM during startup stops bootherd right
  // after it is up, instead of killing it half-way.
  const stopRequested = opts.stopSignal ?? waitForSignal();
  const user = targetUser(config.user, log);
  prepareStateDir(config, user);

  const bound = await opts.bind(config, log);
  let store: Store | undefined;
  let flushEvents = (): void => {};
  const running: Service[] = [];
  try {
    if (user !== undefined) {
      if (process.getuid?.() === 0) {
        const creds = dropPrivileges(user.name);
        log.info({ uid: creds.uid, gid: creds.gid, groups: creds.groups }, `dropped privileges to user ${user.name}`);
      } else if (process.getuid?.() !== user.uid) {
        throw new BhError('BH_NOT_ROOT', `cannot switch to user "${user.name}": bootherd is not running as root`, 'start bootherd as root to use "user:", or remove "user:" and run it as that user with CAP_NET_BIND_SERVICE');
      }
    } else if (process.getuid?.() === 0) {
      log.warn('running as root because the config says "user: root"; every request is handled with full privileges');
    }

    store = await openStore(config.database.url, { logger: log });
    const migrated = await store.migrate();
    if (migrated.applied.length > 0) log.info({ applied: migrated.applied }, 'database migrated');

    const events = new EventBus((err) => log.error({ err }, 'boot event listener failed'));
    flushEvents = recordEvents(events, store, log);
    for (const b of bound) running.push(await b.start({ store, events, log }));
  } catch (err) {
    await Promise.allSettled(running.map((s) => s.stop(0)));
    await Promise.allSettled(bound.slice(running.length).map((b) => b.abort()));
    flushEvents();
    await store?.close();
    throw err;
  }

  const creds = currentCredentials();
  log.info(
    {
      event: 'ready',
      services: Object.fromEntries(running.map((s) => [s.name, s.describe()])),
      uid: creds.uid,
      gid: creds.gid,
      database: (await store.status()).location,
      config: config.source,
    },
    'bootherd ready',
  );

  const reason = await stopRequested;
  log.info({ signal: reason, grace_s: config.shutdown_grace }, 'stopping');
  // A second signal while stopping means "now".
  const hard = () => {
    log.warn('second signal: exiting immediately');
    process.exit(1);
  };
  process.once('SIGINT', hard);
  process.once('SIGTERM', hard);
  const graceMs = config.shutdown_grace * 1000;
  for (const s of [...running].reverse()) {
    try {
      await s.stop(graceMs);
    } catch (err) {
      log.error({ err, service: s.name }, 'service did not stop cleanly');
    }
  }
  flushEvents(); // the events the services emitted while stopping
  await store.close();
  process.removeListener('SIGINT', hard);
  process.removeListener('SIGTERM', hard);
  log.info('stopped');
}

/**
 * Every boot event goes to the log and, durably, to the per-host timeline in the store. Emitters are
 * on hot paths (a DHCP exchange emits while its reply is still unsent), so the listener only queues
 * the event; the queue is logged and stored after the current turn of the event loop, when the
 * replies are out: the turn's lines in one write, the turn's events in one store call
 * (`events.appendMany`: one write joining the store's next group commit, in order). Nothing waits
 * for it; a failure is logged.
 *
 * Each event's detail is serialised once: the same JSON text is the log line's `detail` and the
 * stored row's. The lines are built as pino builds them (same level, time, bindings and message key,
 * from the logger's own pieces); a logger whose pieces are not available (or an unserialisable
 * detail) goes through pino as usual.
 *
 * Returns a function that records the queued events at once: call it before closing the store, so
 * the events of the last turn (services emit while stopping) are stored, not refused as too late.
 */
export function recordEvents(events: EventBus, store: Pick<Store, 'events'>, log: Logger): () => void {
  const eventLog = log.child({ component: 'events' });
  const raw = rawLineWriter(eventLog, 'info');
  /** Per stage and kind, the constant middle and end of their lines. */
  const pieces = new Map<string, Map<string, { mid: string; tail: string }>>();
  let cached = 0;
  const piecesOf = (stage: string, kind: string, w: RawLineWriter): { mid: string; tail: string } => {
    let byKind = pieces.get(stage);
    let p = byKind?.get(kind);
    if (p !== undefined) return p;
    p = { mid: `,"stage":${JSON.stringify(stage)},"kind":${JSON.stringify(kind)},"detail":`, tail: w.tail(`${stage} ${kind}`) };
    if (cached < 256) {
      // Bounded: kinds are constants in the emitters, but nothing forces them to be.
      cached++;
      if (byKind === undefined) pieces.set(stage, (byKind = new Map()));
      byKind.set(kind, p);
    }
    return p;
  };
  let queued: BootEvent[] = [];
  const failed = (err: unknown, count: number): void => {
    eventLog.warn({ err, events: count }, count === 1 ? 'could not store a boot event' : `could not store ${count} boot events`);
  };
  const flush = (): void => {
    if (queued.length === 0) return; // already recorded by an explicit call
    const batch = queued;
    queued = [];
    const logging = eventLog.isLevelEnabled('info');
    const head = logging && raw !== undefined ? raw.head() : ''; // one timestamp for the turn's lines, written together
    const jsons: (string | undefined)[] = new Array<string | undefined>(batch.length);
    let lines = '';
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      let json: string | undefined;
      try {
        json = JSON.stringify(e.detail);
      } catch {
        json = undefined; // circular or otherwise unserialisable: pino and the store cope on their own
      }
      jsons[i] = json;
      if (logging) {
        if (raw !== undefined && json !== undefined) {
          const p = piecesOf(e.stage, e.kind, raw);
          lines += `${head},"host":${JSON.stringify(e.host)}${p.mid}${json}${p.tail}`;
        } else {
          if (lines !== '') {
            raw!.write(lines); // the lines before it first: the log keeps the events' order
            lines = '';
          }
          eventLog.info({ host: e.host, stage: e.stage, kind: e.kind, detail: e.detail }, `${e.stage} ${e.kind}`);
        }
      }
    }
    if (lines !== '') raw!.write(lines);
    let stored: ReturnType<typeof store.events.appendMany>;
    try {
      stored = store.events.appendMany(batch, jsons);
    } catch (err) {
      failed(err, batch.length);
      return;
    }
    stored.then(
      (r) => {
        for (const { index, error } of r.refused) {
          const e = batch[index]!;
          eventLog.warn({ err: error, host: e.host, stage: e.stage, kind: e.kind }, 'could not store a boot event');
        }
      },
      (err: unknown) => failed(err, batch.length),
    );
  };
  events.subscribe((e) => {
    if (queued.push(e) === 1) setImmediate(flush);
  });
  return flush;
}

interface RawLineWriter {
  /** The start of every line written now: level, time and the logger's bindings. */
  head(): string;
  /** The end of a line with this message. */
  tail(msg: string): string;
  write(lines: string): void;
}

/**
 * Writes log lines whose JSON properties the caller has already serialised, in pino's own format
 * (`head() + props + tail(msg)`), through the logger's own stream (pino.symbols: pino's interface
 * for integrations). Undefined when the logger is not a plain pino logger writing one line per
 * record (then log through pino).
 */
function rawLineWriter(logger: Logger, level: 'info'): RawLineWriter | undefined {
  const l = logger as unknown as Record<symbol, unknown>;
  const { lsCacheSym, timeSym, chindingsSym, endSym, streamSym, messageKeySym, needsMetadataGsym, mixinSym, formattersSym, nestedKeySym } = pino.symbols;
  const prefix = (l[lsCacheSym] as Record<number, string> | undefined)?.[logger.levels.values[level]!];
  const time = l[timeSym];
  const stream = l[streamSym] as { write(s: string): unknown; [k: symbol]: unknown } | undefined;
  const end = l[endSym];
  const messageKey = l[messageKeySym];
  const formatters = l[formattersSym] as { log?: unknown } | undefined;
  if (typeof prefix !== 'string' || typeof time !== 'function' || typeof end !== 'string' || typeof messageKey !== 'string' || stream === undefined || typeof stream.write !== 'function') return undefined;
  const set = (v: unknown): boolean => v !== undefined && v !== null;
  if (stream[needsMetadataGsym] === true || set(l[mixinSym]) || set(l[nestedKeySym]) || set(formatters?.log)) return undefined;
  const key = JSON.stringify(messageKey);
  const now = time as () => string;
  return {
    // Bindings are read each time: setBindings() may change them.
    head: () => `${prefix}${now()}${String(l[chindingsSym] ?? '')}`,
    tail: (msg) => `,${key}:${JSON.stringify(msg)}${end}`,
    write: (lines) => {
      stream.write(lines);
    },
  };
}

export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    // Signal handlers do not keep Node's event loop alive; this timer does, even with no sockets open.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const on = (sig: string) => {
      clearInterval(keepAlive);
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = () => on('SIGINT');
    const onTerm = () => on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/**
 * Who to run as once the ports are bound. As root with no `user:`, bootherd does not stay root: it
 * drops to the system user `bootherd` when one exists, else to `nobody` (as dnsmasq does).
 * `user: root` keeps root, explicitly. Not started as root: nothing to drop.
 */
function targetUser(configured: string | undefined, log: Logger): UserInfo | undefined {
  if (configured === 'root') return undefined;
  if (configured !== undefined) return lookupUser(configured);
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['bootherd', 'nobody']) {
    try {
      const user = lookupUser(name);
      log.info(`no "user:" configured: bootherd will drop root to user ${name} once its ports are bound`);
      return user;
    } catch {
      /* try the next */
    }
  }
  throw new BhError('BH_USER_NO_DEFAULT', 'no "user:" configured and neither user "bootherd" nor "nobody" exists', 'create a system user (useradd --system bootherd) or set "user:" in the config');
}

/**
 * Creates the state directory (0750) and hands it to `user`, with the SQLite database files in it
 * (a database first created by a run as root would otherwise be unwritable after the drop).
 */
function prepareStateDir(config: ResolvedConfig, user: UserInfo | undefined): void {
  try {
    mkdirSync(config.state_dir, { recursive: true, mode: 0o750 });
    if (user !== undefined && process.getuid?.() === 0) {
      const owned = [config.state_dir];
      const db = sqlitePath(config.database.url);
      if (db !== undefined && dirname(db) === config.state_dir) owned.push(db, `${db}-wal`, `${db}-shm`);
      for (const path of owned) {
        const st = statSync(path, { throwIfNoEntry: false });
        if (st !== undefined && st.uid !== user.uid) chownSync(path, user.uid, user.gid);
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new BhError('BH_STATE_DIR', `cannot prepare the state directory ${config.state_dir} (${code})`, 'set state_dir (or BOOTHERD_STATE_DIR) to a directory bootherd may create and write');
  }
}

function sqlitePath(url: string): string | undefined {
  try {
    const loc = parseStoreUrl(url);
    return loc.backend === 'sqlite' ? loc.file : undefined;
  } catch {
    return undefined;
  }
}
