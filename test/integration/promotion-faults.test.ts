/**
 * Promotions when a process dies half-way, with real processes (`node dist/cli.js serve`) killed
 * by SIGKILL:
 *  1. the SOURCE dies while a stage's import is in flight: on restart (same database, same data
 *     dir) the retried job marks that stage FAILURE "interrupted", carries on with the stages not
 *     yet started, finishes the promotion and frees the stage for the next promotion;
 *  2. the TARGET dies while it applies the import: the stage fails STAGE_UNREACHABLE, the target
 *     restarts with exactly the rows it had, and a repromote then succeeds.
 */
import type { ChildProcess } from 'node:child_process';
import { rawKey } from '../../src/graphql/node-id.js';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { productVersion } from '../../src/version.js';
import { killChildren, serveEnv, startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createTestDatabase } from '../support/database.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'fault-test-admin-password';

const PROMOTE = 'mutation($input: PromoteInput!) { promote(input: $input) { id status } }';
const PROMOTION = `query($id: ID!) { promotion(id: $id) { id name status repromotedFrom
  stages { stageName status code reason report { assetId status } } } }`;

// ── clean-up: nothing outlives a test, passing or failing ──────────────────────────────────────

const children = new Set<ChildProcess>();
let cleanups: (() => Promise<unknown> | unknown)[] = [];
const defer = (fn: () => Promise<unknown> | unknown) => cleanups.push(fn);

const killAll = () => killChildren(children);

afterEach(async () => {
  await killAll();
  const pending = cleanups.reverse();
  cleanups = [];
  for (const fn of pending) {
    try {
      await fn();
    } catch (err) {
      console.warn('promotion-faults clean-up failed:', err);
    }
  }
});
afterAll(killAll);

// ── helpers ────────────────────────────────────────────────────────────────────────────────────

type Child = ServeProcess;

/** Environment of a child: nothing of the test run's own configuration leaks in. */
const childEnv = (extra: Record<string, string>) => serveEnv({ STAGECRAFT_ADMIN_PASSWORD: PASSWORD, ...extra });

const startChild = (env: Record<string, string>) => startServeProcess(childEnv(env), (child) => void children.add(child));

async function sigkill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

