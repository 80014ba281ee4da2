// A throwaway PostgreSQL cluster for tests, from Debian's postgresql package: initdb in a temporary
// directory, unix socket only (no TCP listener), run as the unprivileged `postgres` user (postgres
// refuses to run as root), trust authentication. stop() shuts it down and removes the directory;
// it also runs on process exit, so a failing test leaves nothing behind. The package's own default
// cluster and service are not used.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** The directory holding initdb, pg_ctl and postgres (highest installed major version). */
export function findPgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin', 'pg_ctl'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  const v = versions[0];
  if (v === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install the apt package "postgresql"');
  return path.join(base, v, 'bin');
}

function unprivilegedUser(): { name: string; uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('no unprivileged user (postgres or nobody) to run PostgreSQL as');
}

export interface PgCluster {
  /** The temporary directory: data, log and the unix socket live here. */
  readonly dir: string;
  /** A URL for database `db` over the unix socket, in the form users write. */
  url(db: string): string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes the directory. Safe to call twice. */
  stop(): void;
}

const live = new Set<PgCluster>();
process.once('exit', () => {
  for (const c of live) c.stop();
});

export function startPostgres(): PgCluster {
  const bin = findPgBinDir();
  const user = unprivilegedUser();
  const dir = mkdtempSync('/tmp/bh-pg-');
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  chownSync(dir, user.uid, user.gid);
  const asUser = (cmd: string, args: string[]) =>
    execFileSync('runuser', ['-u', user.name, '--', path.join(bin, cmd), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, timeout: 60_000 });

  let stopped = false;
  const cluster: PgCluster = {
    dir,
    url: (db) => `postgres:///${db}?host=${encodeURIComponent(dir)}&user=postgres`,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad test database name ${name}`);
      const client = new pg.Client({ host: dir, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return cluster.url(name);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      live.delete(cluster);
      try {
        if (existsSync(path.join(data, 'postmaster.pid'))) asUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } catch {
        // pg_ctl failed: stop the postmaster we started, by its recorded pid.
        try {
          const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
          if (pid > 1) process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  try {
    asUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    appendFileSync(data + '/postgresql.conf', [
      '',
      "listen_addresses = ''",
      `unix_socket_directories = '${dir}'`,
      'max_connections = 60',
      'shared_buffers = 16MB',
      'fsync = on',
      'synchronous_commit = on',
      '',
    ].join('\n'));
    asUser('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    cluster.stop();
    throw new Error(`could not start a test PostgreSQL cluster: ${(err as Error).message}\n${stderr}\n${log}`, { cause: err });
  }
  return cluster;
}
