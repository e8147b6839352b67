/**
 * An import into a stage that holds none of its assets queues its statements on its one
 * transaction instead of awaiting each (services/archive/bulk-write): asset rows in batches that
 * start small and double (PostgreSQL starts storing early), then every reference batch, while the
 * report is built. Pinned here: the batch sizes, and that a statement failing in the middle of
 * the queue (a name taken by another writer meanwhile, a reference refused) fails the import
 * with the first statement's error and leaves nothing behind; that a failure of the import itself
 * while batches are queued sends none of them after the transaction ended (one would commit on
 * its own); and that the stage imports normally after.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { statementCounter } from '../../src/db/data-source.js';
import { exportArchive, importArchive } from '../support/archive.js';
import { sql as sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const POLICIES = 700;
const APIS = 300;

let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let archive: Buffer;

const sql = (server: TestServer, query: string, params: unknown[] = []) => sqlOn(server.databaseUrl, query, params);

beforeAll(async () => {
  [source, target] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  [sourceToken, targetToken] = await Promise.all([source.adminToken(), target.adminToken()]);
  const actor = await source.app.services.users.firstSuperAdmin();
  const { assets } = source.app.services;
  const policies: string[] = [];
  for (let i = 0; i < POLICIES; i += 10) {
    policies.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => assets.create(actor, { type: 'POLICY', name: `Policy ${i + k}`, spec: { kind: 'CORS' } }).then((a) => a.id)))));
  }
  for (let i = 0; i < APIS; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        assets.create(actor, { type: 'API', name: `API ${i + k}`, version: '1.0.0', spec: { basePath: `/api/${i + k}` }, references: [policies[i + k]!, policies[(i + k + 1) % POLICIES]!] }),
      ),
    );
  }
  const ids = (await sql(source, 'SELECT id FROM assets')).map((r: { id: string }) => r.id);
  archive = await exportArchive(source, sourceToken, { assetIds: ids, optional: 'NONE' });
}, 120_000);
afterAll(() => Promise.all([source?.stop(), target?.stop()]));

const heldByTarget = async () => {
  const [row] = await sql(
    target,
    `SELECT (SELECT count(*)::int FROM assets) AS assets, (SELECT count(*)::int FROM asset_references) AS refs,
            (SELECT count(*)::int FROM import_reports) AS reports`,
  );
  return row;
};

describe('queued import writes', () => {
  it('a failure in the middle of the queued asset batches: the first error (CONFLICT), nothing written', async () => {
    // Another writer takes a name while the import runs: PostgreSQL refuses the row holding it.
    // Policies come first in apply order; Policy 600 sits in the third batch, with more queued behind it.
    await sql(
      target,
      `CREATE FUNCTION taken_meanwhile() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.name = 'Policy 600' THEN RAISE unique_violation USING MESSAGE = 'taken meanwhile'; END IF; RETURN NEW; END $$`,
    );
    await sql(target, 'CREATE TRIGGER taken_meanwhile BEFORE INSERT ON assets FOR EACH ROW EXECUTE FUNCTION taken_meanwhile()');
    try {
      const { status, body } = await importArchive(target, targetToken, archive);
      expect(status, JSON.stringify(body)).toBe(409);
      expect(body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/another writer took the name/) });
      expect(await heldByTarget()).toEqual({ assets: 0, refs: 0, reports: 0 });
    } finally {
      await sql(target, 'DROP TRIGGER taken_meanwhile ON assets');
      await sql(target, 'DROP FUNCTION taken_meanwhile()');
    }
  });

  it('a failure in a queued reference batch: the import fails and writes nothing', async () => {
    await sql(target, `CREATE FUNCTION refuse_reference() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE check_violation USING MESSAGE = 'refused'; END $$`);
    await sql(target, 'CREATE TRIGGER refuse_reference BEFORE INSERT ON asset_references FOR EACH ROW EXECUTE FUNCTION refuse_reference()');
    try {
      const { status, body } = await importArchive(target, targetToken, archive);
      expect(status, JSON.stringify(body)).toBe(500);
      expect(body.error.code).toBe('INTERNAL_SERVER_ERROR');
      expect(await heldByTarget()).toEqual({ assets: 0, refs: 0, reports: 0 });
    } finally {
      await sql(target, 'DROP TRIGGER refuse_reference ON asset_references');
      await sql(target, 'DROP FUNCTION refuse_reference()');
    }
  });

  it('an error while deciding, with batches in flight and queued: none is sent after the rollback', async () => {
    // The first batch waits on a lock while the rest is decided and queued; then deciding fails
    // with an error of the import's own (not a refusal of one asset).
    const locker = new pg.Client({ connectionString: target.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE assets IN SHARE MODE');
    let calls = 0;
    const { assets } = target.app.services;
    const prepare = assets.prepare.bind(assets);
    const spy = vi.spyOn(assets, 'prepare').mockImplementation((...args) => {
      if (++calls === 600) throw new Error('injected failure while deciding');
      return prepare(...args);
    });
    try {
      const release = setTimeout(() => void locker.query('COMMIT'), 1500);
      const { status, body } = await importArchive(target, targetToken, archive);
      clearTimeout(release);
      expect(status, JSON.stringify(body)).toBe(500);
      expect(calls).toBe(600);
      // Later batches would have run after the ROLLBACK, each committing on its own.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await heldByTarget()).toEqual({ assets: 0, refs: 0, reports: 0 });
    } finally {
      spy.mockRestore();
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
  });

  it('then imports everything, asset rows in batches of 125, 250, 500 and the rest', async () => {
    const counter = statementCounter(target.app.services.db);
    const { result, statements } = await counter.record(() => importArchive(target, targetToken, archive));
    expect(result.status, JSON.stringify(result.body).slice(0, 300)).toBe(200);
    expect(result.body.status).toBe('SUCCESS');
    const rowsPerInsert = statements
      .filter((s) => s.query.startsWith('INSERT INTO assets'))
      .map((s) => (JSON.parse(String(s.parameters[0])) as unknown[]).length);
    expect(rowsPerInsert).toEqual([125, 250, 500, POLICIES + APIS - 875]);
    expect(await heldByTarget()).toEqual({ assets: POLICIES + APIS, refs: 2 * APIS, reports: 1 });
  });

  it('two imports of the same new assets in different orders, at once: one after the other, both succeed, no deadlock', async () => {
    await sql(target, 'TRUNCATE assets, asset_references, rollbacks, import_reports CASCADE');
    const ids = (await sql(source, `SELECT id FROM assets WHERE type = 'POLICY' ORDER BY name`)).map((r: { id: string }) => r.id);
    const [forward, backward] = await Promise.all([
      exportArchive(source, sourceToken, { assetIds: ids, optional: 'NONE' }),
      exportArchive(source, sourceToken, { assetIds: [...ids].reverse(), optional: 'NONE' }),
    ]);
    const answers = await Promise.all([importArchive(target, targetToken, forward), importArchive(target, targetToken, backward)]);
    for (const { status, body } of answers) {
      expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
      expect(body.status).toBe('SUCCESS');
    }
    // The later one found what the earlier one created: every asset created once, then unchanged.
    const created = answers.map(({ body }) => body.assets.filter((a: { status: string }) => a.status === 'CREATED').length).sort((a, b) => a - b);
    expect(created).toEqual([0, POLICIES]);
    expect(await heldByTarget()).toEqual({ assets: POLICIES, refs: 0, reports: 2 });
  });

  it('an import whose client goes away while it waits for its turn writes nothing; one waiting with its client there goes on', async () => {
    await sql(target, 'TRUNCATE assets, asset_references, rollbacks, import_reports CASCADE');
    // Another import holds the stage (its turn is an advisory lock): these two wait behind it.
    const holder = new pg.Client({ connectionString: target.databaseUrl });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(hashtext('archive-import'))`);
    try {
      const leaving = new AbortController();
      const left = fetch(`${target.url}/archive/import?overwrite=none`, {
        method: 'POST',
        headers: { 'content-type': 'application/zip', authorization: `Bearer ${targetToken}` },
        body: new Uint8Array(archive),
        signal: leaving.signal,
      }).catch((err: unknown) => err);
      const staying = importArchive(target, targetToken, archive);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      leaving.abort();
      expect(await left).toMatchObject({ name: 'AbortError' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query(`SELECT pg_advisory_unlock(hashtext('archive-import'))`);
      const { status, body } = await staying;
      expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
      expect(body.status).toBe('SUCCESS');
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Only the import whose client stayed was applied.
      expect(await heldByTarget()).toEqual({ assets: POLICIES + APIS, refs: 2 * APIS, reports: 1 });
    } finally {
      await holder.end();
    }
  });
});
