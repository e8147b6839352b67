/**
 * Set-based import (services/archive/bulk-write): a 2,000-asset catalog (policies, plain and
 * secure aliases, APIs with second versions, applications, optional links closing cycles) comes
 * out on the target row for row and reference for reference; replacing it (renames that hand a
 * name to a new asset included) does too; a dry run decides exactly what the run then does; and
 * the statements an import sends do not grow with the number of assets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementCounter } from '../../src/db/data-source.js';
import type { AuthUser } from '../../src/services/auth.js';
import { exportArchive, importArchive, manifestOf } from '../support/archive.js';
import { sql as sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSPHRASE = 'bulk import passphrase';

let source: TestServer;
let target: TestServer;
let small: TestServer;
let sourceToken: string;
let targetToken: string;
let smallToken: string;
let actor: AuthUser;
const ids = { policies: [] as string[], aliases: [] as string[], apis: [] as string[], applications: [] as string[] };

const sql = (server: TestServer, query: string, params: unknown[] = []) => sqlOn(server.databaseUrl, query, params);

/** `fn` over 0..n-1, eight at a time (the pool holds ten connections). */
async function times<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 8) out.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => fn(i + k)))));
  return out;
}

beforeAll(async () => {
  [source, target, small] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  [sourceToken, targetToken, smallToken] = await Promise.all([source.adminToken(), target.adminToken(), small.adminToken()]);
  actor = await source.app.services.users.firstSuperAdmin();
  const { assets } = source.app.services;
  const create = async (input: Parameters<typeof assets.create>[1]) => (await assets.create(actor, input)).id;
  ids.policies = await times(40, (i) => create({ type: 'POLICY', name: `Policy ${i}`, team: `team-${i % 3}`, spec: { kind: 'RATE_LIMIT', config: { n: i, note: `quote " backslash \\ ünïcödé ${i}` } } }));
  ids.aliases = await times(40, (i) =>
    create({ type: 'ALIAS', name: `backend-${i}`, spec: i % 4 === 0 ? { secure: true, value: `secret-${i}` } : { value: `http://backend-${i}.internal` } }),
  );
  ids.apis = await times(800, (i) =>
    create({
      type: 'API',
      name: `API ${i}`,
      version: '1.0.0',
      description: i % 7 === 0 ? '' : `API number ${i}`,
      spec: { basePath: `/api/${i}`, tags: [`t${i % 5}`] },
      references: [ids.policies[i % 40]!, ids.policies[(i + 1) % 40]!, ids.aliases[i % 40]!],
    }),
  );
  await times(200, (i) => assets.createApiVersion(actor, ids.apis[i * 4]!, '1.1.0'));
  ids.applications = await times(920, (i) =>
    create({ type: 'APPLICATION', name: `App ${i}`, spec: { identifiers: [`app-${i}`] }, references: i % 3 === 0 ? [] : [ids.apis[i % 800]!, ids.apis[(i * 7) % 800]!] }),
  );
  // Optional links closing cycles: an API referencing an application that references it.
  await times(20, (i) => assets.update(actor, ids.apis[(i * 7) % 800]!, { references: [ids.policies[((i * 7) % 800) % 40]!, ids.policies[(((i * 7) % 800) + 1) % 40]!, ids.aliases[((i * 7) % 800) % 40]!, ids.applications[i]!] }));
}, 180_000);
afterAll(() => Promise.all([source?.stop(), target?.stop(), small?.stop()]));

/** Every column a stage's copy must share with the source (sealed secrets differ: each instance's own key). */
const rowsOf = (server: TestServer) =>
  sql(
    server,
    `SELECT id, type, name, description, team, version, natural_key, spec, sealed_secret IS NOT NULL AS sealed, secret_digest, checksum,
            version_set_id, system_version, search_text FROM assets ORDER BY id`,
  );
const referencesOf = (server: TestServer) => sql(server, 'SELECT from_id, to_id, kind FROM asset_references ORDER BY from_id, to_id');

