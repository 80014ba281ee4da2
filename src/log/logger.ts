// Structured logging: JSON lines (pino) by default, a readable pretty mode when stdout is a terminal.
// Servers receive a Logger from outside; nothing in src/ creates its own.
import { pino } from 'pino';
import type { Logger as PinoLogger, Level } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = Level | 'silent';
export type LogFormat = 'auto' | 'json' | 'pretty';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; defaults to stdout (fd 1). */
  destination?: number | NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const fd = typeof opts.destination === 'number' ? opts.destination : 1;
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && opts.destination === undefined && process.stdout.isTTY === true);
  const base = { level: opts.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) {
    return pino(base, pino.transport({ target: 'pino-pretty', options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid' } }));
  }
  if (opts.destination !== undefined && typeof opts.destination !== 'number') return pino(base, opts.destination);
  // Asynchronous with a bounded buffer: a slow or stalled reader of the log (a full pipe, a stuck
  // journald) never stalls DHCP or TFTP. Past LOG_BUFFER_BYTES, lines are dropped and counted, and
  // the count is reported once the reader catches up. Everything buffered is flushed at exit.
  const dest = pino.destination({ dest: fd, sync: false, maxLength: LOG_BUFFER_BYTES });
  let dropped = 0;
  dest.on('drop', () => {
    dropped++;
  });
  const logger = pino(base, dest);
  dest.on('drain', () => {
    if (dropped > 0) {
      const n = dropped;
      dropped = 0;
      logger.warn({ dropped: n }, 'log lines were dropped because the log reader fell behind');
    }
  });
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      /* the reader is gone: nothing more can be written */
    }
  });
  return logger;
}

/** Log output held in memory while the reader is slow, before lines are dropped. */
export const LOG_BUFFER_BYTES = 8 * 1024 * 1024;

/** A logger that drops everything, for tests and pure code paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Rate-limits a class of log lines (bad packets, drops): at most `perInterval` lines per key per
 * interval; the first line after a quiet spell reports how many were suppressed.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();
  private readonly log: Logger;
  private readonly perInterval: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  constructor(log: Logger, perInterval = 5, intervalMs = 10_000, now: () => number = Date.now) {
    this.log = log;
    this.perInterval = perInterval;
    this.intervalMs = intervalMs;
    this.now = now;
  }

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined || t - w.start >= this.intervalMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: t, count: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.windows.clear();
      if (suppressed > 0) obj = { ...obj, suppressed };
    }
    if (w.count < this.perInterval) {
      w.count++;
      this.log.warn(obj, msg);
    } else {
      w.suppressed++;
    }
  }
}
