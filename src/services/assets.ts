/**
 * The asset catalog's use cases: create, update, delete, API versions, alias choice, search and
 * dependency closure. Each write runs in one transaction and validates everything before it
 * writes anything, so bad input leaves the catalog untouched.
 */
import { decodeSecrets, encodeSecrets, hasSecureFields, joinSecrets, splitSecrets } from '../domain/secure-fields.js';
import { randomUUID, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import { chooseAlias } from '../domain/aliases.js';
import { normaliseSpec, SpecError, versionedTypes, type AssetType, type Spec } from '../domain/asset-types.js';
import { assetChecksum } from '../domain/checksum.js';
import { dependencyClosure, referenceKind, type GraphNode, type OptionalChoice, type ReferenceKind } from '../domain/dependencies.js';
import { textProblem } from '../domain/input-rules.js';
import { collectStrings, defaultKeywordBounds, KeywordError, parseKeyword, type KeywordBounds } from '../domain/search.js';
import { isUniqueViolation } from '../db/errors.js';
import { groupBy } from '../db/group-by.js';
import { parseId, requireId } from '../db/ids.js';
import { AssetReferenceEntity } from '../entities/asset-reference.js';
import { AssetEntity } from '../entities/asset.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import type { SecretBox } from '../secrets.js';
import type { AuthUser } from './auth.js';
import { listedAsset, listedAssetColumns, type ListedAsset } from './asset-rows.js';
import { byName, orderingOf, pageRows, type Page, type PageRequest, type SortKey } from './paging.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number, options: object) => Promise<Buffer>;

/**
 * A slow digest of a secure value, salted with the asset id: equal on every stage for the same
 * value (so checksums compare), and too costly to brute-force a weak value from.
 */
export async function secureValueDigest(value: string, assetId: string): Promise<string> {
  return (await scryptAsync(value, `stagecraft-secure:${assetId}`, 32, { N: 16384 })).toString('hex');
}

export interface AssetInput {
  type: AssetType;
  name: string;
  description?: string | null;
  team?: string | null;
  version?: string | null;
  spec?: unknown;
  references?: readonly string[] | null;
}

export type AssetChanges = Partial<Omit<AssetInput, 'type'>>;

export interface AssetFilter {
  keyword?: string | null;
  types?: readonly AssetType[] | null;
  teams?: readonly string[] | null;
}

export type AssetPage = Page<ListedAsset>;

/** Error messages name at most this many ids, so a huge request never comes back echoed. */
const SHOWN_IDS = 10;
const listSome = (ids: readonly string[]) => ids.slice(0, SHOWN_IDS).join(', ') + (ids.length > SHOWN_IDS ? ` and ${ids.length - SHOWN_IDS} more` : '');

function assertNoneMissing(missing: readonly string[]): void {
  if (missing.length) throw new AppError('NOT_FOUND', `assets not found: ${listSome(missing)}`, { ids: missing.slice(0, SHOWN_IDS) });
}

const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$/;
export const MAX_PAGE = 500;

export type AssetOrderField = 'NAME' | 'TYPE' | 'UPDATED_AT';
export interface AssetOrder {
  field: AssetOrderField;
  direction: 'ASC' | 'DESC';
}
const assetOrders: Record<AssetOrderField, SortKey[]> = {
  NAME: [byName('a')],
  TYPE: [{ sql: 'a.type', kind: 'text' }, byName('a')],
  UPDATED_AT: [{ sql: 'a.updated_at', kind: 'time' }],
};

/**
 * Text PostgreSQL stores as given: no NUL (it cannot), no lone UTF-16 surrogates (they would be
 * stored as U+FFFD, and the checksum taken over the original would no longer match).
 */
function checkText(field: string, value: string | null): void {
  const problem = value === null ? null : textProblem(value);
  if (problem) throw badInput(`${field} ${problem}`, { field });
}

export const naturalKey = (type: string, name: string, version: string | null, stage: string | null) =>
  `${type}:${name}:${version ?? ''}:${stage ?? ''}`;

const aliasStageOf = (a: { type: string; spec: Spec }) => (a.type === 'ALIAS' ? ((a.spec.stage as string | null) ?? null) : null);

/** The natural key of an asset: type, name, version, and for aliases the stage it is bound to. */
export const naturalKeyOf = (a: { type: string; name: string; version: string | null; spec: Spec }) =>
  naturalKey(a.type, a.name, a.version, aliasStageOf(a));

/** What a stored row looks like once input is validated; shared by create, update and import. */
export interface PreparedAsset {
  id: string;
  type: AssetType;
  name: string;
  description: string;
  team: string | null;
  version: string | null;
  spec: Spec;
  sealedSecret: string | null;
  secretDigest: string | null;
  references: { toId: string; kind: ReferenceKind }[];
}

/** An asset row as written: every column but the timestamps the database sets. */
export interface StoredAssetRow {
  id: string;
  type: AssetType;
  name: string;
  description: string;
  team: string | null;
  version: string | null;
  naturalKey: string;
  spec: Spec;
  sealedSecret: string | null;
  secretDigest: string | null;
  checksum: string;
  versionSetId: string | null;
  systemVersion: number | null;
  searchText: string;
  createdBy: string;
  updatedBy: string;
}

/**
 * The row a prepared asset is stored as, with its checksum and search text: the one place both
 * the single-asset write and the import's set-based write take their rows from.
 */
export function storedRow(
  prepared: PreparedAsset,
  key: string,
  author: string,
  versioning: { versionSetId: string | null; systemVersion: number | null },
  current: Pick<AssetEntity, 'createdBy'> | null,
  /** The checksum of exactly this content when the caller already holds it (an import's verified document). */
  knownChecksum?: string,
): StoredAssetRow {
  const checksum = knownChecksum ?? assetChecksum({
    type: prepared.type,
    name: prepared.name,
    description: prepared.description,
    team: prepared.team,
    version: prepared.version,
    spec: prepared.spec,
    references: prepared.references.filter((r) => r.kind === 'REQUIRED').map((r) => r.toId),
    secretDigest: prepared.secretDigest,
  });
  const searchText = [prepared.name, prepared.description, prepared.team ?? '', prepared.version ?? '', ...collectStrings(prepared.spec)]
    .filter(Boolean)
    .join('\n');
  return {
    id: prepared.id,
    type: prepared.type,
    name: prepared.name,
    description: prepared.description,
    team: prepared.team,
    version: prepared.version,
    naturalKey: key,
    spec: prepared.spec,
    sealedSecret: prepared.sealedSecret,
    secretDigest: prepared.secretDigest,
    checksum,
    versionSetId: versioning.versionSetId,
    systemVersion: versioning.systemVersion,
    searchText,
    updatedBy: author,
    createdBy: current?.createdBy ?? author,
  };
}

export class AssetService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly keywordBounds: KeywordBounds = defaultKeywordBounds,
    /** enableTeamWork: an asset's team (its TEAM asset, with the groups it requires) is an optional dependency of it. */
    private readonly teamWork = false,
  ) {}

  async get(id: string, manager: EntityManager = this.db.manager): Promise<AssetEntity> {
    const asset = await manager.getRepository(AssetEntity).findOneBy({ id: parseId('asset', id) });
    if (!asset) throw notFound('asset', id);
    return asset;
  }

  async create(actor: AuthUser, input: AssetInput): Promise<AssetEntity> {
    return this.db.transaction(async (tx) => {
      const prepared = await this.prepare(tx, randomUUID(), input, null);
      const versionSetId = versionedTypes.includes(prepared.type) ? randomUUID() : null;
      await this.write(tx, prepared, actor.username, { versionSetId, systemVersion: versionSetId ? 1 : null });
      return this.get(prepared.id, tx);
    });
  }

  async update(actor: AuthUser, rawId: string, changes: AssetChanges): Promise<AssetEntity> {
    const id = parseId('asset', rawId);
    return this.db.transaction(async (tx) => {
      const current = await tx.getRepository(AssetEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound('asset', id);
      const references =
        changes.references ?? (await tx.getRepository(AssetReferenceEntity).findBy({ fromId: id })).map((r) => r.toId);
      const input: AssetInput = {
        type: current.type,
        name: changes.name ?? current.name,
        description: changes.description === undefined ? current.description : changes.description,
        team: changes.team === undefined ? current.team : changes.team,
        version: changes.version === undefined ? current.version : changes.version,
        spec: changes.spec === undefined ? this.specWithSecret(current) : changes.spec,
        references,
      };
      const prepared = await this.prepare(tx, id, input, current);
      await this.write(tx, prepared, actor.username, { versionSetId: current.versionSetId, systemVersion: current.systemVersion }, current);
      return this.get(id, tx);
    });
  }

  async delete(rawId: string): Promise<boolean> {
    const id = parseId('asset', rawId);
    return this.db.transaction(async (tx) => {
      const asset = await tx.getRepository(AssetEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!asset) throw notFound('asset', id);
      const dependents = await tx
        .getRepository(AssetEntity)
        .createQueryBuilder('a')
        .innerJoin(AssetReferenceEntity, 'r', 'r.from_id = a.id')
        .where('r.to_id = :id AND r.kind = :kind', { id, kind: 'REQUIRED' })
        .orderBy('a.name')
        .getMany();
      if (dependents.length) {
        throw conflict(`${asset.name} is required by ${dependents.map((d) => `${d.type} ${d.name}`).join(', ')}`, {
          dependents: dependents.map((d) => ({ id: d.id, type: d.type, name: d.name })),
        });
      }
      await tx.getRepository(AssetEntity).delete({ id });
      return true;
    });
  }

  /** A new version of an API in the same version set, copying its content and references. */
  async createApiVersion(actor: AuthUser, fromId: string, version: string): Promise<AssetEntity> {
    return this.db.transaction(async (tx) => {
      const from = await this.get(fromId, tx);
      if (from.type !== 'API' || !from.versionSetId) throw badInput('only APIs have versions', { field: 'fromId' });
      // Serialise version creation within one set, so system versions stay unique and dense.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`version-set:${from.versionSetId}`]);
      const refs = await tx.getRepository(AssetReferenceEntity).findBy({ fromId });
      const prepared = await this.prepare(
        tx,
        randomUUID(),
        { type: 'API', name: from.name, description: from.description, team: from.team, version, spec: from.spec, references: refs.map((r) => r.toId) },
        null,
      );
      const { max } = (await tx
        .getRepository(AssetEntity)
        .createQueryBuilder('a')
        .select('MAX(a.system_version)', 'max')
        .where('a.version_set_id = :set', { set: from.versionSetId })
        .getRawOne()) as { max: number | null };
      await this.write(tx, prepared, actor.username, { versionSetId: from.versionSetId, systemVersion: (max ?? 0) + 1 });
      return this.get(prepared.id, tx);
    });
  }

  /** The alias variant a promotion to `stage` would use (DESIGN §2). */
  async aliasFor(name: string, stage: string): Promise<AssetEntity> {
    const variants = await this.db.getRepository(AssetEntity).findBy({ type: 'ALIAS', name });
    const chosen = chooseAlias(
      variants.map((v) => ({ name: v.name, stage: (v.spec.stage as string | null) ?? null, row: v })),
      name,
      stage,
    );
    if (!chosen) throw notFound('alias', `${name} (stage ${stage})`);
    return chosen.row;
  }

  async search(filter: AssetFilter, page: PageRequest, order: AssetOrder = { field: 'NAME', direction: 'ASC' }): Promise<AssetPage> {
    return pageRows(this.filtered(filter).select(listedAssetColumns('a')), 'a', page, orderingOf('assets', assetOrders, order), MAX_PAGE, listedAsset);
  }

  /** The assets to move with `ids`, dependencies first. Unknown ids are NOT_FOUND. */
  async closure(ids: readonly string[], optional: OptionalChoice, optionalIds: readonly string[] = []): Promise<AssetEntity[]> {
    const order = await this.closureIds(ids, optional, optionalIds);
    const rows = new Map((await this.db.getRepository(AssetEntity).findBy({ id: In(order) })).map((r) => [r.id, r]));
    return order.map((id) => rows.get(id)!);
  }

  /** Like closure, but only the ids (in apply order): the graph is walked without loading specs. */
  async closureIds(ids: readonly string[], optional: OptionalChoice, optionalIds: readonly string[] = [], manager = this.db.manager): Promise<string[]> {
    const roots = ids.map((id) => requireId('assetIds', id));
    const chosen = optionalIds.map((id) => requireId('optionalIds', id));
    const graph = await this.loadGraph(roots, manager);
    assertNoneMissing(roots.filter((id) => !graph.has(id)));
    return dependencyClosure(roots, (id) => graph.get(id), optional, new Set(chosen));
  }

  /**
   * NOT_FOUND unless every asset of `ids` exists: what a promotion checks when it is queued
   * (its job works out the closure when it runs, against the catalog as it is then).
   */
  async assertExist(ids: readonly string[]): Promise<void> {
    const wanted = [...new Set(ids.map((id) => requireId('assetIds', id)))];
    const rows: { id: string }[] = await this.db.query('SELECT id FROM assets WHERE id = ANY($1::uuid[])', [wanted]);
    const found = new Set(rows.map((r) => r.id));
    assertNoneMissing(wanted.filter((id) => !found.has(id)));
  }

  /** Ids matching a search filter, in listing order (for exporting a selection by filter). */
  async idsMatching(filter: AssetFilter): Promise<string[]> {
    const query = this.filtered(filter).select('a.id', 'id');
    const rows: { id: string }[] = await query.orderBy('lower(a.name)').addOrderBy('a.id').getRawMany();
    return rows.map((r) => r.id);
  }

  /** Assets matching a filter: types and teams exactly, keyword by the search syntax (domain/search). */
  private filtered(filter: AssetFilter) {
    const query = this.db.getRepository(AssetEntity).createQueryBuilder('a');
    if (filter.types?.length) query.andWhere('a.type IN (:...types)', { types: filter.types });
    if (filter.teams?.length) query.andWhere('a.team IN (:...teams)', { teams: filter.teams });
    let regex: string | null;
    try {
      ({ regex } = parseKeyword(filter.keyword, this.keywordBounds));
    } catch (err) {
      if (err instanceof KeywordError) throw badInput(err.message, { field: 'keyword' });
      throw err;
    }
    if (regex) query.andWhere('a.search_text ~* :regex', { regex });
    return query;
  }

  /**
   * Ids and references of everything reachable, breadth-first, one statement per level (the
   * frontier as one array parameter: 10,000 ids as 10,000 placeholders cost more to build than
   * to run). With enableTeamWork, an asset owned by a team also points (OPTIONAL) at that team's
   * TEAM asset, which requires its groups: the team travels when optional dependencies are chosen.
   */
  private async loadGraph(roots: readonly string[], manager: EntityManager): Promise<Map<string, GraphNode>> {
    const graph = new Map<string, GraphNode>();
    let frontier = [...new Set(roots)];
    // Ids asked for once are not asked again (one deleted meanwhile is simply not found).
    const asked = new Set<string>();
    while (frontier.length) {
      for (const id of frontier) asked.add(id);
      const rows: { id: string; type: AssetType; team: string | null; to_id: string | null; kind: ReferenceKind | null }[] = await manager.query(
        'SELECT a.id, a.type, a.team, r.to_id, r.kind FROM assets a LEFT JOIN asset_references r ON r.from_id = a.id WHERE a.id = ANY($1::uuid[])',
        [frontier],
      );
      const found = new Map<string, { type: AssetType; team: string | null }>();
      for (const row of rows) {
        let node = graph.get(row.id);
        if (!node) {
          graph.set(row.id, (node = { id: row.id, references: [] }));
          found.set(row.id, { type: row.type, team: row.team });
        }
        if (row.to_id !== null) (node.references as { to: string; kind: ReferenceKind }[]).push({ to: row.to_id, kind: row.kind! });
      }
      if (this.teamWork) {
        const teamIds = await this.teamAssetIds(manager, [...found.values()]);
        for (const [id, { type, team }] of found) {
          const teamId = type !== 'TEAM' && team ? teamIds.get(team) : undefined;
          const references = graph.get(id)!.references as { to: string; kind: ReferenceKind }[];
          if (teamId && !references.some((r) => r.to === teamId)) references.push({ to: teamId, kind: 'OPTIONAL' });
        }
      }
      frontier = [...new Set([...found.keys()].flatMap((id) => graph.get(id)!.references.map((r) => r.to)))].filter((id) => !asked.has(id));
    }
    return graph;
  }

  /** The TEAM assets of the teams named by `assets`, by team name (one query). */
  private async teamAssetIds(manager: EntityManager, assets: readonly { team: string | null }[]): Promise<Map<string, string>> {
    const names = [...new Set(assets.map((a) => a.team).filter((t): t is string => !!t))];
    if (!names.length) return new Map();
    const teams = await manager.getRepository(AssetEntity).find({ select: { id: true, name: true }, where: { type: 'TEAM', name: In(names) } });
    return new Map(teams.map((t) => [t.name, t.id]));
  }

  /** The spec as a client would send it back, with the secure value opened (for re-validation). */
  private specWithSecret(asset: AssetEntity): Spec {
    return asset.sealedSecret ? joinSecrets(asset.spec, decodeSecrets(this.secrets.open(asset.sealedSecret, `asset:${asset.id}`))) : asset.spec;
  }

  /** Validates input into a row, or throws BAD_USER_INPUT naming the field. Writes nothing. */
  async prepare(
    manager: EntityManager,
    id: string,
    input: AssetInput,
    current: AssetEntity | null,
    /** How to find referenced assets (an import answers from memory instead of a query per asset). */
    findTargets: (ids: string[]) => Promise<Pick<AssetEntity, 'id' | 'type' | 'name'>[]> = (ids) => manager.getRepository(AssetEntity).findBy({ id: In(ids) }),
    /** The spec is normaliseSpec's output already (an import checked it so): taken as it is. */
    specNormalised = false,
  ): Promise<PreparedAsset> {
    const name = input.name?.trim() ?? '';
    if (!name || name.length > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
    const description = input.description ?? '';
    if (description.length > 10_000) throw badInput('description must be at most 10,000 characters', { field: 'description' });
    const team = input.team?.trim() || null;
    if (team && team.length > 100) throw badInput('team must be at most 100 characters', { field: 'team' });
    const versioned = versionedTypes.includes(input.type);
    const version = input.version?.trim() || null;
    if (versioned && !version) throw badInput(`${input.type} needs a version, e.g. 1.0.0`, { field: 'version' });
    if (!versioned && version) throw badInput(`${input.type} assets have no version`, { field: 'version' });
    if (version && !VERSION.test(version)) throw badInput('version must be letters, digits, dots, dashes or plus signs', { field: 'version' });

    for (const [field, value] of [['name', name], ['description', description], ['team', team], ['version', version]] as const) checkText(field, value);
    let spec: Spec;
    try {
      spec = specNormalised ? (input.spec as Spec) : normaliseSpec(input.type, input.spec ?? {});
    } catch (err) {
      if (err instanceof SpecError) throw badInput(err.message, { field: err.field });
      throw err;
    }

    // Secure values are sealed and kept out of the spec. Re-saving without a value keeps it.
    let sealedSecret: string | null = null;
    let secretDigest: string | null = null;
    if (hasSecureFields(input.type, spec)) {
      const stored = current?.sealedSecret ? decodeSecrets(this.secrets.open(current.sealedSecret, `asset:${id}`)) : null;
      const split = splitSecrets(input.type, spec, stored);
      spec = split.spec;
      if (split.secrets) {
        const plain = encodeSecrets(split.secrets);
        // Unchanged secrets keep their sealed form and digest (no slow digest per re-save).
        const same = current?.sealedSecret && stored && encodeSecrets(stored) === plain;
        sealedSecret = same ? current.sealedSecret : this.secrets.seal(plain, `asset:${id}`);
        secretDigest = same ? current.secretDigest : await secureValueDigest(plain, id);
      }
    }

    const referenceIds = [...new Set((input.references ?? []).map((r) => requireId('references', r)))];
    if (referenceIds.includes(id)) throw badInput('an asset cannot reference itself', { field: 'references' });
    const targets = referenceIds.length ? await findTargets(referenceIds) : [];
    const unknown = referenceIds.filter((r) => !targets.some((t) => t.id === r));
    if (unknown.length) throw badInput(`referenced assets not found: ${listSome(unknown)}`, { field: 'references', ids: unknown.slice(0, SHOWN_IDS) });
    const references = targets.map((target) => {
      const kind = referenceKind(input.type, target.type);
      if (!kind) {
        throw badInput(`${input.type} cannot reference ${target.type} (${target.name})`, { field: 'references', ids: [target.id] });
      }
      return { toId: target.id, kind };
    });

    return { id, type: input.type, name, description, team, version, spec, sealedSecret, secretDigest, references };
  }

  /** CONFLICT when another asset holds the natural key `prepared` would take; else that key. */
  async checkNaturalKey(prepared: PreparedAsset, ownerOfKey: (key: string) => Promise<string | undefined>): Promise<string> {
    const key = naturalKeyOf(prepared);
    const takenBy = await ownerOfKey(key);
    if (takenBy && takenBy !== prepared.id) {
      const stage = aliasStageOf(prepared);
      throw conflict(`${prepared.type} ${prepared.name}${prepared.version ? ` ${prepared.version}` : ''}${stage ? ` for stage ${stage}` : ''} already exists`, {
        field: 'name',
        existingId: takenBy,
      });
    }
    return key;
  }

  /** Inserts or replaces an asset row and its references. CONFLICT when the natural key is taken. */
  async write(
    manager: EntityManager,
    prepared: PreparedAsset,
    author: string,
    versioning: { versionSetId: string | null; systemVersion: number | null },
    current?: AssetEntity,
    /** Who holds a natural key (an import answers from memory instead of a query per asset). */
    ownerOfKey: (key: string) => Promise<string | undefined> = async (key) =>
      (await manager.getRepository(AssetEntity).findOne({ where: { naturalKey: key }, select: { id: true } }))?.id,
  ): Promise<void> {
    const key = await this.checkNaturalKey(prepared, ownerOfKey);
    // TypeORM's deep-partial type cannot see through a jsonb Record; the row is a plain column map.
    const row = { ...storedRow(prepared, key, author, versioning, current ?? null), ...(current && { updatedAt: new Date() }) } as Parameters<Repository<AssetEntity>['update']>[1];
    try {
      if (current) await manager.getRepository(AssetEntity).update({ id: prepared.id }, row);
      else await manager.getRepository(AssetEntity).insert(row as Parameters<Repository<AssetEntity>['insert']>[0]);
    } catch (err) {
      // A concurrent writer took the natural key between our check and this insert.
      if (isUniqueViolation(err)) throw conflict(`${prepared.type} ${prepared.name} already exists`, { field: 'name' });
      throw err;
    }
    if (current) await manager.getRepository(AssetReferenceEntity).delete({ fromId: prepared.id });
    if (prepared.references.length) {
      await manager.getRepository(AssetReferenceEntity).insert(prepared.references.map((r) => ({ fromId: prepared.id, ...r })));
    }
  }
}
