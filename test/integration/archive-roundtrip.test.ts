/**
 * Property: any catalog (assets of every type with valid specs, references the dependency table
 * allows, required and optional, API version chains, secure aliases) exported with a passphrase
 * and imported into an instance that lacks it comes out identical: the target exports the same
 * manifest entries (id, type, name, checksum) and the same documents.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetTypes, type AssetType } from '../../src/domain/asset-types.js';
import { referenceKind } from '../../src/domain/dependencies.js';
import type { AuthUser } from '../../src/services/auth.js';
import { exportArchive, importArchive, manifestOf, unzip } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSPHRASE = 'round trip passphrase';
/** Deterministic by default; ROUNDTRIP_RUNS / ROUNDTRIP_SEED explore further by hand. */
const NUM_RUNS = Number(process.env.ROUNDTRIP_RUNS ?? 8);
const SEED = Number(process.env.ROUNDTRIP_SEED ?? 6);

let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let actor: AuthUser;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  [sourceToken, targetToken] = await Promise.all([source.adminToken(), target.adminToken()]);
  actor = await source.app.services.users.firstSuperAdmin();
});
afterAll(() => Promise.all([source?.stop(), target?.stop()]));

// ── arbitraries ─────────────────────────────────────────────────────────────────────────────

/** Any Unicode text PostgreSQL can store (text and jsonb refuse NUL). */
const text = (maxLength = 12, minLength = 0) =>
  fc.string({ unit: 'grapheme', minLength, maxLength }).map((s) => s.replaceAll('\u0000', '\u2400')).filter((s) => s.length >= minLength);
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const words = fc.array(text(), { maxLength: 3 });
const email = fc.tuple(word, word).map(([user, host]) => `${user}@${host}.example.com`);
const url = fc.tuple(word, fc.array(word, { maxLength: 2 })).map(([host, segments]) => `https://${host}.example.org/${segments.join('/')}`);
const path = fc.array(word, { maxLength: 3 }).map((segments) => `/${segments.join('/')}`);
const version = fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,7}$/);
const stageName = fc.stringMatching(/^[a-z][a-z0-9-]{0,9}$/);

/** JSON as a client sends it in a spec's free-form settings. */
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(text(6), tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;
const settings = fc.dictionary(text(8), json, { maxKeys: 4, noNullPrototype: true });

/** A partial record: any field may be left out (its default then applies). */
const partial = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record(fields, { requiredKeys: [], noNullPrototype: true }) as fc.Arbitrary<Record<string, unknown>>;

const specOf: Record<AssetType, fc.Arbitrary<Record<string, unknown>>> = {
  API: partial({
    apiType: fc.constantFrom('REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET'),
    basePath: path,
    routes: fc.array(partial({ method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), path, description: text() }), { maxLength: 3 }).map(
      (routes) => routes.map((r) => ({ method: 'GET', path: '/', ...r })),
    ),
    tags: words,
    maturity: fc.constantFrom('BETA', 'STABLE', 'DEPRECATED'),
  }),
  POLICY: partial({
    kind: fc.constantFrom('AUTHENTICATION', 'RATE_LIMIT', 'CORS', 'IP_FILTER', 'TRANSFORMATION', 'LOGGING', 'CUSTOM'),
    phase: fc.constantFrom('REQUEST', 'RESPONSE', 'ERROR'),
    config: settings,
  }),
  // ALIAS specs come from `alias` below (secure values need care).
  ALIAS: fc.constant({}),
  APPLICATION: partial({ contactEmail: fc.option(email), identifiers: words, redirectUris: fc.array(url, { maxLength: 2 }) }),
  PACKAGE: partial({ visibility: fc.constantFrom('PUBLIC', 'PRIVATE'), tags: words }),
  PLAN: partial({
    rateLimit: partial({ requests: fc.integer({ min: 1, max: 1_000_000 }), perSeconds: fc.integer({ min: 1, max: 86_400 }) }),
    price: fc.double({ min: 0, max: 1e9, noNaN: true }),
    currency: fc.stringMatching(/^[A-Z]{3}$/),
  }),
  SUBSCRIPTION: partial({ status: fc.constantFrom('ACTIVE', 'PENDING', 'SUSPENDED') }),
  TEAM: partial({ email: fc.option(email) }),
  GROUP: partial({ members: words }),
  APPROVAL_CONFIGURATION: partial({ approvers: words, events: words }),
  ACCESS_PROFILE: partial({ permissions: words }),
  KEYSTORE: partial({ format: fc.constantFrom('JKS', 'PKCS12', 'PEM'), aliases: words }),
  TRUSTSTORE: partial({ format: fc.constantFrom('JKS', 'PKCS12', 'PEM'), aliases: words }),
  KEYSTORE_CONFIGURATION: partial({ keyAlias: text() }),
  EMAIL_DESTINATION: partial({ host: text(), port: fc.integer({ min: 1, max: 65_535 }), from: text() }),
  SERVICE_REGISTRY: partial({ url: fc.option(url, { nil: '' }), registryType: fc.constantFrom('DNS', 'NACOS', 'KUBERNETES', 'CUSTOM') }),
  CUSTOM_DESTINATION: partial({ endpoint: fc.option(url, { nil: '' }), events: words }),
  EXTENDED_SETTINGS: partial({ settings }),
  LOAD_BALANCER: partial({ urls: fc.array(url, { maxLength: 3 }) }),
  URL_ALIASES: partial({ aliases: fc.dictionary(text(8), text(), { maxKeys: 3, noNullPrototype: true }) }),
};

