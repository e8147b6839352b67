// Shared by the benchmarks: progress lines, cleanup that survives Ctrl-C, bounded concurrency.
import { performance } from 'node:perf_hooks';

const started = performance.now();
/** A timestamped progress line on stderr (reports go to stdout). */
export const progress = (message) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

/**
 * Cleanup steps run last-in first-out, once: at the end of the run, or on SIGINT/SIGTERM (so an
 * interrupted run does not leave a PostgreSQL or a database behind). A failing step is reported
 * and the others still run.
 */
export function cleanupStack() {
  const steps = [];
  let closing;
  const close = () =>
    (closing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      while (steps.length) {
        const { label, fn } = steps.pop();
        try {
          await fn();
        } catch (err) {
          progress(`cleanup of ${label} failed: ${err?.message ?? err}`);
        }
      }
    })());
  function onSignal(signal) {
    progress(`${signal}: cleaning up`);
    close().finally(() => process.exit(130));
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A step deferred after closing began (e.g. a start-up finishing during Ctrl-C) runs at once.
  const defer = (label, fn) => {
    if (!closing) return void steps.push({ label, fn });
    void Promise.resolve()
      .then(fn)
      .catch((err) => progress(`cleanup of ${label} failed: ${err?.message ?? err}`));
  };
  return { defer, close };
}

/** Runs `benchmark(cleanup)` with a fresh cleanup stack that is always closed afterwards. */
export async function withCleanup(benchmark) {
  const cleanup = cleanupStack();
  try {
    return await benchmark(cleanup);
  } finally {
    await cleanup.close();
  }
}

/** A wall-clock time in ms with sub-ms precision, comparable across processes of this machine. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `fn` over `items`, `concurrency` at a time; on a failure the others stop, then it throws. */
export async function inParallel(items, fn, concurrency = 4) {
  const results = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

export const range = (n) => Array.from({ length: n }, (_, i) => i);
export const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A bearer token for the admin user of a Stagecraft at `url` (base URL or …/graphql). */
export async function login(url, password) {
  const res = await fetch(`${url.replace(/\/graphql$/, '')}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
      variables: { u: 'admin', p: password },
    }),
  });
  const body = await res.json();
  if (!body.data?.login?.token) throw new Error(`login failed (HTTP ${res.status}): ${JSON.stringify(body.errors)}`);
  return body.data.login.token;
}

/**
 * A fresh database for a benchmark: on the server at DATABASE_URL (dropped afterwards), or on an
 * embedded PostgreSQL under `tmp` (stopped afterwards).
 */
export async function provisionDatabase(tmp, log, cleanup) {
  const { randomBytes } = await import('node:crypto');
  const path = await import('node:path');
  const dbName = `stagecraft_bench_${randomBytes(6).toString('hex')}`;
  const external = process.env.DATABASE_URL;
  if (external) {
    const { default: pg } = await import('pg');
    const withAdmin = async (sql) => {
      const admin = new pg.Client({ connectionString: external });
      await admin.connect();
      try {
        await admin.query(sql);
      } finally {
        await admin.end();
      }
    };
    await withAdmin(`CREATE DATABASE "${dbName}"`);
    cleanup.defer(`database ${dbName}`, () => withAdmin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    const url = new URL(external);
    url.pathname = `/${dbName}`;
    return { mode: 'external', url: url.toString() };
  }
  progress('starting embedded PostgreSQL');
  const { startEmbeddedDatabase } = await import('../dist/src/db/embedded.js');
  const embedded = await startEmbeddedDatabase(path.join(tmp, 'postgres'), log, dbName);
  cleanup.defer('embedded PostgreSQL', () => embedded.stop());
  return { mode: 'embedded', url: embedded.url };
}

/**
 * When BENCH_CPU_PROFILE names a file, a CPU profile (.cpuprofile, for Chrome DevTools or
 * speedscope) of only the parts wrapped in `profiled(fn)`: the product's side of a measurement,
 * without set-up or the baseline. Otherwise `profiled(fn)` is just `fn()`.
 */
export function cpuProfiler() {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return { profiled: (fn) => fn(), save: async () => undefined };
  let session;
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  const profiles = [];
  return {
    async profiled(fn) {
      if (!session) {
        const { Session } = await import('node:inspector');
        session = new Session();
        session.connect();
        await post('Profiler.enable');
      }
      await post('Profiler.start');
      try {
        return await fn();
      } finally {
        profiles.push((await post('Profiler.stop')).profile);
      }
    },
    async save() {
      if (!profiles.length) return;
      const { writeFile } = await import('node:fs/promises');
      // One file: the first window's profile (later windows are written beside it, numbered).
      await Promise.all(profiles.map((p, i) => writeFile(i ? file.replace(/(\.cpuprofile)?$/, `.${i}$1`) : file, JSON.stringify(p))));
      progress(`CPU profile of the product's side written to ${file}${profiles.length > 1 ? ` (+${profiles.length - 1} numbered)` : ''}`);
    },
  };
}

/**
 * One Stagecraft in this process, as the catalog, fanout and console benches run it: a temporary
 * directory, a database (provisionDatabase), config from `env` on top of the bench defaults,
 * `configure(config)` for what env cannot say, and everything undone by `cleanup`. `tmp` is the
 * temporary directory, for the caller's own files.
 */
export async function startBenchServer(cleanup, { env = {}, configure = () => undefined } = {}) {
  const [{ chmod, mkdir, mkdtemp, rm }, os, path, { startStagecraft }, { loadConfig }, { createLogger }] = await Promise.all([
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
    import('../dist/src/app.js'),
    import('../dist/src/config.js'),
    import('../dist/src/logger.js'),
  ]);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-bench-'));
  cleanup.defer('temporary directory', () => rm(tmp, { recursive: true, force: true }));
  // The embedded cluster runs as user postgres when we are root: it must reach its directory.
  await chmod(tmp, 0o755);
  const log = createLogger('warn', process.stderr);
  const database = await provisionDatabase(tmp, log, cleanup);
  progress(`database ready (${database.mode})`);
  const dataDir = path.join(tmp, 'stagecraft');
  await mkdir(dataDir, { recursive: true });
  const config = loadConfig([], { PORT: '0', HOST: '127.0.0.1', STAGECRAFT_DATA_DIR: dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env });
  configure(config);
  const app = await startStagecraft(config, { log, onAdminPassword: () => undefined });
  cleanup.defer('stagecraft', () => app.stop());
  progress(`stagecraft listening on ${app.url}`);
  return { app, database, log, tmp };
}
