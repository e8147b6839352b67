/**
 * Archive benchmark: what moving a whole 10,000-asset catalog from one stage to another costs
 * through Stagecraft's archive endpoints, compared with a raw PostgreSQL bulk copy of the same rows.
 *
 * 1. Three databases on one PostgreSQL: source, target and copy. Two Stagecraft instances run
 *    in-process: stage "dev" on the source, stage "prod" on the target.
 * 2. Builds 10,000 assets on the source through the asset service, a few writes at a time
 *    (teams and groups, policies, aliases, APIs requiring 2–3 policies and an alias with some
 *    second versions, plans, packages, applications optionally referencing APIs).
 * 3. Export: `POST /archive/export` with every asset id (optional ALL) over real HTTP; the
 *    response is consumed as a stream (bytes counted, written to a temporary file).
 * 4. Import: that file streamed to `POST /archive/import?overwrite=none` on the empty target; the
 *    JSON report is written to a file and checked after the timed part (SUCCESS, 10,000 assets),
 *    then a re-export from the target is compared with the first archive's manifest checksums.
 * 5. Baseline: `COPY (SELECT * FROM assets|asset_references) TO STDOUT` from the source piped
 *    into `COPY … FROM STDIN` on the freshly migrated copy database, in one transaction, with
 *    `pg-copy-streams`.
 *
 * Memory: the servers run in this process, so the process's memory is theirs. During each phase
 * `process.memoryUsage()` is sampled every 20 ms on the main thread (rss, heapUsed,
 * arrayBuffers) and rss also from a worker thread (which keeps sampling while the main thread is
 * busy); reported as the peak minus the value just before the phase (after a forced GC).
 *
 * Uses DATABASE_URL when set (three fresh `stagecraft_bench_<random>_*` databases, dropped at the
 * end), otherwise an embedded PostgreSQL in a temporary directory.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import yauzl from 'yauzl';
import { startStagecraft } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config.js';
import { createDataSource, migrate, statementCounter } from '../dist/src/db/data-source.js';
import { startEmbeddedDatabase } from '../dist/src/db/embedded.js';
import { createLogger } from '../dist/src/logger.js';
import { buildCatalog, catalogShape } from './catalog-builder.mjs';
import { inParallel, login, progress, range, round, withCleanup } from './lib.mjs';

export const name = 'archive';

const ADMIN_PASSWORD = 'bench-admin-password';
const SAMPLE_MS = 20;
const TABLES = ['assets', 'asset_references'];

/** The catalog: 10 + 400 + 400 + 5,000 + 100 + 200 + 3,890 = 10,000 assets. */
const CATALOG = catalogShape({ countStageBound: true });


export const run = () => withCleanup(benchmark);