const alias = fc.oneof(
  { weight: 2, arbitrary: partial({ value: text(), stage: fc.option(stageName), kind: fc.constantFrom('SIMPLE', 'ENDPOINT', 'AUTHENTICATION') }) },
  // secure, with a value (it travels sealed with the passphrase) or without one
  { weight: 3, arbitrary: fc.record({ secure: fc.constant(true), value: fc.oneof(text(16, 1), fc.constant('')), stage: fc.option(stageName) }, { noNullPrototype: true }) },
);

interface Draft {
  type: AssetType;
  nameSuffix: string;
  description: string | undefined;
  team: string | null;
  spec: Record<string, unknown>;
  /** Picks among the earlier assets this type may reference (taken modulo their count). */
  picks: number[];
  /** Picks among the later ones, referenced by an update once they exist. */
  laterPicks: number[];
  /** For APIs: the first version, then those created with createApiVersion. */
  versions: string[];
}

// Types that can reference something come up more often, so references are common.
const typeArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<AssetType>('API', 'POLICY', 'ALIAS', 'APPLICATION', 'PACKAGE', 'PLAN', 'SUBSCRIPTION') },
  { weight: 1, arbitrary: fc.constantFrom<AssetType>(...assetTypes) },
);

const draft: fc.Arbitrary<Draft> = typeArb.chain((type) =>
  fc.record({
    type: fc.constant(type),
    nameSuffix: text(16),
    description: fc.option(text(40), { nil: undefined }),
    team: fc.option(text(10)),
    spec: type === 'ALIAS' ? alias : specOf[type],
    picks: fc.array(fc.nat(), { maxLength: 4 }),
    laterPicks: fc.array(fc.nat(), { maxLength: 2 }),
    versions: type === 'API' ? fc.uniqueArray(version, { minLength: 1, maxLength: 3 }) : fc.constant([]),
  }),
);

/** One asset of a catalog, in creation order. References are indices into the catalog. */
interface Planned {
  type: AssetType;
  nameSuffix: string;
  description: string | undefined;
  team: string | null;
  spec: Record<string, unknown>;
  versions: string[];
  /** References to earlier assets, given on create. */
  references: number[];
  /** References to later assets, added by an update after everything exists. */
  laterReferences: number[];
}

/** Whether `from` reaches `to` following references. */
function reaches(plan: readonly Planned[], from: number, to: number): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length) {
    const i = stack.pop()!;
    if (i === to) return true;
    if (seen.has(i)) continue;
    seen.add(i);
    stack.push(...plan[i]!.references, ...plan[i]!.laterReferences);
  }
  return false;
}

/**
 * A catalog: drafts in creation order; each references earlier assets, and later ones as long
 * as no cycle forms (cycles: see the pinned test below), always as the dependency table allows.
 */
