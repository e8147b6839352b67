/**
 * enableImportBackup: with the setting on, an import that overwrites an API keeps the replaced
 * version, listed by importBackups and put back by restoreImportBackup (which keeps the version
 * it replaces in turn). With it off, imports keep nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf, exportArchive, importArchive } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

let source: TestServer;
let withBackup: TestServer;
let without: TestServer;
const tokens = new Map<TestServer, string>();

beforeAll(async () => {
  [source, withBackup, without] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa', STAGECRAFT_ENABLE_IMPORT_BACKUP: 'true' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  for (const s of [source, withBackup, without]) tokens.set(s, await s.adminToken());
});
afterAll(() => Promise.all([source?.stop(), withBackup?.stop(), without?.stop()]));

const BACKUPS = 'query($a: ID) { importBackups(assetId: $a) { id assetId type name version createdBy restoredAt restoredBy } }';

describe('enableImportBackup', () => {
  it('keeps the API an import overwrites, lists it, and restores it exactly', async () => {
    const created = await source.gql('mutation { createAsset(input: { type: API, name: "Backup API", version: "1.0", spec: { basePath: "/v1" } }) { assetId } }', {}, tokens.get(source));
    const id = created.data!.createAsset.assetId as string; // the cross-stage UUID
    const first = await exportArchive(source, tokens.get(source)!, { assetIds: [id] });
    await source.gql('mutation($id: ID!) { updateAsset(id: $id, input: { spec: { basePath: "/v2" } }) { id } }', { id }, tokens.get(source));
    const second = await exportArchive(source, tokens.get(source)!, { assetIds: [id] });

    for (const target of [withBackup, without]) {
      const token = tokens.get(target)!;
      expect((await importArchive(target, token, first, 'overwrite=all')).body.assets[0].status).toBe('CREATED');
      expect((await importArchive(target, token, second, 'overwrite=all')).body.assets[0].status).toBe('REPLACED');
      // unchanged: nothing replaced, nothing kept
      expect((await importArchive(target, token, second, 'overwrite=all')).body.assets[0].status).toBe('UNCHANGED');
    }
    expect((await without.gql(BACKUPS, {}, tokens.get(without))).data!.importBackups).toEqual([]);

    const listed = (await withBackup.gql(BACKUPS, { a: id }, tokens.get(withBackup))).data!.importBackups;
    expect(listed).toEqual([{ id: expect.any(String), assetId: id, type: 'API', name: 'Backup API', version: '1.0', createdBy: 'admin', restoredAt: null, restoredBy: null }]);

    const restored = await withBackup.gql('mutation($id: ID!) { restoreImportBackup(id: $id) { restoredAt restoredBy } }', { id: listed[0].id }, tokens.get(withBackup));
    expect(restored.data!.restoreImportBackup).toEqual({ restoredAt: expect.any(String), restoredBy: 'admin' });
    const asset = (await withBackup.gql('query($id: ID!) { asset(id: $id) { checksum ... on ApiAsset { basePath } } }', { id }, tokens.get(withBackup))).data!.asset;
    expect(asset).toEqual({ basePath: '/v1', checksum: (await checksumsOf(first))[id] });
    // the version the restore replaced is kept in turn, so the restore can be undone
    expect((await withBackup.gql(BACKUPS, { a: id }, tokens.get(withBackup))).data!.importBackups).toHaveLength(2);
  });

  it('refuses unknown or malformed backup ids with a code, writing nothing', async () => {
    const before = (await withBackup.gql(BACKUPS, {}, tokens.get(withBackup))).data!.importBackups;
    for (const id of ['nope', '00000000-0000-4000-8000-000000000000', 'x'.repeat(10_000)]) {
      const res = await withBackup.gql('mutation($id: ID!) { restoreImportBackup(id: $id) { id } }', { id }, tokens.get(withBackup));
      // a well-formed unknown id is NOT_FOUND; a malformed one may be refused at the edge (BAD_USER_INPUT)
      expect(res.errors?.[0]?.extensions?.code, id.slice(0, 40)).toMatch(id.startsWith('0000') ? /^NOT_FOUND$/ : /^(NOT_FOUND|BAD_USER_INPUT)$/);
    }
    expect((await withBackup.gql(BACKUPS, { a: 'nope' }, tokens.get(withBackup))).errors?.[0]?.extensions?.code).toMatch(/^(NOT_FOUND|BAD_USER_INPUT)$/);
    expect((await withBackup.gql(BACKUPS, {}, tokens.get(withBackup))).data!.importBackups).toEqual(before);
  });
});
