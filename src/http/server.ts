// The HTTP(S) boot-file server: a fastify 5 app that serves the boot root through the shared,
// root-jailed FileResolver (the same one TFTP uses), plus whatever dynamic routes the boot engine
// adds (iPXE scripts, answer files), plus /healthz.
//
// Static files: GET and HEAD; one byte range (206 / 416, never multipart); Content-Length,
// Accept-Ranges, Last-Modified, If-Modified-Since, If-Range; Content-Type by name
// (application/efi for .efi: EDK2 HTTP Boot needs it). Hot files come straight from the shared
// in-memory Buffer, large ones are streamed in 1 MiB chunks. Every answer to a file request emits
// one boot event (stage `http`, kind `file`), except misses past a client's burst: those are
// counted into one `file-misses` event per client and window (misses.ts), and repeated fetches
// of one file past a client's burst, counted into one `file-repeats` event, so a scanner or a
// flood cannot fill the log and the store. Error bodies are the bare reason phrase: no stack
// traces, versions or server paths (SECURITY.md H11).
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/logger.ts';
import type { EventBus } from '../events/bus.ts';
import type { FileResolver, OpenFile } from '../files/resolver.ts';
import { FileError } from '../files/errors.ts';
import { contentTypeFor } from './content-type.ts';
import { HttpListener, publicBody } from './listener.ts';
import type { HttpLimits, TlsMaterial } from './listener.ts';
import { MissAggregator } from './misses.ts';
import { BurstLimiter } from '../events/burst.ts';
import { parseRange } from './range.ts';
import { decodeRequestTarget, MAX_TARGET_LENGTH } from './request-path.ts';

export interface HttpAppOptions {
  logger: Logger;
  events: Pick<EventBus, 'emit'>;
  /** The shared root-jailed resolver (src/files/resolver.ts). */
  resolver: FileResolver;
  /** Adds dynamic routes (iPXE scripts, ...). They take precedence over files of the same name. */
  routes?: (app: FastifyInstance) => void;
  /** Serve HTTPS with this certificate and key (TLS 1.2+ only). Ignored when `listener` is given. */
  tls?: TlsMaterial;
  /** Parser, timeout and connection limits. Ignored when `listener` is given. */
  limits?: Partial<HttpLimits>;
  /** A listener created (and perhaps already bound) beforehand, as `bootherd serve` does. */
  listener?: HttpListener;
  /** Read size for files streamed from disk (default 1 MiB). */
  streamChunkBytes?: number;
  /** How file misses (404s, refusals) become boot events: a burst per client, then one summary per window. */
  misses?: { burst?: number; windowMs?: number; maxClients?: number };
  /**
   * How repeated fetches of one file by one client become boot events: a burst per client and
   * path, then one `file-repeats` summary per window (default 20 per 10 s; burst 0: no limit).
   */
  repeats?: { burst?: number; windowMs?: number };
  /** Clock for the miss windows (tests). */
  now?: () => number;
}

export const DEFAULT_STREAM_CHUNK = 1024 * 1024;
const ALLOW = 'GET, HEAD';
const TEXT = 'text/plain; charset=utf-8';

/**
 * Builds the app. Standalone: `await app.listen({ host, port })` and `await app.close()`.
 * With a pre-bound `listener`, the app serves on it as soon as it is ready; close the listener
 * to stop.
 */