/** The import's statements (the counter counts everything the server sends meanwhile: nothing else runs). */
async function countedImport(server: TestServer, token: string, archive: Buffer, query: string) {
  const counter = statementCounter(server.app.services.db);
  const before = counter.count;
  const result = await importArchive(server, token, archive, query, PASSPHRASE);
  return { ...result, statements: counter.count - before };
}

const allIds = () => sql(source, 'SELECT id FROM assets').then((rows) => rows.map((r: { id: string }) => r.id));

describe('set-based import', () => {
  let fullStatements = 0;
  let fullEntries = 0;

  it('imports 2,000 assets: every row and every reference equals the source', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: await allIds(), optional: 'ALL', passphrase: PASSPHRASE });
    fullEntries = (await manifestOf(archive)).entries.length;
    expect(fullEntries).toBe(2000);
    const { status, body, statements } = await countedImport(target, targetToken, archive, 'overwrite=none');
    expect(status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.status).toBe('SUCCESS');
    expect(body.assets.filter((a: { status: string }) => a.status === 'CREATED')).toHaveLength(2000);
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
    expect(await referencesOf(target)).toEqual(await referencesOf(source));
    // The secure values came in, sealed with the target's key.
    const opened = await Promise.all(
      ids.aliases.filter((_, i) => i % 4 === 0).map(async (id) => (await target.app.services.assets.get(id)).sealedSecret),
    );
    expect(opened.every((s) => s !== null)).toBe(true);
    fullStatements = statements;
  });

  it('sends O(batches) statements: importing 4× the assets adds almost none', async () => {
    // A quarter of the catalog: the policies, aliases and the first APIs (their required closure).
    const quarter = [...ids.policies, ...ids.aliases, ...ids.apis.slice(0, 420)];
    const archive = await exportArchive(source, sourceToken, { assetIds: quarter, optional: 'NONE', passphrase: PASSPHRASE });
    const entries = (await manifestOf(archive)).entries.length;
    const { status, body, statements } = await countedImport(small, smallToken, archive, 'overwrite=none');
    expect(status).toBe(200);
    expect(body.status).toBe('SUCCESS');
    expect(fullEntries / entries).toBeGreaterThanOrEqual(3.5);
    // One statement per asset and per reference was ~1.8 per asset: thousands here.
    expect(fullStatements).toBeLessThan(40);
    expect(fullStatements - statements).toBeLessThanOrEqual(8);
    console.log(`archive-bulk: import of ${entries} assets sent ${statements} statements, of ${fullEntries} assets ${fullStatements}`);
  });

  it('replaces set-based too (a renamed asset hands its name to a new one), and the dry run decided exactly that', async () => {
    const { assets } = source.app.services;
    // 300 changed APIs, new references included.
    await times(300, (i) => assets.update(actor, ids.apis[i]!, { description: `changed ${i}`, references: [ids.policies[(i + 5) % 40]!, ids.aliases[(i + 3) % 40]!] }));
    // Policy 0 is renamed, and a new asset takes its old name: the target must move the key first.
    await assets.update(actor, ids.policies[0]!, { name: 'Policy 0 (renamed)' });
    await assets.create(actor, { type: 'POLICY', name: 'Policy 0', spec: { kind: 'CORS' } });
    const archive = await exportArchive(source, sourceToken, { assetIds: await allIds(), optional: 'ALL', passphrase: PASSPHRASE });

    const plan = await importArchive(target, targetToken, archive, 'overwrite=all&dryRun=true', PASSPHRASE);
    expect(plan.status).toBe(200);
    const { status, body, statements } = await countedImport(target, targetToken, archive, 'overwrite=all');
    expect(status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.status).toBe('SUCCESS');
    const byStatus = (report: { assets: { status: string }[] }) =>
      report.assets.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
    expect(byStatus(body)).toEqual({ REPLACED: 301, CREATED: 1, UNCHANGED: 1699 });
    const decisions = (report: { assets: { id: string; action: string; explanation: string }[] }) => report.assets.map((a) => [a.id, a.action, a.explanation]);
    expect(decisions(body)).toEqual(decisions(plan.body));
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
    expect(await referencesOf(target)).toEqual(await referencesOf(source));
    expect(statements).toBeLessThan(40);
  });
});
