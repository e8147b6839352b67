/**
 * Property: any catalog (assets of every type with valid specs, references the dependency table
 * allows, required and optional, API version chains, secure aliases) exported with a passphrase
 * and imported into an instance that lacks it comes out identical: the target exports the same
 * manifest entries (id, type, name, checksum) and the same documents.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasKinds, assetTypes, type AliasKind, type AssetType } from '../../src/domain/asset-types.js';
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
  THREAT_PROTECTION_GLOBAL_DOS: partial({ enabled: fc.boolean(), maxRequestsPerSecond: fc.integer({ min: 1, max: 1_000_000 }), blockIntervalSeconds: fc.integer({ min: 1, max: 86_400 }), trustedIps: words, errorMessage: text() }),
  THREAT_PROTECTION_DOS_BY_IP: partial({ enabled: fc.boolean(), maxRequestsPerIp: fc.integer({ min: 1, max: 1000 }), intervalSeconds: fc.integer({ min: 1, max: 60 }), trustedIps: words, deniedIps: words }),
  THREAT_PROTECTION_RULE: partial({
    enabled: fc.boolean(),
    priority: fc.integer({ min: 0, max: 10_000 }),
    filters: fc.array(partial({ setting: text() }).map((f) => ({ kind: 'REGEX', ...f })), { maxLength: 2 }),
    action: fc.constantFrom('DENY', 'ALERT', 'DENY_AND_ALERT'),
  }),
  THREAT_PROTECTION_MOBILE: partial({ enabled: fc.boolean(), devices: fc.array(partial({ minVersion: version }).map((d) => ({ platform: 'IOS', ...d })), { maxLength: 2 }), blockedApps: words }),
  THREAT_PROTECTION_ALERT_SETTINGS: partial({ destinations: fc.uniqueArray(fc.constantFrom('API_GATEWAY', 'API_PORTAL', 'ELASTICSEARCH', 'EMAIL', 'CUSTOM')), frequency: fc.constantFrom('EVERY_TIME', 'ONCE'), emailRecipients: fc.array(email, { maxLength: 2 }) }),
  GLOBAL_POLICY: partial({ enabled: fc.boolean(), scope: partial({ apiTypes: fc.uniqueArray(fc.constantFrom('REST', 'SOAP')), tags: words }) }),
  POLICY_TEMPLATE: partial({ apiType: fc.constantFrom('REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET') }),
  API_FAULT: partial({ sendNativeFault: fc.boolean(), contentType: text(), template: text(40) }),
  CUSTOM_CONTENT_TYPES: partial({ mappings: fc.dictionary(text(8), fc.constantFrom('JSON', 'XML', 'TEXT', 'BINARY'), { maxKeys: 3, noNullPrototype: true }) }),
  CALLBACK_PROCESSOR_SETTINGS: partial({ enabled: fc.boolean(), timeoutSeconds: fc.integer({ min: 1, max: 600 }), retries: fc.integer({ min: 0, max: 20 }) }),
  // Secure fields (sealed; they travel with the passphrase) given, empty or left out.
  SAML_ISSUER: partial({ issuerName: text(), keystoreAlias: text(), keyAlias: text(), keyPassword: text(16) }),
  CUSTOM_ASSERTION: partial({ namespace: text(), assertion: text(40) }),
  KERBEROS: partial({ realm: text(), kdc: text(), principal: text(), keytab: text(16), password: text(16) }),
  JWT_OAUTH_OPENID: partial({ issuer: text(), audience: text(), tokenLifetimeSeconds: fc.integer({ min: 1, max: 86_400 }), signingAlgorithm: fc.constantFrom('HS256', 'RS256', 'ES256'), signingSecret: text(16) }),
  AUTHORIZATION_SERVER_PROVIDER: partial({ kind: fc.constantFrom('OAUTH2', 'OPENID', 'OKTA'), issuer: fc.option(url, { nil: '' }), tokenUrl: fc.option(url, { nil: '' }), clientId: text(), clientSecret: text(16), scopes: words }),
  API_GATEWAY_DESTINATION: partial({ events: words, performanceIntervalMinutes: fc.integer({ min: 1, max: 1440 }) }),
  API_PORTAL_DESTINATION: partial({ url: fc.option(url, { nil: '' }), username: text(), password: text(16), events: words }),
  ELASTICSEARCH_DESTINATION: partial({ hosts: fc.array(url, { maxLength: 2 }), indexPrefix: text(), username: text(), password: text(16), events: words }),
  EMAIL_TEMPLATE: partial({ event: text(), subject: text(), body: text(40), contentType: fc.constantFrom('TEXT', 'HTML') }),
  APPLICATION_REGISTRATION: partial({ provider: text(), clientId: text(), clientSecret: text(16), redirectUris: fc.array(url, { maxLength: 2 }), scopes: words }),
};

/** Attributes per alias kind, secure ones included (sealed like a secure value). */
const aliasAttributes: Record<AliasKind, fc.Arbitrary<Record<string, unknown>>> = {
  SIMPLE: fc.constant({}),
  ENDPOINT: partial({ connectionTimeoutSeconds: fc.integer({ min: 1, max: 600 }), keystoreAlias: text() }),
  AUTHENTICATION: partial({ type: fc.constantFrom('BASIC', 'OAUTH2'), username: text(), password: text(16) }),
  HTTP_TRANSPORT_SECURITY: partial({ authType: fc.constantFrom('BASIC', 'NTLM', 'ANONYMOUS'), username: text(), password: text(16), keystoreAlias: text(), keyAlias: text() }),
  SOAP_MESSAGE_SECURITY: partial({ username: text(), password: text(16), signingKeyAlias: text(), timestampSeconds: fc.integer({ min: 1, max: 3600 }) }),
  AUTHORIZATION_SERVER: partial({ issuer: fc.option(url, { nil: '' }), tokenEndpoint: fc.option(url, { nil: '' }), clientId: text(), clientSecret: text(16) }),
  AWS_CONFIGURATION: partial({ region: text(), accessKeyId: text(), secretAccessKey: text(16) }),
  SERVICE_REGISTRY: partial({ registry: text(), serviceName: text(), namespace: text() }),
  INTEGRATION_SERVER: partial({ url: fc.option(url, { nil: '' }), username: text(), password: text(16) }),
  TRANSFORMATION: partial({ language: fc.constantFrom('XSLT', 'JSONATA', 'XPATH'), document: text(40) }),
};
const kindWithAttributes = fc.constantFrom<AliasKind>(...aliasKinds).chain((kind) => fc.record({ kind: fc.constant(kind), attributes: aliasAttributes[kind] }, { noNullPrototype: true }));

