/**
 * Crash safety of import: the real CLI server (`node dist/cli.js serve`) is killed with SIGKILL
 * while it applies a large archive. On restart (same database, same data dir) the instance is
 * exactly as before: the same rows, no import report, the same export checksums.
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf, exportArchive, importArchive, manifestOf } from '../support/archive.js';
import { checkArchive } from '../../src/services/archive/import.js';
import { serveEnv, startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'crash-test-admin-password';
const PASSPHRASE = 'crash test passphrase';
/** Policies and APIs created on the source: 2 × this many assets in the large archive. */
const BULK = 1500;

type Child = ServeProcess;

const children: ChildProcess[] = [];
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
let source: TestServer | undefined;

function childEnv(): NodeJS.ProcessEnv {
  return serveEnv({ DATABASE_URL: database.url, STAGECRAFT_DATA_DIR: dataDir, STAGECRAFT_ADMIN_PASSWORD: PASSWORD, STAGECRAFT_STAGE: 'prod' });
}

const startChild = () => startServeProcess(childEnv(), (child) => void children.push(child));

/** The child, seen as a TestServer by the archive helpers (they only use `url`). */
const asServer = (child: Child) => ({ url: child.url }) as TestServer;

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

const login = async (url: string) =>
  (await gql(url, 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', { p: PASSWORD })).login.token as string;

async function sql<T = any>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every row an import could write. */
const snapshot = async () => ({
  assets: await sql('SELECT * FROM assets ORDER BY id'),
  references: await sql('SELECT * FROM asset_references ORDER BY from_id, to_id'),
  reports: await sql('SELECT * FROM import_reports ORDER BY id'),
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

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-crash-'));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  await source?.stop();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a server killed while it applies an import', () => {
  it('restarts with the instance exactly as before: same rows, no report, same export checksums', async () => {
    // ── the instance under test, with a few assets ───────────────────────────────────────────
    const first = await startChild();
    const token = await login(first.url);
    const create = async (input: Record<string, unknown>) =>
      (await gql(first.url, 'mutation($input: CreateAssetInput!) { createAsset(input: $input) { assetId } }', { input }, token)).createAsset.assetId as string;
    const policy = await create({ type: 'POLICY', name: 'Crash Auth', spec: { kind: 'AUTHENTICATION', config: { header: 'X-Key' } } });
    const secure = await create({ type: 'ALIAS', name: 'crash-db-password', spec: { secure: true, value: 'crash-secret-value' } });
    const backend = await create({ type: 'ALIAS', name: 'crash-backend', spec: { kind: 'ENDPOINT', value: 'http://backend.internal' } });
    const api = await create({ type: 'API', name: 'Crash API', version: '1.0.0', team: 'core', references: [policy, secure, backend] });
    const app = await create({ type: 'APPLICATION', name: 'Crash App', spec: { identifiers: ['crash'] }, references: [api] });
    const selection = { assetIds: [api, app], optional: 'ALL' };

    const before = await exportArchive(asServer(first), token, selection);
    const beforeChecksums = await checksumsOf(before);
    expect(Object.keys(beforeChecksums).sort()).toEqual([policy, secure, backend, api, app].sort());
    const beforeRows = await snapshot();
    expect(beforeRows.assets).toHaveLength(5);
    expect(beforeRows.reports).toHaveLength(0);

    // ── a large archive built elsewhere: the same five assets, changed, and thousands more ──
    source = await startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } });
    const actor = await source.app.services.users.firstSuperAdmin();
    const assets = source.app.services.assets;
    const seeded = await exportArchive(asServer(first), token, { ...selection, passphrase: PASSPHRASE });
    const carried = await importArchive(source, await source.adminToken(), seeded, 'overwrite=none', PASSPHRASE);
    expect(carried.body.status).toBe('SUCCESS');
    await assets.update(actor, policy, { spec: { kind: 'AUTHENTICATION', config: { header: 'X-Other-Key' } } });
    await assets.update(actor, api, { description: 'changed on the source' });
    await assets.update(actor, secure, { spec: { secure: true, value: 'a-different-secret' } });

    const started = Date.now();
    const policies = await inParallel(Array.from({ length: BULK }, (_, i) => i), 8, (i) =>
      assets.create(actor, { type: 'POLICY', name: `bulk policy ${i}`, spec: { kind: 'RATE_LIMIT', config: { requests: i + 1, perSeconds: 60 } } }),
    );
    const apis = await inParallel(policies, 8, (p, i) =>
      assets.create(actor, {
        type: 'API',
        name: `bulk api ${i}`,
        version: '1.0.0',
        description: `bulk API number ${i}`,
        spec: { basePath: `/bulk/${i}`, routes: [{ method: 'GET', path: '/items' }] },
        references: [p.id, policy, backend],
      }),
    );
    const createMs = Date.now() - started;
    // The changed assets come first, so they are replaced early in the apply.
    const large = await exportArchive(source, await source.adminToken(), { assetIds: [api, app, ...apis.map((a) => a.id)], optional: 'ALL', passphrase: PASSPHRASE });
    const largeManifest = await manifestOf(large);
    expect(largeManifest.entries).toHaveLength(2 * BULK + 5);
    expect(largeManifest.entries.slice(0, 4).map((e: any) => e.id).sort()).toEqual([policy, secure, backend, api].sort());
    for (const id of [policy, secure, api]) expect(largeManifest.entries.find((e: any) => e.id === id).checksum).not.toBe(beforeChecksums[id]);

    // ── import it into the instance and kill the server in the middle of applying ───────────
    // The import writes its rows in a few set-based statements, then its report: holding the
    // report table here keeps it inside its transaction, rows written, until it is killed.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE import_reports IN ACCESS EXCLUSIVE MODE');
    const applying = first.waitForLog('archive import: applying');
    const request = fetch(`${first.url}/archive/import?overwrite=all`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip', authorization: `Bearer ${token}`, 'x-archive-passphrase': PASSPHRASE },
      body: new Uint8Array(large),
    }).then(
      async (res) => ({ ok: true as const, status: res.status, body: await res.text() }),
      (err: Error) => ({ ok: false as const, error: err }),
    );
    await applying;
    const applyingAt = Date.now();

    // Wait until the import's transaction has written rows: a backend of this database holding
    // a transaction id and a row-exclusive lock on assets. Nothing else writes meanwhile.
    const watcher = new pg.Client({ connectionString: database.url });
    await watcher.connect();
    let writer: { pid: number; xid: string } | undefined;
    try {
      const deadline = Date.now() + 20_000;
      while (!writer && Date.now() < deadline) {
        const rows = (
          await watcher.query(
            `SELECT a.pid, a.backend_xid::text AS xid
               FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND l.mode = 'RowExclusiveLock' AND l.relation = 'assets'::regclass
              WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()`,
          )
        ).rows as { pid: number; xid: string }[];
        writer = rows[0];
        if (!writer) await new Promise((r) => setTimeout(r, 10));
      }
      expect(writer, `the import never started writing:\n${first.output()}`).toBeDefined();
      // Let it write a while longer, so the early replacements are surely in the transaction.
      await new Promise((r) => setTimeout(r, 100));
      // Still in the middle: the import holds the row locks on the assets it replaces.
      const locked = await watcher.query('SELECT id FROM assets WHERE id = $1 FOR UPDATE SKIP LOCKED', [policy]);
      expect(locked.rows, 'the policy being replaced is not locked by the import').toHaveLength(0);
      const stillWriting = await watcher.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_xid::text = $2', [writer!.pid, writer!.xid]);
      expect(stillWriting.rows).toHaveLength(1);

      first.process.kill('SIGKILL');
      const killedAt = Date.now();
      await holder.query('ROLLBACK');
      await holder.end();
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const answer = await request;
      expect(answer.ok, `the import answered before the kill: ${answer.ok ? answer.body : ''}`).toBe(false);
      // the connection died under the request: a socket error, not an HTTP answer
      const cause = (answer as { error: Error & { cause?: { code?: string; message?: string } } }).error.cause;
      expect(`${cause?.code} ${cause?.message}`).toMatch(/UND_ERR_SOCKET|ECONNRESET|other side closed|socket/i);
      expect(first.logs.map((l) => l.msg)).not.toContain('archive import: done');

      // PostgreSQL notices the dead client and rolls its transaction back.
      const goneBy = Date.now() + 15_000;
      while ((await watcher.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [writer!.pid])).rows.length && Date.now() < goneBy) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await watcher.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [writer!.pid])).rows).toHaveLength(0);
      console.info(
        `archive-crash: created ${2 * BULK} source assets in ${createMs} ms; archive ${(large.length / 1024 / 1024).toFixed(1)} MiB; killed ${killedAt - applyingAt} ms after "applying"`,
      );
    } finally {
      await watcher.end();
    }

    // ── restart on the same database and data dir: nothing of the import is there ───────────
    const second = await startChild();
    let stopped: Awaited<Child['exited']>;
    try {
      expect(await snapshot()).toEqual(beforeRows);
      const secondToken = await login(second.url);
      const again = await exportArchive(asServer(second), secondToken, selection);
      expect(await checksumsOf(again)).toEqual(beforeChecksums);
      expect((await manifestOf(again)).entries).toEqual((await manifestOf(before)).entries);
      const reports = await gql(second.url, '{ importReports { totalCount } }', {}, secondToken);
      expect(reports.importReports.totalCount).toBe(0);
      // The secure value still opens with the instance key from the data dir, and is the old one.
      const seededOnSecond = await exportArchive(asServer(second), secondToken, { ...selection, passphrase: PASSPHRASE });
      const opened = await checkArchive(seededOnSecond, PASSPHRASE);
      expect(opened.documents.get(secure)?.secrets).toEqual({ value: 'crash-secret-value' });
    } finally {
      second.process.kill('SIGTERM');
      stopped = await second.exited;
    }
    expect(stopped, second.output()).toEqual({ code: 0, signal: null });
  }, 90_000);
});