const catalog = fc.array(draft, { minLength: 2, maxLength: 10 }).map((drafts) => {
  const allowed = (d: Draft, others: readonly number[]) => others.filter((j) => referenceKind(d.type, drafts[j]!.type) !== null);
  const pick = (picks: readonly number[], candidates: readonly number[]) =>
    candidates.length ? [...new Set(picks.map((p) => candidates[p % candidates.length]!))] : [];
  const plan: Planned[] = drafts.map((d, i) => ({
    type: d.type,
    nameSuffix: d.nameSuffix,
    description: d.description,
    team: d.team,
    spec: d.spec,
    versions: d.versions,
    references: pick(d.picks, allowed(d, [...Array(i).keys()])),
    laterReferences: [],
  }));
  drafts.forEach((d, i) => {
    const later = allowed(d, [...Array(drafts.length).keys()].slice(i + 1));
    for (const j of pick(d.laterPicks, later)) if (!reaches(plan, j, i)) plan[i]!.laterReferences.push(j);
  });
  return plan;
});

// ── the round trip ──────────────────────────────────────────────────────────────────────────

interface Created {
  ids: string[];
  /** Secure values by alias id, as given on the source. */
  secrets: Map<string, string>;
}

async function createOnSource(run: number, plan: readonly Planned[]): Promise<Created> {
  const assets = source.app.services.assets;
  const firstIds: string[] = [];
  const ids: string[] = [];
  const secrets = new Map<string, string>();
  for (const [i, d] of plan.entries()) {
    const asset = await assets.create(actor, {
      type: d.type,
      name: `rt${run}-${i} ${d.nameSuffix}`,
      description: d.description,
      team: d.team,
      version: d.type === 'API' ? d.versions[0] : undefined,
      spec: d.spec,
      references: d.references.map((j) => firstIds[j]!),
    });
    firstIds.push(asset.id);
    ids.push(asset.id);
    if (d.type === 'ALIAS' && d.spec.secure && d.spec.value) secrets.set(asset.id, d.spec.value as string);
    for (const v of d.versions.slice(1)) ids.push((await assets.createApiVersion(actor, asset.id, v)).id);
  }
  for (const [i, d] of plan.entries()) {
    if (d.laterReferences.length) {
      await assets.update(actor, firstIds[i]!, { references: [...d.references, ...d.laterReferences].map((j) => firstIds[j]!) });
    }
  }
  return { ids, secrets };
}

/** Every document of an archive by id, without the sealed secure value (sealed afresh on each export). */
async function documentsOf(archive: Buffer): Promise<Map<string, Record<string, unknown>>> {
  const documents = new Map<string, Record<string, unknown>>();
  for (const [name, data] of await unzip(archive)) {
    if (name === 'manifest.json') continue;
    const { secret, ...doc } = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    documents.set(doc.id as string, { ...doc, hasSecret: secret !== null });
  }
  return documents;
}

const entriesOf = async (archive: Buffer) => (await manifestOf(archive)).entries as { id: string; type: string; name: string; checksum: string }[];

async function roundTrip(run: number, plan: readonly Planned[]): Promise<void> {
  const { ids, secrets } = await createOnSource(run, plan);
  const selection = { assetIds: ids, optional: 'ALL', passphrase: PASSPHRASE };

  const archive = await exportArchive(source, sourceToken, selection);
  const exported = await entriesOf(archive);
  // exactly the catalog: every reference stays inside it
  expect(exported.map((e) => e.id).sort()).toEqual([...ids].sort());
  const exportedDocs = await documentsOf(archive);
  for (const id of secrets.keys()) expect(exportedDocs.get(id)?.hasSecret, `secure value of ${id} not in the archive`).toBe(true);

  // into a target that lacks the catalog
  const fresh = await importArchive(target, targetToken, archive, 'overwrite=none', PASSPHRASE);
  expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
  expect(fresh.body.assets.filter((a: any) => a.status !== 'CREATED'), 'import into the fresh target').toEqual([]);
  expect(fresh.body.status).toBe('SUCCESS');
  expect(fresh.body.assets.map((a: any) => a.id).sort()).toEqual([...ids].sort());

  const back = await exportArchive(target, targetToken, selection);
  expect(await entriesOf(back)).toEqual(exported);
  expect(await documentsOf(back)).toEqual(exportedDocs);
  for (const [id, value] of secrets) {
    const [row] = await target.app.services.db.query('SELECT sealed_secret FROM assets WHERE id = $1', [id]);
    expect(target.app.services.secrets.open(row.sealed_secret, `asset:${id}`)).toBe(value);
  }

  // again, over itself, with overwrite=all: everything identical, so UNCHANGED and not written
  const again = await importArchive(target, targetToken, archive, 'overwrite=all', PASSPHRASE);
  expect(again.body.status, JSON.stringify(again.body)).toBe('SUCCESS');
  expect(again.body.assets.filter((a: any) => a.status !== 'UNCHANGED'), 'import with overwrite=all').toEqual([]);
  expect(again.body.types.reduce((n: number, t: any) => n + t.unchanged, 0)).toBe(ids.length);
  const backAgain = await exportArchive(target, targetToken, selection);
  expect(await entriesOf(backAgain)).toEqual(exported);
  expect(await documentsOf(backAgain)).toEqual(exportedDocs);
}