const alias = fc.oneof(
  { weight: 2, arbitrary: partial({ value: text(), stage: fc.option(stageName), kind: fc.constantFrom(...aliasKinds) }) },
  // every kind with its structured attributes, secure or not
  { weight: 2, arbitrary: fc.tuple(partial({ value: text(), secure: fc.boolean(), stage: fc.option(stageName) }), kindWithAttributes).map(([a, k]) => ({ ...a, ...k })) },
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
  /** The opened sealed secret by asset id, as the source stores it (every asset with a secure value given). */
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
    for (const v of d.versions.slice(1)) ids.push((await assets.createApiVersion(actor, asset.id, v)).id);
  }
  for (const [i, d] of plan.entries()) {
    if (d.laterReferences.length) {
      await assets.update(actor, firstIds[i]!, { references: [...d.references, ...d.laterReferences].map((j) => firstIds[j]!) });
    }
  }
  const sealed: { id: string; sealed_secret: string }[] = await source.app.services.db.query('SELECT id, sealed_secret FROM assets WHERE id = ANY($1::uuid[]) AND sealed_secret IS NOT NULL', [ids]);
  for (const row of sealed) secrets.set(row.id, source.app.services.secrets.open(row.sealed_secret, `asset:${row.id}`));
  // The secure values given are what the source sealed (and none is left in a stored spec).
  const specs: { spec: unknown }[] = await source.app.services.db.query('SELECT spec FROM assets WHERE id = ANY($1::uuid[])', [ids]);
  for (const [i, d] of plan.entries()) {
    for (const given of secureValuesGiven(d)) {
      expect([...secrets.values()].some((s) => s.includes(JSON.stringify(given).slice(1, -1)) || s === given), `secure value of asset ${i} (${d.type}) sealed`).toBe(true);
      expect(JSON.stringify(specs), `secure value of asset ${i} (${d.type}) left in a spec`).not.toContain(JSON.stringify(given));
    }
  }
  return { ids, secrets };
}

/** The non-empty secure values a draft gives (independent of the code under test: the field names are the catalog's contract). */
const SECURE_FIELDS: Partial<Record<AssetType, string[]>> = {
  SAML_ISSUER: ['keyPassword'],
  KERBEROS: ['keytab', 'password'],
  JWT_OAUTH_OPENID: ['signingSecret'],
  AUTHORIZATION_SERVER_PROVIDER: ['clientSecret'],
  API_PORTAL_DESTINATION: ['password'],
  ELASTICSEARCH_DESTINATION: ['password'],
  APPLICATION_REGISTRATION: ['clientSecret'],
};
const SECURE_ATTRIBUTES = ['password', 'clientSecret', 'secretAccessKey'];
function secureValuesGiven(d: Pick<Planned, 'type' | 'spec'>): string[] {
  const values: unknown[] = [];
  if (d.type === 'ALIAS') {
    if (d.spec.secure) values.push(d.spec.value);
    const attributes = (d.spec.attributes ?? {}) as Record<string, unknown>;
    if (!['SIMPLE', 'ENDPOINT', 'SERVICE_REGISTRY', 'TRANSFORMATION'].includes(String(d.spec.kind))) for (const a of SECURE_ATTRIBUTES) values.push(attributes[a]);
  } else {
    for (const f of SECURE_FIELDS[d.type] ?? []) values.push(d.spec[f]);
  }
  // Short values may occur anywhere by chance; the check is about real secrets.
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 6);
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
    expect(row?.sealed_secret, `secure values of ${id} on the target`).toBeTruthy();
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
        stats.secure += plan.filter((d) => secureValuesGiven(d).length > 0).length;
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

  it('a catalog holding every asset type and every alias kind (secure values given) comes out identical', async () => {
    const sample = <T>(arb: fc.Arbitrary<T>, seed: number) => fc.sample(arb, { numRuns: 1, seed })[0]!;
    const plan: Planned[] = [
      ...assetTypes.filter((t) => t !== 'ALIAS').map((type, i) => ({ type, spec: sample(specOf[type], 100 + i), versions: type === 'API' ? ['1.0'] : [] })),
      ...aliasKinds.map((kind, i) => ({ type: 'ALIAS' as AssetType, spec: { value: `value-of-${kind}`, secure: i % 2 === 0, kind, attributes: sample(aliasAttributes[kind], 200 + i) }, versions: [] })),
    ].map((p, i) => ({ ...p, nameSuffix: `every ${i}`, description: undefined, team: null, references: [], laterReferences: [] }));
    await roundTrip(2_000_000, plan);
    expect(new Set(plan.map((p) => p.type))).toEqual(new Set(assetTypes));
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
