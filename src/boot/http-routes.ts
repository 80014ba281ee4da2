// Mounts the boot engine's dynamic paths (/boot.ipxe, /register.ipxe, /menu.ipxe) on a fastify
// instance: the HTTP server's `routes` hook calls this. They are answered in an onRequest hook, so
// that when the engine declines (a hand-written file of that name in the boot root) the request
// falls through to the file route. Scripts are per host and never cached.
import type { FastifyInstance } from 'fastify';
import type { BootEngine } from './engine.ts';
import { BOOT_HTTP_PATHS } from './engine.ts';

/** `engine` may be a getter, for an app built before the engine exists (503 until then). */
export function registerBootRoutes(app: FastifyInstance, engine: BootEngine | (() => BootEngine | undefined)): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!BOOT_HTTP_PATHS.includes(path)) return;
    const e = typeof engine === 'function' ? engine() : engine;
    if (e === undefined) return reply.code(503).header('retry-after', '5').send();
    const a = await e.handleHttp({ path, query: req.query as Record<string, string | string[] | undefined>, ip: req.ip });
    if (a === undefined) return; // the file route serves it
    return reply.code(a.status).type(a.contentType).header('cache-control', 'no-store').send(a.body);
  });
}