async function benchmark(cleanup) {
  const runStarted = performance.now();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-bench-'));
  cleanup.defer('temporary directory', () => rm(tmp, { recursive: true, force: true }));
  // The embedded cluster runs as user postgres when we are root: it must reach its directory.
  await chmod(tmp, 0o755);
  const log = createLogger('warn', process.stderr);
  const sampler = await memorySampler(cleanup);

  const server = await provisionServer(tmp, log, cleanup);
  const [sourceUrl, targetUrl, copyUrl] = [await server.database('source'), await server.database('target'), await server.database('copy')];
  progress(`databases ready (${server.mode}): source, target, copy`);

  const startInstance = async (stage, url) => {
    const dataDir = path.join(tmp, `stagecraft-${stage}`);
    await mkdir(dataDir, { recursive: true });
    const config = loadConfig([], {
      PORT: '0',
      HOST: '127.0.0.1',
      STAGECRAFT_STAGE: stage,
      STAGECRAFT_DATA_DIR: dataDir,
      STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
    });
    const app = await startStagecraft(config, { log, onAdminPassword: () => undefined });
    cleanup.defer(`stagecraft ${stage}`, () => app.stop());
    return app;
  };
  const source = await startInstance('dev', sourceUrl);
  const target = await startInstance('prod', targetUrl);
  progress(`stagecraft dev on ${source.url}, prod on ${target.url}`);

  // The copy database: the same migrations, no server.
  const copyDataSource = createDataSource(copyUrl, { applicationName: 'stagecraft-bench-migrate' });
  await copyDataSource.initialize();
  try {
    await migrate(copyDataSource);
  } finally {
    await copyDataSource.destroy();
  }

  const buildStarted = performance.now();
  const built = await buildCatalog(source, CATALOG, { prefix: 'Archive', expectedTotal: CATALOG.total });
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const sourceRows = await tableCounts(source.services.db);
  progress(`catalog built: ${built.total} assets, ${sourceRows.asset_references} references in ${buildSeconds.toFixed(1)}s`);

  const [sourceToken, targetToken] = [await login(source.url, ADMIN_PASSWORD), await login(target.url, ADMIN_PASSWORD)];
  const allIds = (await source.services.db.query('SELECT id FROM assets')).map((r) => r.id);
  const archiveFile = path.join(tmp, 'export.zip');
  const reportFile = path.join(tmp, 'import-report.json');

  // 1. Export, over HTTP, consumed as a stream.
  progress(`export: ${allIds.length} assets (optional ALL)`);
  const sourceCounter = statementCounter(source.services.db);
  const exportStatementsBefore = sourceCounter.count;
  const exported = await phase(sampler, () =>
    profiled('export', () => exportTo(source.url, sourceToken, { assetIds: allIds, optional: 'ALL', passphrase: null }, archiveFile)),
  );
  const exportStatements = sourceCounter.count - exportStatementsBefore;
  if (exported.value.assetCount !== CATALOG.total) throw new Error(`export announced ${exported.value.assetCount} assets, expected ${CATALOG.total}`);
  progress(
    `export: ${fmtBytes(exported.value.bytes)} in ${exported.seconds.toFixed(2)}s (first byte after ${exported.value.firstByteMs.toFixed(0)} ms), ` +
      `rss +${mb(exported.memory.rss.delta)} MB, ${exportStatements} SQL statements`,
  );

  // 2. Import into the empty target, the archive streamed from the file.
  progress('import: overwrite=none into the empty target');
  const trace = traceStatements(statementCounter(target.services.db));
  let imported;
  try {
    imported = await phase(sampler, () => profiled('import', () => importFrom(target.url, targetToken, archiveFile, reportFile, trace)));
  } finally {
    trace.stop();
  }
  progress(`import: ${imported.seconds.toFixed(2)}s, rss +${mb(imported.memory.rss.delta)} MB, ${trace.total} SQL statements`);

  // Checks, outside the timed part.
  const report = JSON.parse(await readFile(reportFile, 'utf8'));
  if (imported.value.status !== 200) throw new Error(`import failed (HTTP ${imported.value.status}): ${JSON.stringify(report).slice(0, 500)}`);
  const notOk = report.assets.filter((a) => !['CREATED', 'REPLACED', 'UNCHANGED'].includes(a.status));
  if (report.status !== 'SUCCESS' || report.assets.length !== CATALOG.total || notOk.length) {
    throw new Error(
      `import report: status ${report.status}, ${report.assets.length} assets, ${notOk.length} not SUCCESS (${JSON.stringify(notOk.slice(0, 3))})`,
    );
  }
  const targetRows = await tableCounts(target.services.db);
  if (targetRows.assets !== sourceRows.assets || targetRows.asset_references !== sourceRows.asset_references) {
    throw new Error(`target has ${JSON.stringify(targetRows)}; source has ${JSON.stringify(sourceRows)}`);
  }
  const reexportFile = path.join(tmp, 'reexport.zip');
  const targetIds = (await target.services.db.query('SELECT id FROM assets')).map((r) => r.id);
  await exportTo(target.url, targetToken, { assetIds: targetIds, optional: 'ALL', passphrase: null }, reexportFile);
  const [first, again] = [await readManifest(archiveFile), await readManifest(reexportFile)];
  const checksums = compareManifests(first, again);
  if (!checksums.identical) throw new Error(`re-export from the target differs: ${JSON.stringify(checksums)}`);
  progress(`checked: report SUCCESS with ${report.assets.length} assets; re-export has the same ${checksums.entries} checksums`);

  // 3. Baseline: the same rows, COPY to COPY.
  progress('baseline: COPY source → copy database');
  const copied = await phase(sampler, () => bulkCopy(sourceUrl, copyUrl));
  const copyDb = new pg.Client({ connectionString: copyUrl });
  await copyDb.connect();
  let copyRows;
  try {
    copyRows = Object.fromEntries(
      await Promise.all(TABLES.map(async (t) => [t, Number((await copyDb.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n)])),
    );
  } finally {
    await copyDb.end();
  }
  if (copyRows.assets !== sourceRows.assets || copyRows.asset_references !== sourceRows.asset_references) {
    throw new Error(`copy database has ${JSON.stringify(copyRows)}; source has ${JSON.stringify(sourceRows)}`);
  }
  progress(`baseline: ${fmtBytes(copied.value.bytes)} of COPY text in ${copied.seconds.toFixed(2)}s, rss +${mb(copied.memory.rss.delta)} MB`);

  const postgres = (await source.services.db.query('SHOW server_version'))[0].server_version;
  const ratio = (a, b) => (b > 0 ? round(a / b, 1) : null);
  const timings = imported.value.timings;
  return {
    benchmark: name,
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - runStarted) / 1000, 1),
    environment: {
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.availableParallelism?.() ?? os.cpus().length,
      database: server.mode,
      postgres,
    },
    catalog: { assets: built.total, references: sourceRows.asset_references, byType: built.byType, buildSeconds: round(buildSeconds, 1) },
    export: {
      seconds: round(exported.seconds, 3),
      bytes: exported.value.bytes,
      assets: exported.value.assetCount,
      firstByteMs: round(exported.value.firstByteMs, 1),
      streamed: exported.value.chunked,
      sqlStatements: exportStatements,
      memory: exported.memory,
    },
    import: {
      seconds: round(imported.seconds, 3),
      // From the statements the target sent: the transaction's start and its COMMIT.
      phases: timings && {
        uploadAndCheckSeconds: round(timings.begin / 1000, 3),
        applySeconds: round((timings.commit - timings.begin) / 1000, 3),
        commitAndResponseSeconds: round((imported.seconds * 1000 - timings.commit) / 1000, 3),
      },
      sqlStatements: trace.total,
      statementsByKind: trace.byKind(),
      reportStatus: report.status,
      reportAssets: report.assets.length,
      memory: imported.memory,
    },
    verification: {
      importReport: { status: report.status, assets: report.assets.length, types: report.types },
      targetRows,
      reexport: checksums,
    },
    copy: {
      seconds: round(copied.seconds, 3),
      bytes: copied.value.bytes,
      rows: copyRows,
      memory: copied.memory,
    },
    ratio: {
      exportToCopy: ratio(exported.seconds, copied.seconds),
      importToCopy: ratio(imported.seconds, copied.seconds),
      exportPlusImportToCopy: ratio(exported.seconds + imported.seconds, copied.seconds),
    },
    notes: [
      'export: POST /archive/export over HTTP to the in-process dev server, response piped to a file (not buffered)',
      'import: the archive file streamed to POST /archive/import?overwrite=none on the in-process prod server; the JSON report piped to a file and parsed after the timed part',
      'copy: COPY (SELECT * FROM t) TO STDOUT → COPY t FROM STDIN for assets then asset_references, one transaction on the target, connections opened inside the timed part (pg-copy-streams)',
      'memory: peak minus the value just before the phase (after a forced GC); rss from the main thread and a worker thread every 20 ms, heapUsed and arrayBuffers from the main thread (missed while the main thread is busy: see maxSampleGapMs)',
      'both servers and the client share this process and its 2 cores with PostgreSQL',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Databases

/** A PostgreSQL server to create the databases on: DATABASE_URL's when set, else an embedded one. */
async function provisionServer(tmp, log, cleanup) {
  const prefix = `stagecraft_bench_${randomBytes(6).toString('hex')}`;
  const external = process.env.DATABASE_URL;
  const withAdmin = async (adminUrl, sql) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  const urlOf = (base, db) => {
    const url = new URL(base);
    url.pathname = `/${db}`;
    return url.toString();
  };
  if (external) {
    return {
      mode: 'external',
      async database(role) {
        const db = `${prefix}_${role}`;
        await withAdmin(external, `CREATE DATABASE "${db}"`);
        cleanup.defer(`database ${db}`, () => withAdmin(external, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
        return urlOf(external, db);
      },
    };
  }
  progress('starting embedded PostgreSQL');
  let embedded;
  return {
    mode: 'embedded',
    async database(role) {
      const db = `${prefix}_${role}`;
      if (!embedded) {
        embedded = await startEmbeddedDatabase(path.join(tmp, 'postgres'), log, db);
        cleanup.defer('embedded PostgreSQL', () => embedded.stop());
        return embedded.url;
      }
      await withAdmin(embedded.adminUrl, `CREATE DATABASE "${db}"`);
      return urlOf(embedded.adminUrl, db);
    },
  };
}

async function tableCounts(dataSource) {
  const counts = {};
  for (const t of TABLES) counts[t] = Number((await dataSource.query(`SELECT count(*) AS n FROM ${t}`))[0].n);
  return counts;
}

// ---------------------------------------------------------------------------------------------
// The catalog


// ---------------------------------------------------------------------------------------------
// HTTP


/** One HTTP request; resolves with the response (headers in, body not yet read). */
function request(url, { method = 'POST', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, resolve);
    req.on('error', reject);
    if (body instanceof Readable) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end(body);
  });
}

const readText = async (res) => {
  const chunks = [];
  for await (const chunk of res) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/** POST /archive/export, the ZIP piped to `file` as it arrives (bytes counted, never held). */
async function exportTo(baseUrl, token, selection, file) {
  const t0 = performance.now();
  const res = await request(`${baseUrl}/archive/export`, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(selection),
  });
  if (res.statusCode !== 200) throw new Error(`export failed (HTTP ${res.statusCode}): ${(await readText(res)).slice(0, 500)}`);
  let bytes = 0;
  let firstByteMs = null;
  const count = new Transform({
    transform(chunk, _encoding, callback) {
      firstByteMs ??= performance.now() - t0;
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(res, count, createWriteStream(file));
  return {
    bytes,
    firstByteMs,
    assetCount: Number(res.headers['x-asset-count']),
    chunked: res.headers['transfer-encoding'] === 'chunked' && res.headers['content-length'] === undefined,
  };
}

/** POST /archive/import with the file streamed as the body; the JSON report piped to `reportFile`. */
async function importFrom(baseUrl, token, file, reportFile, trace) {
  const { size } = await stat(file);
  trace.start();
  const res = await request(`${baseUrl}/archive/import?overwrite=none`, {
    headers: { 'content-type': 'application/zip', 'content-length': String(size), authorization: `Bearer ${token}` },
    body: createReadStream(file),
  });
  await pipeline(res, createWriteStream(reportFile));
  return { status: res.statusCode, timings: trace.timings() };
}

/** The manifest of an archive file: entry count and checksums by id. */
function readManifest(file) {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      let files = 0;
      zip.on('error', reject);
      zip.on('entry', (entry) => {
        files++;
        if (entry.fileName !== 'manifest.json') return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          readText(stream).then((text) => {
            const manifest = JSON.parse(text);
            zip.close();
            resolve({ files, entries: new Map(manifest.entries.map((x) => [x.id, x.checksum])), sourceStage: manifest.sourceStage });
          }, reject);
        });
      });
      zip.on('end', () => reject(new Error(`${file} has no manifest.json`)));
      zip.readEntry();
    });
  });
}

