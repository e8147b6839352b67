import { sql as sqlOn } from '../support/database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../src/graphql/node-id.js';
import { openPassphraseKey, secretContext } from '../../src/services/archive/format.js';
import { checksumsOf, exportArchive, importArchive, manifestOf, unzip, zip } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let petstoreId: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  [sourceToken, targetToken] = await Promise.all([source.adminToken(), target.adminToken()]);
  const res = await source.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, sourceToken);
  petstoreId = res.data!.assets.edges[0].node.assetId;
});
afterAll(() => Promise.all([source?.stop(), target?.stop()]));

const sql = (server: TestServer, query: string, params: unknown[] = []) => sqlOn(server.databaseUrl, query, params);

/** Everything an import could write, to prove a refused import wrote nothing. */
const snapshot = async (server: TestServer) => ({
  assets: await sql(server, 'SELECT id, checksum, updated_at FROM assets ORDER BY id'),
  references: await sql(server, 'SELECT * FROM asset_references ORDER BY from_id, to_id'),
  reports: await sql(server, 'SELECT id FROM import_reports ORDER BY id'),
});

describe('export', () => {
  it('writes a manifest and one document per asset, with required dependencies, and no secure values without a passphrase', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId] });
    const files = await unzip(archive);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest).toMatchObject({ formatVersion: 1, productVersion: expect.any(String), sourceStage: 'dev', secrets: null });
    expect(Date.parse(manifest.exportedAt)).not.toBeNaN();
    expect(manifest.entries.map((e: any) => e.type).sort()).toEqual(['ALIAS', 'ALIAS', 'API', 'POLICY', 'POLICY', 'POLICY']);
    for (const entry of manifest.entries) {
      expect(entry.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(files.has(`assets/${entry.id}.json`)).toBe(true);
    }
    expect(files.size).toBe(manifest.entries.length + 1);
    expect(archive.includes(Buffer.from('demo-only-secret'))).toBe(false);
    const secureDoc = [...files.values()].map((b) => JSON.parse(b.toString())).find((d) => d.name === 'petstore-db-password');
    expect(secureDoc.secret).toBeNull();
  });

  it('follows optional dependencies by choice and selects by filter', async () => {
    const all = await manifestOf(await exportArchive(source, sourceToken, { assetIds: [petstoreId], optional: 'ALL' }));
    expect(all.entries.map((e: any) => e.name)).toContain('Pet Shop Portal');
    const byFilter = await manifestOf(await exportArchive(source, sourceToken, { filter: { keyword: 'petstore*', types: ['POLICY'] } }));
    expect(byFilter.entries.map((e: any) => e.name).sort()).toEqual(['Petstore API Key', 'Petstore CORS', 'Petstore Rate Limit']);
  });

  it('seals secure values with the passphrase', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId], passphrase: 'correct horse battery' });
    expect(archive.includes(Buffer.from('demo-only-secret'))).toBe(false);
    const manifest = await manifestOf(archive);
    expect(manifest.secrets).toMatchObject({ kdf: 'scrypt' });
  });

  it('refuses bad selections with a code', async () => {
    const post = (body: unknown, token: string | null = sourceToken) =>
      fetch(`${source.url}/archive/export`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const missing = await post({ assetIds: ['00000000-0000-4000-8000-000000000000'] });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('NOT_FOUND');
    const bad = await post({ assetIds: ['nope'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'assetIds' });
    expect((await post({})).status).toBe(400);
    expect((await post({ assetIds: [petstoreId], passphrase: 'short' })).status).toBe(400);
  });
});

