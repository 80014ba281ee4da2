// The boot engine's dynamic paths (/boot.ipxe, /register.ipxe, /menu.ipxe) over HTTP, two ways:
// - `bootFastPath`: answered straight from Node's request handler (HttpListener.setFastPath),
//   without fastify's routing, hooks and reply: the per-host script is the hottest request a
//   fleet makes (docs/decisions/0008-http-serving-speed.md);
// - `registerBootRoutes`: the same answers as a fastify onRequest hook, for apps without the
//   fast path and for requests the fast path leaves to the app.
// Either way, when the engine declines (a hand-written file of that name in the boot root) the
// request goes on to the file route. Scripts are per host and never cached by clients.
import type { ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance } from 'fastify';
import type { FastRequestHandler } from '../http/listener.ts';
import type { Logger } from '../log/logger.ts';
import type { BootEngine, HttpAnswer } from './engine.ts';
import { BOOT_HTTP_PATHS } from './engine.ts';

type EngineRef = BootEngine | (() => BootEngine | undefined);

const engineOf = (engine: EngineRef): BootEngine | undefined => (typeof engine === 'function' ? engine() : engine);

/** `engine` may be a getter, for an app built before the engine exists (503 until then). */
export function registerBootRoutes(app: FastifyInstance, engine: EngineRef): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!BOOT_HTTP_PATHS.includes(path)) return;
    const e = engineOf(engine);
    if (e === undefined) return reply.code(503).header('retry-after', '5').send();
    const a = await e.handleHttp({ path, query: req.query as Record<string, string | string[] | undefined>, ip: req.ip });
    if (a === undefined) return; // the file route serves it
    return reply.code(a.status).type(a.contentType).header('cache-control', 'no-store').send(a.body);
  });
}

/**
 * The fast path for the boot scripts: takes GET and HEAD of exactly those paths in origin form once
 * the engine exists, and leaves everything else (other methods, other paths, `//` or absolute-form
 * targets, the engine not started yet) to the app, which answers them as before. The answer is the
 * one registerBootRoutes gives, header for header.
 */
export function bootFastPath(engine: EngineRef, log: Logger): FastRequestHandler {
  return (req, res, app) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 0x2f || url.charCodeAt(1) === 0x2f) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!BOOT_HTTP_PATHS.includes(path)) return false;
    const e = engineOf(engine);
    if (e === undefined) return false;
    const query = q < 0 ? {} : (parseQuery(url.slice(q + 1)) as Record<string, string | string[] | undefined>);
    e.handleHttp({ path, query, ip: req.socket.remoteAddress ?? '' }).then(
      (a) => (a === undefined ? app(req, res) : send(res, method === 'HEAD', a)),
      (err: unknown) => {
        // handleHttp never throws; if it ever does, the app's error handler answers (500, logged).
        log.error({ err }, 'BH_HTTP_INTERNAL: the boot script fast path failed (a bug): please report it with this log line');
        if (!res.headersSent) app(req, res);
        else res.destroy();
      },
    );
    return true;
  };
}

function send(res: ServerResponse, head: boolean, a: HttpAnswer): void {
  if (res.destroyed) return;
  res.writeHead(a.status, ['content-type', a.contentType, 'cache-control', 'no-store', 'content-length', String(Buffer.byteLength(a.body))]);
  res.end(head ? undefined : a.body);
}