function compareManifests(a, b) {
  const missing = [...a.entries.keys()].filter((id) => !b.entries.has(id));
  const extra = [...b.entries.keys()].filter((id) => !a.entries.has(id));
  const different = [...a.entries].filter(([id, sum]) => b.entries.has(id) && b.entries.get(id) !== sum).map(([id]) => id);
  return {
    identical: !missing.length && !extra.length && !different.length,
    entries: a.entries.size,
    reexportEntries: b.entries.size,
    missing: missing.length,
    extra: extra.length,
    differentChecksums: different.length,
    stages: [a.sourceStage, b.sourceStage],
  };
}

// ---------------------------------------------------------------------------------------------
// Profiling

/**
 * With BENCH_CPU_PROFILE=<dir>, `fn` runs under the V8 CPU profiler of this process (the servers
 * run here) and the profile is written to <dir>/archive-<label>.cpuprofile (open it in Chrome's
 * DevTools); without it, `fn` just runs.
 */
async function profiled(label, fn) {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `archive-${label}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline

/** COPY every table from the source into the copy database, in one transaction there. */
async function bulkCopy(fromUrl, toUrl) {
  const from = new pg.Client({ connectionString: fromUrl, application_name: 'stagecraft-bench-copy' });
  const to = new pg.Client({ connectionString: toUrl, application_name: 'stagecraft-bench-copy' });
  await Promise.all([from.connect(), to.connect()]);
  try {
    let bytes = 0;
    await to.query('BEGIN');
    for (const table of TABLES) {
      const out = from.query(copyStreams.to(`COPY (SELECT * FROM ${table}) TO STDOUT`));
      const into = to.query(copyStreams.from(`COPY ${table} FROM STDIN`));
      const count = new Transform({
        transform(chunk, _encoding, callback) {
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(out, count, into);
    }
    await to.query('COMMIT');
    return { bytes };
  } finally {
    await Promise.all([from.end(), to.end()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement

/**
 * The SQL statements a data source sends while tracing: counted by kind (verb, table and, for
 * selects of assets, the first filtered column), with the times of the first START TRANSACTION
 * and the last COMMIT. Keeps no statement text, so it costs the server almost no memory.
 */
function traceStatements(counter) {
  const original = counter.logQuery;
  const kinds = new Map();
  let total = 0;
  let t0 = 0;
  let begin = null;
  let commit = null;
  let active = false;
  counter.logQuery = function (query, parameters) {
    original.call(this, query, parameters);
    if (!active) return;
    total++;
    const kind = statementKind(query);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (kind === 'START TRANSACTION' && begin === null) begin = performance.now() - t0;
    if (kind === 'COMMIT') commit = performance.now() - t0;
  };
  return {
    start() {
      kinds.clear();
      total = 0;
      begin = commit = null;
      t0 = performance.now();
      active = true;
    },
    stop() {
      active = false;
      counter.logQuery = original;
    },
    get total() {
      return total;
    },
    timings: () => (begin !== null && commit !== null ? { begin, commit } : null),
    byKind: () => Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])),
  };
}

function statementKind(query) {
  const q = query.trim();
  const verb = /^(START TRANSACTION|COMMIT|ROLLBACK|SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.exec(q)?.[1]?.toUpperCase() ?? q.slice(0, 30);
  if (['START TRANSACTION', 'COMMIT', 'ROLLBACK'].includes(verb)) return verb;
  if (/pg_advisory_xact_lock/.test(q)) return 'SELECT pg_advisory_xact_lock';
  const table = /\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(q)?.[1] ?? '?';
  let detail = '';
  if (verb === 'SELECT') {
    const column = /\bWHERE\W+(?:"?\w+"?\.)?"?(\w+)"?/i.exec(q)?.[1];
    if (column) detail = ` by ${column}`;
    if (/\bFOR (?:NO KEY )?UPDATE\b/i.test(q)) detail += ' FOR UPDATE';
  }
  return `${verb} ${table}${detail}`;
}

let forceGc;
try {
  v8.setFlagsFromString('--expose-gc');
  forceGc = vm.runInNewContext('gc');
} catch {
  forceGc = undefined;
}

/**
 * A worker thread sampling the process's rss every SAMPLE_MS: unlike a timer on the main thread,
 * it keeps sampling while the main thread (the servers) is busy.
 */
async function memorySampler(cleanup) {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let peak = 0, timer;
     parentPort.on('message', (m) => {
       if (m === 'start') {
         peak = process.memoryUsage.rss();
         clearInterval(timer);
         timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, ${SAMPLE_MS});
         parentPort.postMessage({ started: true });
       } else if (m === 'stop') {
         clearInterval(timer);
         peak = Math.max(peak, process.memoryUsage.rss());
         parentPort.postMessage({ peak });
       }
     });`,
    { eval: true },
  );
  worker.unref();
  cleanup.defer('memory sampler', () => worker.terminate());
  const ask = async (message) => {
    const reply = once(worker, 'message');
    worker.postMessage(message);
    return (await reply)[0];
  };
  return { start: () => ask('start'), stop: async () => (await ask('stop')).peak };
}