describe('import', () => {
  it('applies an archive into an empty instance, warns about secure values left out, and keeps the report', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId] });
    const { status, body } = await importArchive(target, targetToken, archive);
    expect(status).toBe(200);
    expect(body.status).toBe('SUCCESS');
    const byName = Object.fromEntries(body.assets.map((a: any) => [a.name, a]));
    expect(byName['Swagger Petstore']).toMatchObject({ type: 'API', action: 'CREATE', status: 'CREATED', explanation: expect.stringMatching(/^created; optional reference to APPLICATION .* left out/) });
    // reports name assets by type and name, never by id
    expect(body.assets.some((a: any) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(a.explanation))).toBe(false);
    expect(byName['petstore-db-password'].status).toBe('WARNING');
    expect(byName['petstore-db-password'].explanation).toMatch(/secure value not in the archive/);
    expect(body.types.find((t: any) => t.type === 'POLICY')).toEqual({ type: 'POLICY', successful: 3, unsuccessful: 0, created: 3, replaced: 0, unchanged: 0, warnings: 0 });
    expect(body.assets.at(-1).name).toBe('Swagger Petstore'); // dependencies first

    // the same ids and contents on the target (the secure alias differs: its value did not travel)
    const exported = await checksumsOf(archive);
    const back = await checksumsOf(await exportArchive(target, targetToken, { assetIds: [petstoreId] }));
    const secureId = body.assets.find((a: any) => a.name === 'petstore-db-password').id;
    for (const [id, checksum] of Object.entries(exported)) {
      if (id === secureId) expect(back[id]).not.toBe(checksum);
      else expect(back[id]).toBe(checksum);
    }

    const listed = await target.gql('{ importReports { totalCount edges { node { id status sourceStage types { type successful } } } } }', {}, targetToken);
    expect(listed.data!.importReports.edges[0].node).toMatchObject({ id: encodeGlobalId('ImportReport', 'qa', body.id), status: 'SUCCESS', sourceStage: 'dev' });
    const json = await fetch(`${target.url}/archive/import-reports/${body.id}.json`, { headers: { authorization: `Bearer ${targetToken}` } });
    expect(((await json.json()) as any).assets).toHaveLength(body.assets.length);
    const csv = await fetch(`${target.url}/archive/import-reports/${body.id}.csv`, { headers: { authorization: `Bearer ${targetToken}` } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,type,name,status,explanation');
    expect(lines).toHaveLength(body.assets.length + 1);
  });

  it('carries secure values with the right passphrase, so every checksum matches', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId], passphrase: 'correct horse battery' });
    const { body } = await importArchive(target, targetToken, archive, 'overwrite=all', 'correct horse battery');
    expect(body.status).toBe('SUCCESS');
    // only the secure alias differs (its value did not travel the first time); the rest is identical
    for (const a of body.assets) expect(a.status).toBe(a.name === 'petstore-db-password' ? 'REPLACED' : 'UNCHANGED');
    expect(await checksumsOf(await exportArchive(target, targetToken, { assetIds: [petstoreId] }))).toEqual(await checksumsOf(archive));
    const [row] = await sql(target, "SELECT id, sealed_secret FROM assets WHERE name = 'petstore-db-password'");
    expect(target.app.services.secrets.open(row.sealed_secret, `asset:${row.id}`)).toBe('demo-only-secret');
  });

  it('follows the overwrite rules for differing assets only: identical ones are UNCHANGED whatever the rule', async () => {
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId] }, );
    // two assets now differ on the target
    const policyId = (await target.gql('{ assets(filter: { keyword: "Petstore CORS", types: [POLICY] }) { edges { node { id } } } }', {}, targetToken)).data!.assets.edges[0].node.id;
    for (const id of [petstoreId, policyId]) await target.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "edited on the target" }) { id } }', { id }, targetToken);
    const differing = new Set(['Swagger Petstore', 'Petstore CORS']);
    const none = (await importArchive(target, targetToken, archive, 'overwrite=none')).body;
    expect(none.status).toBe('PARTIAL_SUCCESS');
    for (const a of none.assets) {
      if (differing.has(a.name)) expect(a).toMatchObject({ action: 'REFUSED', status: 'FAILURE', explanation: `exists on this stage with other content, and overwrite is off for ${a.type}` });
      else expect(a).toMatchObject({ action: 'UNCHANGED', status: 'UNCHANGED' });
    }
    const custom = (await importArchive(target, targetToken, archive, 'overwrite=custom&types=POLICY,ALIAS')).body;
    expect(custom.status).toBe('PARTIAL_SUCCESS');
    for (const a of custom.assets) {
      if (a.type === 'API') expect(a).toMatchObject({ status: 'FAILURE' });
      else expect(a.status).toBe(a.name === 'Petstore CORS' ? 'REPLACED' : 'UNCHANGED');
    }
    expect(custom.types.find((t: any) => t.type === 'POLICY')).toMatchObject({ successful: 3, replaced: 1, unchanged: 2 });
    const all = (await importArchive(target, targetToken, archive, 'overwrite=all')).body;
    expect(all.status).toBe('SUCCESS');
    expect(all.assets.find((a: any) => a.name === 'Swagger Petstore').status).toBe('REPLACED');
  });

  it('fails an asset whose dependency failed, with the reason', async () => {
    const fresh = await startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } });
    try {
      const token = await fresh.adminToken();
      // a different policy with the same name already lives on the target
      await fresh.gql('mutation { createAsset(input: { type: POLICY, name: "Petstore CORS" }) { id } }', {}, token);
      const { body } = await importArchive(fresh, token, await exportArchive(source, sourceToken, { assetIds: [petstoreId] }));
      const byName = Object.fromEntries(body.assets.map((a: any) => [a.name, a]));
      expect(byName['Petstore CORS']).toMatchObject({ status: 'FAILURE', explanation: expect.stringMatching(/already exists/) });
      expect(byName['Swagger Petstore']).toMatchObject({ status: 'FAILURE', explanation: 'depends on POLICY Petstore CORS, which failed' });
      expect(byName['Petstore API Key'].status).toBe('CREATED');
      expect(body.status).toBe('PARTIAL_SUCCESS');
    } finally {
      await fresh.stop();
    }
  });

  it('hands a name from one replaced asset to another whichever order the archive lists them in', async () => {
    const create = async (name: string) => (await source.gql('mutation($n: String!) { createAsset(input: { type: POLICY, name: $n }) { assetId } }', { n: name }, sourceToken)).data!.createAsset.assetId as string;
    const rename = (id: string, name: string) => source.gql('mutation($id: ID!, $n: String!) { updateAsset(id: $id, input: { name: $n }) { id } }', { id, n: name }, sourceToken);
    const a = await create('handoff-first');
    const b = await create('handoff-second');
    expect((await importArchive(target, targetToken, await exportArchive(source, sourceToken, { assetIds: [a, b] }))).body.status).toBe('SUCCESS');
    // On the source, A moves to a new name and B takes A's old one.
    await rename(a, 'handoff-moved');
    await rename(b, 'handoff-first');
    const archive = await exportArchive(source, sourceToken, { assetIds: [a, b] });
    const files = await unzip(archive);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    // The taker (B) listed first: it must still find the name free once A is decided.
    const takerFirst = new Map(files).set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, entries: [...manifest.entries].sort((x: any) => (x.id === b ? -1 : 1)) })));
    const { body } = await importArchive(target, targetToken, await zip(takerFirst), 'overwrite=all');
    expect(body.assets.map((x: any) => [x.name, x.status])).toEqual([
      ['handoff-moved', 'REPLACED'],
      ['handoff-first', 'REPLACED'],
    ]);
    const names = await sql(target, 'SELECT id, name FROM assets WHERE id = ANY($1::uuid[]) ORDER BY name', [[a, b]]);
    expect(names).toEqual([
      { id: b, name: 'handoff-first' },
      { id: a, name: 'handoff-moved' },
    ]);
  });

  it('rotates names among replaced assets (A takes B’s, B takes C’s, C takes A’s)', async () => {
    const create = async (name: string) => (await source.gql('mutation($n: String!) { createAsset(input: { type: POLICY, name: $n }) { assetId } }', { n: name }, sourceToken)).data!.createAsset.assetId as string;
    const rename = (id: string, name: string) => source.gql('mutation($id: ID!, $n: String!) { updateAsset(id: $id, input: { name: $n }) { id } }', { id, n: name }, sourceToken);
    const ids = [await create('rotate-1'), await create('rotate-2'), await create('rotate-3')];
    expect((await importArchive(target, targetToken, await exportArchive(source, sourceToken, { assetIds: ids }))).body.status).toBe('SUCCESS');
    for (const [i, id] of ids.entries()) await rename(id, `rotate-tmp-${i}`);
    for (const [i, id] of ids.entries()) await rename(id, `rotate-${((i + 1) % 3) + 1}`);
    const { body } = await importArchive(target, targetToken, await exportArchive(source, sourceToken, { assetIds: ids }), 'overwrite=all');
    expect(body.status).toBe('SUCCESS');
    expect(body.assets.map((x: any) => x.status)).toEqual(['REPLACED', 'REPLACED', 'REPLACED']);
    const stored = await sql(target, 'SELECT id, name FROM assets WHERE id = ANY($1::uuid[])', [ids]);
    expect(Object.fromEntries(stored.map((r: any) => [r.id, r.name]))).toEqual({ [ids[0]!]: 'rotate-2', [ids[1]!]: 'rotate-3', [ids[2]!]: 'rotate-1' });
  });

  it('a name granted to its taker before its holder was decided is withdrawn when the holder keeps it: the taker fails, nothing clashes', async () => {
    const gql = async (query: string, variables: Record<string, unknown>) => (await source.gql(query, variables, sourceToken)).data!;
    const createApi = async (name: string) => (await gql('mutation($n: String!) { createAsset(input: { type: API, name: $n, version: "1" }) { assetId } }', { n: name })).createAsset.assetId as string;
    const update = (id: string, input: Record<string, unknown>) => gql('mutation($id: ID!, $i: UpdateAssetInput!) { updateAsset(id: $id, input: $i) { id } }', { id, i: input });
    const a = await createApi('swap-api-a');
    const b = await createApi('swap-api-b');
    expect((await importArchive(target, targetToken, await exportArchive(source, sourceToken, { assetIds: [a, b] }))).body.status).toBe('SUCCESS');
    // On the source A and B swap names, and A now requires a policy the archive will not carry
    // (cut out below) and the target does not hold: A is refused there and keeps its name.
    const policy = (await gql('mutation { createAsset(input: { type: POLICY, name: "swap-missing-policy" }) { assetId } }', {})).createAsset.assetId as string;
    await update(a, { name: 'swap-api-tmp', references: [policy] });
    await update(b, { name: 'swap-api-a' });
    await update(a, { name: 'swap-api-b' });
    const before = await sql(target, 'SELECT id, name FROM assets WHERE id = ANY($1::uuid[]) ORDER BY id', [[a, b]]);
    // Either order: in one of them B is decided first and holds A's name on trust until A fails.
    for (const order of [[a, b], [b, a]]) {
      const files = await unzip(await exportArchive(source, sourceToken, { assetIds: order }));
      const manifest = JSON.parse(files.get('manifest.json')!.toString());
      files.delete(`assets/${policy}.json`);
      files.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, entries: manifest.entries.filter((e: any) => e.id !== policy) })));
      const { status, body } = await importArchive(target, targetToken, await zip(files), 'overwrite=all');
      expect(status, JSON.stringify(body)).toBe(200);
      const byId = Object.fromEntries(body.assets.map((x: any) => [x.id, x]));
      expect(byId[a], JSON.stringify(order)).toMatchObject({ status: 'FAILURE', explanation: expect.stringMatching(/swap-missing-policy/) });
      expect(byId[b], JSON.stringify(order)).toMatchObject({ status: 'FAILURE', explanation: 'API swap-api-a 1 already exists' });
      expect(await sql(target, 'SELECT id, name FROM assets WHERE id = ANY($1::uuid[]) ORDER BY id', [[a, b]])).toEqual(before);
    }
  });

  it('links API versions across gaps only with fixMissingVersions', async () => {
    const v1 = (await source.gql('mutation { createAsset(input: { type: API, name: "Chain API", version: "1" }) { assetId } }', {}, sourceToken)).data!.createAsset.assetId;
    const ids = [v1];
    for (const v of ['2', '3', '4', '5']) {
      ids.push((await source.gql('mutation($id: ID!, $v: String!) { createApiVersion(fromId: $id, version: $v) { assetId } }', { id: v1, v }, sourceToken)).data!.createApiVersion.assetId);
    }
    const archive = await exportArchive(source, sourceToken, { assetIds: [ids[0], ids[1], ids[3], ids[4]] });
    const chainOf = async (server: TestServer, token: string, id: string) =>
      (await server.gql('query($id: ID!) { asset(id: $id) { ... on ApiAsset { versions { version } } } }', { id }, token)).data!.asset.versions.map((v: any) => v.version);

    const split = await startTestServer();
    const fixed = await startTestServer();
    try {
      const [splitToken, fixedToken] = await Promise.all([split.adminToken(), fixed.adminToken()]);
      expect((await importArchive(split, splitToken, archive, 'overwrite=none&fixMissingVersions=false')).body.status).toBe('SUCCESS');
      expect(await chainOf(split, splitToken, ids[1]!)).toEqual(['1', '2']);
      expect(await chainOf(split, splitToken, ids[3]!)).toEqual(['4', '5']);
      expect((await importArchive(fixed, fixedToken, archive, 'overwrite=none&fixMissingVersions=true')).body.status).toBe('SUCCESS');
      expect(await chainOf(fixed, fixedToken, ids[1]!)).toEqual(['1', '2', '4', '5']);
    } finally {
      await Promise.all([split.stop(), fixed.stop()]);
    }
  });
});