export function createHttpApp(opts: HttpAppOptions): FastifyInstance {
  const log = opts.logger;
  const listener = opts.listener ?? new HttpListener({ tls: opts.tls, limits: opts.limits, logger: log });
  const chunk = opts.streamChunkBytes ?? DEFAULT_STREAM_CHUNK;
  const remoteLog = new RateLimitedLog(log);
  const misses = new MissAggregator({ emit: (e) => opts.events.emit(e), ...opts.misses, ...(opts.now !== undefined ? { now: opts.now } : {}) });
  const repeats = new BurstLimiter({
    ...opts.repeats,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    report: (key, sum) => {
      const nl = key.indexOf('\n');
      const client = key.slice(0, nl);
      opts.events.emit({ host: client, stage: 'http', kind: 'file-repeats', detail: { client, path: key.slice(nl + 1), count: sum.count, statuses: sum.counts, window_s: sum.window_s } });
    },
  });
  const sweep = setInterval(
    () => {
      misses.sweep();
      repeats.sweep();
    },
    Math.min(opts.misses?.windowMs ?? 10_000, opts.repeats?.windowMs ?? 10_000),
  );
  sweep.unref();

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: true,
    return503OnClosing: true,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
    routerOptions: { maxParamLength: MAX_TARGET_LENGTH, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    // Parse errors are answered by the listener; fastify must not answer them a second time.
    clientErrorHandler: () => {},
    frameworkErrors: (err, req, reply) => {
      remoteLog.warn('bad-url', { client: clientAddress(req), code: err.code }, 'BH_HTTP_BAD_URL: undecodable request target refused');
      void fixed(reply, 400);
    },
    serverFactory: (h) => {
      handler = h;
      // https.Server serves the same request/response objects; fastify's types only name http.Server.
      return listener.server as unknown as Server;
    },
  });

  LISTENERS.set(listener.server, listener);
  // Counted misses are reported when the server stops, not lost.
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    misses.sweep(true);
    repeats.sweep(true);
  });
  // Requests reach the app only once every route is registered; until then the listener holds them.
  app.addHook('onReady', async () => {
    if (handler !== undefined) listener.setHandler(handler);
  });

  // Before any route runs: only origin-form targets, and 405 for methods no route takes.
  app.addHook('onRequest', async (req, reply) => {
    const url = req.raw.url ?? '';
    if (url.charCodeAt(0) !== 0x2f || url.charCodeAt(1) === 0x2f) {
      remoteLog.warn('target', { client: clientAddress(req) }, 'BH_HTTP_BAD_TARGET: absolute-form or "//" request target refused');
      return fixed(reply, 400);
    }
    if (req.is404 && req.method !== 'GET' && req.method !== 'HEAD') {
      reply.header('allow', ALLOW);
      return fixed(reply, 405);
    }
    return undefined;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err, method: req.method, client: clientAddress(req) }, 'BH_HTTP_INTERNAL: request failed inside bootherd (a bug): please report it with this log line');
    return fixed(reply, status);
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') reply.header('allow', ALLOW);
    return fixed(reply, req.method === 'GET' || req.method === 'HEAD' ? 404 : 405);
  });

  app.get('/healthz', (_req, reply) => {
    void reply.header('cache-control', 'no-store').type(TEXT).send('ok\n');
  });

  opts.routes?.(app);

  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    exposeHeadRoute: false,
    handler: (req, reply) => serveFile(req, reply, opts.resolver, opts.events, misses, repeats, chunk, log),
  });
  return app;
}

/** The listener under an app made by createHttpApp (to bind, close or inspect it). */
export function listenerOf(app: FastifyInstance): HttpListener | undefined {
  return LISTENERS.get(app.server);
}
const LISTENERS = new WeakMap<object, HttpListener>();

