// The boot engine's dynamic paths (/boot.ipxe, /register.ipxe, /menu.ipxe) over HTTP, two ways:
// - `bootFastPath`: answered by the listener's fast path (HttpListener.setFastPath, fast-conn.ts),
//   without Node's request objects or fastify's routing, hooks and reply: the per-host script is
//   the hottest request a fleet makes (docs/decisions/0012-http-fast-path.md);
// - `registerBootRoutes`: the same answers as a fastify onRequest hook, for apps without the
//   fast path and for requests the fast path leaves to the app.
// Either way, when the engine declines (a hand-written file of that name in the boot root) the
// request goes on to the file route. Scripts are per host and never cached by clients.
import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance } from 'fastify';
import type { FastPath } from './listener.ts';
import type { BootEngine } from '../boot/engine.ts';
import { BOOT_HTTP_PATHS } from '../boot/engine.ts';

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
 * The boot scripts for HttpListener.setFastPath: GET and HEAD of exactly these paths in origin form
 * are answered without the app once the engine exists; before that, and when the boot root has its
 * own file of that name, the app answers (503, or the file route). The answer is the one
 * registerBootRoutes gives, header for header.
 */
export function bootFastPath(engine: EngineRef): FastPath {
  return {
    paths: new Set(BOOT_HTTP_PATHS),
    answer: (path, query, ip) => engineOf(engine)?.handleHttpNow({ path, query: parseQuery(query) as Record<string, string | string[] | undefined>, ip }),
  };
}