async function sigterm(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  expect(await child.exited, child.output().slice(-3000)).toEqual({ code: 0, signal: null });
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const login = async (url: string, password = PASSWORD) =>
  (await gql(url, 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', { p: password })).login.token as string;

const addStage = (url: string, token: string, name: string, stageUrl: string, password: string) =>
  gql(url, 'mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name, url: stageUrl, username: 'admin', password } }, token);

async function sql<T = any>(url: string, query: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a failure naming `what()` after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The promotion once it is neither QUEUED nor RUNNING. */
const settled = (url: string, token: string, id: string, timeoutMs: number) =>
  waitFor(
    `promotion ${id} to finish`,
    async () => {
      const { promotion } = await gql(url, PROMOTION, { id }, token);
      return ['QUEUED', 'RUNNING'].includes(promotion.status) ? undefined : promotion;
    },
    timeoutMs,
    100,
  );

const tempDir = async (prefix: string) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

const freshDatabase = async () => {
  const db = await createTestDatabase();
  defer(() => db.drop());
  return db;
};

/**
 * A stand-in stage that answers `login` and `{ serverInfo … me … }` as this very release would,
 * reads the archive of `/archive/import` to the end and then never answers it (while `holding`);
 * afterwards it answers imports with an empty SUCCESS report.
 */
async function holdingStage(name: string) {
  let holding = true;
  let imports = 0;
  let arrived!: () => void;
  const importArrived = new Promise<void>((r) => (arrived = r));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/archive/import')) {
        imports++;
        if (holding) return arrived(); // never answered
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ id: randomUUID(), status: 'SUCCESS', assets: [] }));
      }
      res.setHeader('content-type', 'application/json');
      if (body.includes('login')) res.end(JSON.stringify({ data: { login: { token: 'held-token' } } }));
      else res.end(JSON.stringify({ data: { serverInfo: { stage: name, productVersion }, me: { privileges: ['MANAGE_PROMOTIONS', 'EXPORT_IMPORT'] } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    importArrived,
    imports: () => imports,
    release() {
      holding = false;
    },
  };
}

/** Every row an import could write, in a stable order (rollbacks too, where that table exists). */
const snapshot = async (url: string) => ({
  assets: await sql(url, 'SELECT * FROM assets ORDER BY id'),
  references: await sql(url, 'SELECT * FROM asset_references ORDER BY from_id, to_id'),
  reports: await sql(url, 'SELECT * FROM import_reports ORDER BY id'),
  rollbacks: (await sql(url, "SELECT to_regclass('rollbacks') IS NOT NULL AS present"))[0].present ? await sql(url, 'SELECT * FROM rollbacks ORDER BY id') : [],
});

/** Runs `fn` over `items` with at most `width` at a time. */
async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

// ── the tests ──────────────────────────────────────────────────────────────────────────────────

describe('promotion faults', () => {
  it('source killed mid-promotion: on restart the interrupted stage fails, the rest runs, the stage is free again', async () => {
    const t0 = Date.now();
    const db = await freshDatabase();
    const dataDir = await tempDir('stagecraft-faults-source-');
    const sourceEnv = {
      DATABASE_URL: db.url,
      STAGECRAFT_DATA_DIR: dataDir,
      STAGECRAFT_JOB_LEASE_MS: '1500',
      STAGECRAFT_STAGE: 'dev',
      STAGECRAFT_SEED: 'true',
    };
    // Stages run in name order: "held" (never answers the import) before "prod" (a real instance).
    const [prod, held, first] = await Promise.all([
      startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }).then((s) => (defer(() => s.stop()), s)),
      holdingStage('held'),
      startChild(sourceEnv),
    ]);
    const token = await login(first.url);
    await addStage(first.url, token, 'held', held.url, 'any-password');
    await addStage(first.url, token, 'prod', prod.url, ADMIN_PASSWORD);
    const petstoreId = (await gql(first.url, '{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, token)).assets
      .edges[0].node.assetId as string;

    const queued = await gql(
      first.url,
      PROMOTE,
      { input: { name: 'cut short', assetIds: [petstoreId], targetStages: ['held', 'prod'], overwriteAssets: true, overwriteAliases: true } },
      token,
    );
    const id = rawKey(queued.promote.id as string); // the UUID: SQL below reads it
    const stageStatus = async (stage: string) =>
      (await sql(db.url, 'SELECT status FROM promotion_stages WHERE promotion_id = $1 AND stage_name = $2', [id, stage]))[0]?.status as string;

    // The archive reached "held", the source waits for its answer: the job is in the middle.
    await withTimeout(held.importArrived, 20_000, () => `no import reached the held stage:\n${first.output().slice(-3000)}`);
    await waitFor('the held stage to be RUNNING', async () => (await stageStatus('held')) === 'RUNNING', 5_000);
    expect(await stageStatus('prod')).toBe('QUEUED');
    await sigkill(first);
    const killedAt = Date.now();
    const [jobBefore] = await sql(db.url, "SELECT id, status, attempts FROM jobs WHERE payload->>'promotionId' = $1", [id]);
    expect(jobBefore).toMatchObject({ status: 'RUNNING', attempts: 1 });

    // ── restart on the same database and data dir ────────────────────────────────────────────
    const second = await startChild(sourceEnv);
    const restartedAt = Date.now();
    const secondToken = await login(second.url);
    const promotion = await settled(second.url, secondToken, id, 20_000);
    const settledAt = Date.now();
    const byStage = Object.fromEntries(promotion.stages.map((s: any) => [s.stageName, s]));
    expect(byStage.held).toMatchObject({ status: 'FAILURE', code: 'INTERRUPTED', reason: expect.stringMatching(/interrupted/) });
    expect(byStage.prod).toMatchObject({ status: 'SUCCESS' });
    expect(byStage.prod.report.map((a: any) => a.assetId)).toContain(petstoreId);
    expect(promotion.status).toBe('FAILURE');
    // the retry did not send the archive to "held" again, and the job is done (second attempt)
    expect(held.imports()).toBe(1);
    const [jobAfter] = await sql(db.url, 'SELECT status, attempts, locked_by FROM jobs WHERE id = $1', [jobBefore.id]);
    expect(jobAfter).toMatchObject({ status: 'DONE', attempts: 2, locked_by: null });
    expect(await sql(db.url, "SELECT stage_name FROM promotion_stages WHERE status IN ('QUEUED', 'RUNNING')")).toEqual([]);
    // prod really has it
    const onProd = await prod.gql('query($id: ID!) { asset(id: $id) { id: assetId name } }', { id: petstoreId }, await prod.adminToken());
    expect(onProd.data!.asset).toEqual({ id: petstoreId, name: 'Swagger Petstore' });
    // the progress stream tells the same story and ends
    const phases = (await gql(second.url, 'query($id: ID!) { promotionEvents(promotionId: $id) { stageName phase message } }', { id }, secondToken)).promotionEvents;
    expect(phases.at(-1)).toMatchObject({ stageName: null, phase: 'COMPLETED', message: 'failed on held' });
    expect(phases.filter((e: any) => e.stageName === 'held').map((e: any) => e.phase)).toEqual(['QUEUED', 'STARTED', 'EXPORTED', 'FAILED']);

    // ── the stage is free: a new promotion to it is queued (no LOCKED) and runs ───────────────
    held.release();
    const again = await gql(second.url, PROMOTE, { input: { name: 'after the crash', assetIds: [petstoreId], targetStages: ['held'] } }, secondToken);
    expect(again.promote.status).toBe('QUEUED');
    const rerun = await settled(second.url, secondToken, again.promote.id, 15_000);
    expect(rerun).toMatchObject({ status: 'SUCCESS', stages: [{ stageName: 'held', status: 'SUCCESS' }] });
    expect(held.imports()).toBe(2);

    await sigterm(second);
    console.info(
      `promotion-faults[source]: killed ${killedAt - t0} ms in; restarted in ${restartedAt - killedAt} ms; settled ${settledAt - restartedAt} ms after restart; total ${Date.now() - t0} ms`,
    );
  });

  it('target killed mid-import: the stage fails STAGE_UNREACHABLE, the target keeps its rows, a repromote succeeds', async () => {
    const BULK = 1000; // APIs, sharing a few policies: the import takes seconds
    const t0 = Date.now();
    const targetDb = await freshDatabase();
    const targetDir = await tempDir('stagecraft-faults-target-');
    const targetEnv = { DATABASE_URL: targetDb.url, STAGECRAFT_DATA_DIR: targetDir, STAGECRAFT_STAGE: 'prod' };
    const [target, dev] = await Promise.all([
      startChild(targetEnv),
      startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }).then((s) => (defer(() => s.stop()), s)) as Promise<TestServer>,
    ]);

    // The target holds a few assets of its own.
    const targetToken = await login(target.url);
    for (const name of ['target-only one', 'target-only two']) {
      await gql(target.url, 'mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: { type: 'POLICY', name, spec: { kind: 'CORS', config: { allowOrigins: ['https://t.example'] } } } }, targetToken);
    }

    // A large selection on dev, so the import takes a while.
    const devToken = await dev.adminToken();
    const actor = await dev.app.services.users.firstSuperAdmin();
    const assets = dev.app.services.assets;
    const petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken)).data!.assets
      .edges[0].node.assetId as string;
    const policies = await inParallel(Array.from({ length: 10 }, (_, i) => i), 5, (i) =>
      assets.create(actor, { type: 'POLICY', name: `fault policy ${i}`, spec: { kind: 'RATE_LIMIT', config: { requests: i + 1, perSeconds: 60 } } }),
    );
    const apis = await inParallel(Array.from({ length: BULK }, (_, i) => i), 8, (i) =>
      assets.create(actor, {
        type: 'API',
        name: `fault api ${i}`,
        version: '1.0.0',
        description: `fault API number ${i}`,
        spec: { basePath: `/fault/${i}`, routes: [{ method: 'GET', path: '/items' }] },
        references: [policies[i % policies.length]!.id],
      }),
    );
    const createdAt = Date.now();
    const assetIds = [petstoreId, ...apis.map((a) => a.id)];
    const closure = await dev.app.services.exporter.selectionIds({ assetIds, optional: 'NONE' });
    expect(closure.length).toBeGreaterThan(BULK + 10);

    expect((await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name: 'prod', url: target.url, username: 'admin', password: PASSWORD } }, devToken)).errors).toBeUndefined();
    const before = await snapshot(targetDb.url);
    expect(before.assets).toHaveLength(2);
    expect(before.reports).toHaveLength(0);

    // ── promote, and kill the target while it applies the archive ────────────────────────────
    // The import writes its rows in a few set-based statements, then its report: holding the
    // report table here keeps it inside its transaction, rows written, until it is killed.
    const holder = new pg.Client({ connectionString: targetDb.url });
    await holder.connect();
    defer(() => holder.end());
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE import_reports IN ACCESS EXCLUSIVE MODE');
    const applying = target.waitForLog('archive import: applying', 45_000);
    const res = await dev.gql(PROMOTE, { input: { name: 'big push', assetIds, targetStages: ['prod'], overwriteAssets: true, overwriteAliases: true } }, devToken);
    expect(res.errors).toBeUndefined();
    const id = res.data!.promote.id as string;
    await applying;
    const applyingAt = Date.now();
    // Wait until the import's transaction has written rows: a backend holding a transaction id and
    // a row-exclusive lock on assets. Nothing else writes assets on the target meanwhile.
    const writer = await waitFor(
      'the import to start writing',
      async () =>
        (
          await sql<{ pid: number }>(
            targetDb.url,
            `SELECT a.pid FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND l.mode = 'RowExclusiveLock' AND l.relation = 'assets'::regclass
              WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()`,
          )
        )[0],
      15_000,
      10,
    );
    // Let it write a while longer; it is still in that transaction when it dies.
    await sleep(300);
    expect(await sql(targetDb.url, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_xid IS NOT NULL', [writer.pid])).toHaveLength(1);
    await sigkill(target);
    const killedAt = Date.now();
    await holder.query('ROLLBACK');
    expect(target.logs.map((l) => l.msg)).not.toContain('archive import: done');

    const failed = await settled(dev.url, devToken, id, 20_000);
    expect(failed.status).toBe('FAILURE');
    expect(failed.stages[0]).toMatchObject({ stageName: 'prod', status: 'FAILURE', code: 'STAGE_UNREACHABLE', reason: expect.stringMatching(/^stage prod\b/) });
    expect(failed.stages[0].report).toEqual([]);

    // PostgreSQL notices the dead client and rolls its transaction back.
    await waitFor('the import backend to go', async () => (await sql(targetDb.url, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1', [writer.pid])).length === 0, 15_000);

    // ── restart the target: exactly the rows it had ──────────────────────────────────────────
    const second = await startChild(targetEnv);
    expect(await snapshot(targetDb.url)).toEqual(before);
    const secondToken = await login(second.url);
    const seen = await gql(second.url, '{ assets(first: 1) { totalCount } importReports { totalCount } }', {}, secondToken);
    expect(seen).toEqual({ assets: { totalCount: 2 }, importReports: { totalCount: 0 } });

    // ── the target is back (on a new port): repromote ────────────────────────────────────────
    // a new URL needs the stage password again (stored credentials never follow a changed URL)
    expect((await dev.gql('mutation($u: String!, $p: String!) { updateStage(name: "prod", input: { url: $u, password: $p }) { url } }', { u: second.url, p: PASSWORD }, devToken)).errors).toBeUndefined();
    const repromoted = await dev.gql('mutation($id: ID!) { repromote(promotionId: $id, targetStages: ["prod"], name: "big push, again") { id repromotedFrom } }', { id }, devToken);
    expect(repromoted.errors).toBeUndefined();
    expect(repromoted.data!.repromote.repromotedFrom).toBe(rawKey(id)); // the UUID
    const repromotedAt = Date.now();
    const done = await settled(dev.url, devToken, repromoted.data!.repromote.id, 45_000);
    const doneAt = Date.now();
    expect(done.status).toBe('SUCCESS');
    expect(done.stages[0]).toMatchObject({ stageName: 'prod', status: 'SUCCESS', code: null });
    // the closure, and petstore-backend's variant for qa travelling along (inert on prod)
    expect(done.stages[0].report).toHaveLength(closure.length + 1);
    const present = await sql(targetDb.url, 'SELECT count(*)::int AS n FROM assets WHERE id = ANY($1::uuid[])', [closure]);
    expect(present[0].n).toBe(closure.length);
    const after = await snapshot(targetDb.url);
    expect(after.assets).toHaveLength(closure.length + 1 + 2);
    expect(after.reports).toHaveLength(1);

    await sigterm(second);
    console.info(
      `promotion-faults[target]: set up (2 servers, ${closure.length} assets) in ${createdAt - t0} ms; killed ${killedAt - applyingAt} ms after "applying"; repromote took ${doneAt - repromotedAt} ms; total ${Date.now() - t0} ms`,
    );
  });
});