async function serveFile(req: FastifyRequest, reply: FastifyReply, resolver: FileResolver, events: Pick<EventBus, 'emit'>, misses: MissAggregator, repeats: BurstLimiter, chunk: number, log: Logger): Promise<void> {
  const started = performance.now();
  const rawUrl = req.raw.url ?? '';
  const target = decodeRequestTarget(rawUrl);
  const record = (path: string, size: number | undefined, range: string | undefined, missStatus?: number): void => {
    // A miss beyond the client's burst is only counted (one summary event per window).
    if (missStatus !== undefined && !misses.miss(clientAddress(req), clean(path, 128), missStatus)) return;
    onClose(reply.raw, () => {
      const client = clientAddress(req);
      const shown = clean(path, 512);
      // So is a hit beyond the client's burst for that same file (a boot loop, a download flood).
      if (missStatus === undefined && !repeats.offer(`${client}\n${shown}`, undefined, String(reply.raw.statusCode))) return;
      events.emit({
        host: client,
        stage: 'http',
        kind: 'file',
        detail: {
          method: req.method,
          path: shown,
          size,
          status: reply.raw.statusCode,
          range,
          complete: reply.raw.writableFinished,
          duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          client,
          user_agent: clean(headerString(req.headers['user-agent']) ?? '', 256),
        },
      });
    });
  };
  if (!target.ok) {
    record(rawUrl, undefined, undefined, target.status);
    log.debug({ client: clientAddress(req), reason: target.reason, status: target.status }, 'http request refused');
    return fixed(reply, target.status);
  }

  let file: OpenFile;
  try {
    file = await resolver.open(target.path);
  } catch (err) {
    const status = err instanceof FileError && err.code === 'BH_FILES_BAD_NAME' ? 400 : 404;
    record(target.path, undefined, undefined, status);
    if (err instanceof FileError) log.debug({ client: clientAddress(req), code: err.code, why: err.message }, 'http file refused');
    else log.error({ err }, 'BH_HTTP_OPEN: the resolver failed unexpectedly');
    return fixed(reply, status);
  }
  // The client may have gone while the file was being opened: close it then, not never.
  onClose(reply.raw, () => void file.close());

  const size = file.size;
  const lastModified = file.mtime.toUTCString();
  reply.header('accept-ranges', 'bytes');
  reply.header('last-modified', lastModified);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-type', contentTypeFor(file.path));

  // 304 for an unchanged file (RFC 9110 §13.1.3; the date has one-second resolution).
  const ims = headerString(req.headers['if-modified-since']);
  if (ims !== undefined && req.headers['range'] === undefined) {
    const since = Date.parse(ims);
    if (!Number.isNaN(since) && Math.floor(file.mtime.getTime() / 1000) * 1000 <= since) {
      record(file.path, size, undefined);
      reply.removeHeader('content-type');
      return reply.code(304).send();
    }
  }

  let start = 0;
  let end = size - 1;
  let rangeText: string | undefined;
  const rangeHeader = headerString(req.headers['range']);
  const ifRange = headerString(req.headers['if-range']);
  // Range applies to GET only; a stale If-Range validator means "send the whole thing".
  if (req.method === 'GET' && rangeHeader !== undefined && (ifRange === undefined || ifRange === lastModified)) {
    const r = parseRange(rangeHeader, size);
    if (r.kind === 'unsatisfiable') {
      record(file.path, size, clean(rangeHeader, 64));
      reply.header('content-range', `bytes */${size}`);
      reply.removeHeader('last-modified');
      return fixed(reply, 416);
    }
    if (r.kind === 'partial') {
      start = r.start;
      end = r.end;
      rangeText = `${start}-${end}`;
      reply.code(206);
      reply.header('content-range', `bytes ${start}-${end}/${size}`);
    }
  }
  record(file.path, size, rangeText);
  const length = end - start + 1;
  reply.header('content-length', length);
  if (req.method === 'HEAD' || length === 0) return reply.send();
  if (file.data !== undefined) return reply.send(file.data.subarray(start, end + 1));
  return reply.send(fileStream(file, start, end, chunk));
}

/** Streams start..end of a file in `chunk`-sized reads (fewer, larger writes than fs streams' 64 KiB). */
export function fileStream(file: OpenFile, start: number, end: number, chunk: number): Readable {
  let pos = start;
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (pos > end) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, end - pos + 1);
      file.read(pos, n).then(
        (buf) => {
          if (buf.length === 0) {
            // The file shrank under us: end short rather than hang; Content-Length tells the client.
            this.destroy(new Error('BH_HTTP_SHORT_READ: the file shrank while being sent'));
            return;
          }
          pos += buf.length;
          this.push(buf);
        },
        (err: unknown) => this.destroy(err as Error),
      );
    },
  });
}

/** Runs `fn` when the response closes (finished or aborted), or now if it already has. */
function onClose(res: ServerResponse, fn: () => void): void {
  if (res.closed) fn();
  else res.once('close', fn);
}

function fixed(reply: FastifyReply, status: number): FastifyReply {
  return reply
    .code(status)
    .header('content-type', TEXT)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(publicBody(status));
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Client address without the IPv4-mapped prefix. */
function clientAddress(req: FastifyRequest): string {
  const a = req.raw.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** A client-supplied string made safe for logs, the store and the UI: printable ASCII, bounded. */
export function clean(s: string, max: number): string {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}
