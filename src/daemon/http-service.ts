// `bootherd serve` glue for HTTP(S): bind the port(s) while still privileged (port 80/443, and the
// TLS key may be readable by root only), serve after the privilege drop.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { BoundService, Service } from './serve.ts';
import { BhError } from '../errors.ts';
import { FileResolver } from '../files/resolver.ts';
import type { ResolverOptions } from '../files/resolver.ts';
import type { GeneratedFiles } from '../files/registry.ts';
import { HttpListener } from '../http/listener.ts';
import type { FastPath, TlsMaterial } from '../http/listener.ts';
import { createHttpApp } from '../http/server.ts';

export interface HttpDeps {
  registry: GeneratedFiles;
  /** Dynamic routes (iPXE scripts, answer files), added by the boot engine. */
  routes?: (app: FastifyInstance) => void;
  /** Answers hot requests before the app sees them (the boot scripts); see HttpListener.setFastPath. */
  fast?: FastPath;
  /** Share a resolver (and its hot-file cache) with TFTP; by default HTTP makes its own. */
  resolver?: FileResolver;
}

/** Binds http.address:http.port (and https_port when a certificate is configured); serves in start(). */
export async function bindHttp(config: ResolvedConfig, log: Logger, deps: HttpDeps): Promise<BoundService> {
  const logger = log.child({ component: 'http' });
  const http = config.http;
  const limits = { maxConnectionsPerIp: http.max_connections_per_ip };
  const tls = readTls(http.tls_cert, http.tls_key);
  const listeners: { listener: HttpListener; scheme: 'http' | 'https' }[] = [];
  const abort = async () => {
    await Promise.allSettled(listeners.map((l) => l.listener.close(0)));
  };
  try {
    const plain = new HttpListener({ limits, logger });
    await listenOrExplain(plain, http.address, http.port, 'HTTP', 'http.port');
    listeners.push({ listener: plain, scheme: 'http' });
    if (tls !== undefined) {
      let secure: HttpListener;
      try {
        secure = new HttpListener({ limits, logger, tls });
      } catch (err) {
        throw new BhError('BH_HTTP_TLS_KEY', `the TLS certificate and key cannot be used together (${(err as Error).message})`, 'http.tls_key must be the private key of http.tls_cert, in PEM, unencrypted');
      }
      await listenOrExplain(secure, http.address, http.https_port, 'HTTPS', 'http.https_port');
      listeners.push({ listener: secure, scheme: 'https' });
    }
  } catch (err) {
    await abort();
    throw err;
  }

  return {
    name: 'http',
    abort,
    async start({ events }): Promise<Service> {
      const resolver = deps.resolver ?? new FileResolver(httpResolverOptions(config, deps.registry));
      const apps: FastifyInstance[] = [];
      for (const { listener } of listeners) {
        const limits = { burst: config.log.event_burst, windowMs: config.log.event_window * 1000 };
        const app = createHttpApp({ logger, events, resolver, routes: deps.routes, listener, misses: limits, repeats: limits });
        await app.ready();
        listener.setFastPath(deps.fast);
        apps.push(app);
      }
      return {
        name: 'http',
        describe: () => {
          const d: Record<string, unknown> = { root: config.boot_root };
          for (const { listener, scheme } of listeners) {
            const a = listener.address;
            if (scheme === 'http') Object.assign(d, { address: a?.address, port: a?.port });
            else d['https_port'] = a?.port;
          }
          return d;
        },
        async stop(graceMs: number): Promise<void> {
          // Downloads in flight get the grace period; idle keep-alive connections close at once.
          await Promise.all(listeners.map((l) => l.listener.close(graceMs)));
          await Promise.allSettled(apps.map((a) => a.close()));
        },
      };
    },
  };
}

/** How long a boot-file name that passed every resolver check is trusted without asking the filesystem again. */
export const HTTP_VERIFY_WINDOW_MS = 1000;

/**
 * HTTP's own resolver: kernels and initrds (typically 10–200 MiB) stay in memory up to
 * http.cache_size / http.cache_max_file, and verified names skip realpath+lstat for
 * HTTP_VERIFY_WINDOW_MS (the window is described in src/files/resolver.ts).
 */
export function httpResolverOptions(config: Pick<ResolvedConfig, 'boot_root' | 'http'>, registry: GeneratedFiles | undefined): ResolverOptions {
  const mib = 1024 * 1024;
  return { root: config.boot_root, registry, cacheBytes: config.http.cache_size * mib, cacheMaxFileBytes: config.http.cache_max_file * mib, verifyTtlMs: HTTP_VERIFY_WINDOW_MS };
}

function readTls(certPath: string | undefined, keyPath: string | undefined): TlsMaterial | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new BhError('BH_HTTP_TLS_CONFIG', `http.${certPath === undefined ? 'tls_key' : 'tls_cert'} is set but http.${certPath === undefined ? 'tls_cert' : 'tls_key'} is not`, 'set both http.tls_cert and http.tls_key (bootherd tls init makes a lab pair), or neither for plain HTTP only');
  }
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new BhError('BH_HTTP_TLS_READ', `cannot read the TLS ${what} ${path} (${code})`, code === 'ENOENT' ? `check http.tls_${what === 'certificate' ? 'cert' : 'key'}, or run 'bootherd tls init' for a lab certificate` : 'make it readable by the user bootherd starts as (root before the privilege drop)');
    }
  };
  const cert = read(certPath, 'certificate');
  const key = read(keyPath, 'key');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new BhError('BH_HTTP_TLS_READ', `${certPath} holds no PEM certificate`, 'point http.tls_cert at a PEM file that starts with -----BEGIN CERTIFICATE-----');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) throw new BhError('BH_HTTP_TLS_READ', `${keyPath} holds no PEM private key`, 'point http.tls_key at the PEM private key of the certificate');
  return { cert, key };
}

/** The code for a failed listen, by what was being bound. */
const BIND_CODE = { HTTP: 'BH_HTTP_BIND', HTTPS: 'BH_HTTPS_BIND' } as const;

async function listenOrExplain(listener: HttpListener, address: string, port: number, what: keyof typeof BIND_CODE, key: string): Promise<void> {
  try {
    await listener.listen(address, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const hint =
      code === 'EACCES'
        ? `port ${port} is privileged: start bootherd as root (it drops privileges after binding) or grant it CAP_NET_BIND_SERVICE (docs/deployment.md)`
        : code === 'EADDRINUSE'
          ? `another program already listens on ${address}:${port} (ss -ltnp 'sport = :${port}' shows which): stop it or change ${key}`
          : code === 'EADDRNOTAVAIL'
            ? `${address} is not an address of this machine: fix http.address`
            : `check http.address and ${key}`;
    throw new BhError(BIND_CODE[what], `cannot listen for ${what} on ${address}:${port} (${code})`, hint);
  }
}