describe('import refuses unsafe or invalid archives and writes nothing', () => {
  let good: Buffer;
  let files: Map<string, Buffer>;
  beforeAll(async () => {
    good = await exportArchive(source, sourceToken, { assetIds: [petstoreId], passphrase: 'correct horse battery' });
    files = await unzip(good);
  });

  const refused = async (archive: Buffer, code: string, message: RegExp, query = 'overwrite=all', passphrase?: string) => {
    const before = await snapshot(target);
    const { status, body } = await importArchive(target, targetToken, archive, query, passphrase);
    expect(body.error, JSON.stringify(body)).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(status).toBe(code === 'VERSION_DOWNGRADE' ? 409 : 400);
    expect(await snapshot(target)).toEqual(before);
  };

  const docOf = (name: string) => {
    for (const [path, data] of files) {
      if (path === 'manifest.json') continue;
      const doc = JSON.parse(data.toString());
      if (doc.name === name) return { path, doc };
    }
    throw new Error(`no ${name}`);
  };

  it('zip slip: a path with .. or an absolute path', async () => {
    const { path } = docOf('Petstore CORS');
    // Same length as the real name, so the ZIP stays well-formed; yazl itself refuses such names.
    for (const evil of [`../../../../../../../../../../tmp/evil.json`, `/tmp/${'x'.repeat(path.length - 5)}`]) {
      const name = evil.length >= path.length ? evil.slice(evil.length - path.length) : evil.padStart(path.length, '/');
      const forged = Buffer.from(good);
      let at = forged.indexOf(path);
      expect(at).toBeGreaterThan(-1);
      while (at !== -1) {
        forged.write(name.startsWith('/') || name.startsWith('..') ? name : `..${name.slice(2)}`, at);
        at = forged.indexOf(path, at + 1);
      }
      await refused(forged, 'BAD_USER_INPUT', /unsafe path|corrupt archive/);
    }
  });

  it('a decompression bomb: too high a compression ratio', async () => {
    const bomb = new Map(files);
    bomb.set('manifest.json', Buffer.concat([files.get('manifest.json')!, Buffer.alloc(4 * 1024 * 1024, 0x20)]));
    await refused(await zip(bomb), 'BAD_USER_INPUT', /compression ratio/);
  });

  it('a corrupt ZIP: random bytes, or cut short', async () => {
    await refused(Buffer.from('this is not a zip file at all'), 'BAD_USER_INPUT', /corrupt archive/);
    await refused(good.subarray(0, Math.floor(good.length / 2)), 'BAD_USER_INPUT', /corrupt archive/);
  });

  it('a tampered document: its checksum no longer matches the manifest', async () => {
    const { path, doc } = docOf('Petstore Rate Limit');
    const tampered = new Map(files);
    tampered.set(path, Buffer.from(JSON.stringify({ ...doc, spec: { ...doc.spec, config: { requests: 1_000_000, perSeconds: 1 } } })));
    await refused(await zip(tampered), 'BAD_USER_INPUT', /tampered: POLICY Petstore Rate Limit does not match its checksum/);
  });

  it('an archive from a newer product version', async () => {
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const newer = new Map(files);
    newer.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, productVersion: '99.0.0' })));
    await refused(await zip(newer), 'VERSION_DOWNGRADE', /archive is from Stagecraft 99\.0\.0/);
  });

  it('an unknown asset type', async () => {
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const { path, doc } = docOf('Petstore CORS');
    const odd = new Map(files);
    odd.set(path, Buffer.from(JSON.stringify({ ...doc, type: 'WIDGET' })));
    odd.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, entries: manifest.entries.map((e: any) => (e.id === doc.id ? { ...e, type: 'WIDGET' } : e)) })));
    await refused(await zip(odd), 'BAD_USER_INPUT', /unknown asset type WIDGET/);
  });

  it('text PostgreSQL cannot store, or a number its column cannot hold: bad input naming the field, not a server error', async () => {
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const { path, doc } = docOf('Swagger Petstore');
    expect(doc.references.length).toBeGreaterThan(0);
    const withDoc = (changed: object) => new Map(files).set(path, Buffer.from(JSON.stringify({ ...doc, ...changed })));
    const withManifest = (changed: object) => new Map(files).set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, ...changed })));
    const cases: [Map<string, Buffer>, RegExp][] = [
      [withDoc({ references: [{ ...doc.references[0], name: 'nul\u0000name' }, ...doc.references.slice(1)] }), /references\.0\.name must not contain NUL characters/],
      [withDoc({ name: 'lone \ud800 surrogate' }), /name must not contain unpaired UTF-16 surrogates/],
      [withDoc({ systemVersion: 3_000_000_000 }), /systemVersion/],
      [withManifest({ sourceStage: 's'.repeat(41) }), /manifest\.json: sourceStage/],
      [withManifest({ unavailable: [{ id: doc.id, type: 'ALIAS', name: 'nul\u0000', reason: 'none' }] }), /unavailable\.0\.name must not contain NUL characters/],
    ];
    for (const [archive, message] of cases) await refused(await zip(archive), 'BAD_USER_INPUT', message);
  });

  it('a wrong passphrase', async () => {
    await refused(good, 'BAD_USER_INPUT', /wrong passphrase/, 'overwrite=all', 'not the passphrase');
  });

  it('a secure value that opens with the passphrase but does not decode', async () => {
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const box = await openPassphraseKey('correct horse battery', manifest.secrets);
    const [path, doc] = [...files].filter(([p]) => p !== 'manifest.json').map(([p, data]) => [p, JSON.parse(data.toString())] as const).find(([, d]) => d.secret)!;
    // Structured secure values start with NUL and hold JSON: this one holds none.
    const forged = new Map(files).set(path, Buffer.from(JSON.stringify({ ...doc, secret: box.seal('\u0000{not json', secretContext(doc.id)) })));
    await refused(await zip(forged), 'BAD_USER_INPUT', /secure value of .* does not open/, 'overwrite=all', 'correct horse battery');
  });

  it('bad parameters and a missing body', async () => {
    await refused(good, 'BAD_USER_INPUT', /overwrite must be/, 'overwrite=sometimes');
    await refused(good, 'BAD_USER_INPUT', /needs types/, 'overwrite=custom');
    await refused(good, 'BAD_USER_INPUT', /unknown asset types: WIDGET/, 'overwrite=custom&types=WIDGET');
    await refused(Buffer.alloc(0), 'BAD_USER_INPUT', /empty/);
    // A misspelt parameter would silently do what the caller did not ask (a real import, not a dry run).
    await refused(good, 'BAD_USER_INPUT', /unknown parameter dryrun/, 'overwrite=all&dryrun=true');
  });
});

describe('archive endpoints need EXPORT_ASSETS / IMPORT_ASSETS (privileges.test.ts covers custom profiles)', () => {
  it('refuses anonymous callers and viewers with the GraphQL codes', async () => {
    const viewer = await target.userWithRole('VIEWER');
    const archive = await exportArchive(source, sourceToken, { assetIds: [petstoreId] });
    const anonymous = await importArchive(target, null, archive);
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    const forbidden = await importArchive(target, viewer, archive);
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const exportAsViewer = await fetch(`${target.url}/archive/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ assetIds: [petstoreId] }),
    });
    expect(exportAsViewer.status).toBe(403);
    const provider = await target.userWithRole('API_PROVIDER');
    expect((await fetch(`${target.url}/archive/export`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${provider}` }, body: JSON.stringify({ assetIds: [petstoreId] }) })).status).toBe(200);
  });
});