/** Runs `fn` as one measured phase: wall time and peak memory over the value just before it. */
async function phase(sampler, fn) {
  forceGc?.();
  forceGc?.();
  await new Promise((resolve) => setImmediate(resolve));
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heapUsed: before.heapUsed, arrayBuffers: before.arrayBuffers };
  let samples = 0;
  let maxGap = 0;
  let last = performance.now();
  const sample = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    samples++;
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  await sampler.start();
  const timer = setInterval(sample, SAMPLE_MS);
  const t0 = performance.now();
  let value;
  try {
    value = await fn();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  sample();
  const workerRssPeak = await sampler.stop();
  peak.rss = Math.max(peak.rss, workerRssPeak);
  const entry = (key) => ({ before: before[key], peak: peak[key], delta: peak[key] - before[key] });
  return {
    value,
    seconds,
    memory: {
      rss: entry('rss'),
      heapUsed: entry('heapUsed'),
      arrayBuffers: entry('arrayBuffers'),
      samples,
      maxSampleGapMs: round(maxGap, 1),
      gcBefore: Boolean(forceGc),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

export function report(r) {
  const row = (label, cells) => `${label.padEnd(26)}${cells.map((c) => String(c).padStart(13)).join('')}`;
  const mem = (m) => [`+${mb(m.rss.delta)}`, `+${mb(m.heapUsed.delta)}`, `+${mb(m.arrayBuffers.delta)}`];
  const phases = r.import.phases;
  const top = Object.entries(r.import.statementsByKind)
    .slice(0, 8)
    .map(([kind, n]) => `    ${String(n).padStart(7)}  ${kind}`);
  return [
    `archive: ${r.catalog.assets.toLocaleString('en')} assets (${r.catalog.references.toLocaleString('en')} references) exported from dev and imported into an empty prod, vs a raw COPY`,
    `  PostgreSQL ${r.environment.postgres} (${r.environment.database}), Node ${r.environment.node}, ${r.environment.cpus} CPUs; catalog built in ${r.catalog.buildSeconds}s`,
    '',
    row('', ['wall s', 'rss MB', 'heapUsed MB', 'arrayBuf MB', 'bytes']),
    row('export (HTTP, streamed)', [r.export.seconds.toFixed(2), ...mem(r.export.memory), fmtBytes(r.export.bytes)]),
    row('import (HTTP)', [r.import.seconds.toFixed(2), ...mem(r.import.memory), fmtBytes(r.export.bytes)]),
    row('COPY baseline (pg)', [r.copy.seconds.toFixed(2), ...mem(r.copy.memory), fmtBytes(r.copy.bytes)]),
    '',
    `  ratios: export/copy ${r.ratio.exportToCopy}×, import/copy ${r.ratio.importToCopy}×, (export+import)/copy ${r.ratio.exportPlusImportToCopy}×`,
    `  memory: peak minus the value just before the phase; longest gap between main-thread samples: export ${r.export.memory.maxSampleGapMs} ms, import ${r.import.memory.maxSampleGapMs} ms`,
    `  export: first byte after ${r.export.firstByteMs} ms, chunked ${r.export.streamed}, ${r.export.sqlStatements} SQL statements`,
    phases
      ? `  import: ${phases.uploadAndCheckSeconds}s upload+check, ${phases.applySeconds}s apply (one transaction), ${phases.commitAndResponseSeconds}s commit+response; ${r.import.sqlStatements.toLocaleString('en')} SQL statements, most frequent:`
      : `  import: ${r.import.sqlStatements.toLocaleString('en')} SQL statements, most frequent:`,
    ...top,
    `  checked: report ${r.verification.importReport.status} with ${r.verification.importReport.assets} assets; re-export from prod has identical checksums: ${r.verification.reexport.identical}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Helpers (as in catalog.mjs)

const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
const fmtBytes = (bytes) => (bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);