describe('archive round trip', () => {
  it('any catalog exported and imported into an instance without it comes out identical', async () => {
    let run = 0;
    const stats = { runs: 0, assets: 0, references: 0, optional: 0, later: 0, versions: 0, secure: 0, types: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(catalog, async (plan) => {
        const index = run++;
        stats.runs++;
        stats.assets += plan.reduce((n, d) => n + Math.max(1, d.versions.length), 0);
        const refs = plan.flatMap((d) => [...d.references, ...d.laterReferences].map((j) => referenceKind(d.type, plan[j]!.type)));
        stats.references += refs.length;
        stats.optional += refs.filter((k) => k === 'OPTIONAL').length;
        stats.later += plan.reduce((n, d) => n + d.laterReferences.length, 0);
        stats.versions += plan.reduce((n, d) => n + Math.max(0, d.versions.length - 1), 0);
        stats.secure += plan.filter((d) => d.type === 'ALIAS' && d.spec.secure && d.spec.value).length;
        for (const d of plan) stats.types.add(d.type);
        await roundTrip(index, plan);
      }),
      { numRuns: NUM_RUNS, seed: SEED, plugins: [fc.interruptAfterTimeLimit(35_000 * Math.max(1, NUM_RUNS / 8), { failOnInterrupt: true })] },
    );
    console.info(`archive-roundtrip: ${JSON.stringify({ ...stats, types: stats.types.size })}`);
    // the generator really exercises what the property is about
    expect(stats.runs).toBe(NUM_RUNS);
    expect(stats.references).toBeGreaterThan(0);
    expect(stats.optional).toBeGreaterThan(0);
    expect(stats.later).toBeGreaterThan(0);
    expect(stats.versions).toBeGreaterThan(0);
    expect(stats.secure).toBeGreaterThan(0);
  });

  /**
   * KNOWN BUG in src/services/archive/import.ts, pinned here: optional references may form a
   * cycle (API ↔ APPLICATION, PACKAGE → SUBSCRIPTION → PACKAGE), which export handles, but the
   * importer then applies the asset that closes the cycle before the asset it optionally
   * references exists, and AssetService.prepare refuses it ("referenced assets not found"), so
   * the report has a FAILURE, and everything that requires that asset fails with it. When the
   * importer is fixed (or fails differently) this test turns red: then drop `.fails`.
   */
  it('a catalog whose optional references form cycles comes out identical too', async () => {
    const plan: Planned[] = [
      { type: 'API', versions: ['1.0'], references: [], laterReferences: [1] },
      { type: 'APPLICATION', versions: [], references: [0], laterReferences: [] },
      { type: 'POLICY', versions: [], references: [], laterReferences: [] },
      { type: 'PLAN', versions: [], references: [2], laterReferences: [] },
      { type: 'PACKAGE', versions: [], references: [0, 2, 3], laterReferences: [5] },
      { type: 'SUBSCRIPTION', versions: [], references: [3, 4, 1], laterReferences: [] },
    ].map((p, i) => ({ ...p, type: p.type as AssetType, nameSuffix: `cycle ${i}`, description: undefined, team: null, spec: {} }));
    const error = await roundTrip(1_000_000, plan).then(
      () => undefined,
      (err: unknown) => err,
    );
    // Only the known failure counts as the expected one.
    if (error && JSON.stringify((error as { actual?: unknown }).actual ?? null).includes('referenced assets not found')) throw error;
    if (error) console.error('the cycle round trip failed differently:', error);
  });
});
