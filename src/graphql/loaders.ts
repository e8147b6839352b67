/**
 * Every DataLoader of a request, built by one factory per request (and per subscription event),
 * so resolvers of a list ask the database once per kind of thing, not once per item.
 */
import DataLoader from 'dataloader';
import { In } from 'typeorm';
import { isUuid } from '../db/ids.js';
import type { Services } from '../services/index.js';
import { createRemoteFieldLoader } from './federation/remote-fields.js';
import type { ReferenceKind } from '../domain/dependencies.js';
import { groupBy } from '../db/group-by.js';
import { PromotionStageEntity } from '../entities/promotion.js';
import type { ListedAsset } from '../services/asset-rows.js';
import { AssetLookups, type LookupKind, type LookupRow } from './asset-lookups.js';
import { createGatewayLoaders, type GatewayLoaders } from './gateways/loaders.js';

export interface Reference {
  kind: ReferenceKind;
  asset: ListedAsset;
}

/**
 * A DataLoader that also answers synchronously for keys it has already loaded: a list whose
 * lookups were fetched ahead (the assets page) then resolves its fields without a promise each.
 */
export class LookupLoader<V> extends DataLoader<string, V> {
  private readonly settled = new Map<string, V>();
  private readonly fetch: (keys: readonly string[]) => Promise<V[]>;

  constructor(batch: (keys: readonly string[]) => Promise<V[]>) {
    super(async (keys) => {
      const values = await batch(keys);
      keys.forEach((key, i) => this.settled.set(key, values[i]!));
      return values;
    });
    this.fetch = batch;
  }

  /** The value of a key loaded before; undefined when it has not been (yet). */
  peek(key: string): V | undefined {
    return this.settled.get(key);
  }

  override load(key: string): Promise<V> {
    const known = this.settled.get(key);
    return known !== undefined ? Promise.resolve(known) : super.load(key);
  }

  /**
   * Loads the keys not loaded yet in one batch, without DataLoader's promise per key (a page of
   * a hundred assets asks for four hundred lookups at once); afterwards peek answers for them.
   * Called in the same tick as other loaders' batches, it shares their statement (asset-lookups.ts).
   */
  async loadAhead(keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.settled.has(key));
    if (!missing.length) return;
    let values: V[];
    try {
      values = await this.fetch(missing);
    } catch {
      return; // left unsettled: each field then loads its own key and reports its own error
    }
    missing.forEach((key, i) => this.settled.set(key, values[i]!));
  }
}

export interface Loaders {
  assetById: DataLoader<string, ListedAsset | null>;
  /** What an asset references (its dependencies). */
  referencesFrom: LookupLoader<Reference[]>;
  /** What references an asset (its dependents). */
  referencesTo: LookupLoader<Reference[]>;
  /** Every version of a version set, oldest system version first. */
  versionsOfSet: LookupLoader<ListedAsset[]>;
  /** The TEAM asset with a name. */
  teamByName: LookupLoader<ListedAsset | null>;
  /** The target stages of promotions. */
  promotionStages: DataLoader<string, PromotionStageEntity[]>;
  /** Fields of remote stages, one call per stage per request. */
  remoteFields: ReturnType<typeof createRemoteFieldLoader>;
  /** Gateway groups, their services, versions and instances. */
  gateways: GatewayLoaders;
}

/** String.localeCompare's order, without building a collator on each comparison. */
const byName = new Intl.Collator().compare;

export function createLoaders(services: Services): Loaders {
  const { db } = services;
  // assetById, the reference loaders, teamByName and versionsOfSet share one statement per tick.
  const lookups = new AssetLookups(db);

  /** A loader of asset lookups of one kind; keys that are not UUIDs (when they must be) find nothing. */
  const lookupLoader = <V>(kind: LookupKind, uuidKeys: boolean, shape: (rows: LookupRow[] | undefined) => V) =>
    new LookupLoader<V>(async (keys) => {
      const canonical = keys.map((k) => (uuidKeys ? (isUuid(k) ? k.toLowerCase() : null) : k));
      const wanted = [...new Set(canonical.filter((k): k is string => k !== null))];
      const rows = wanted.length ? groupBy(await lookups.find(kind, wanted), (r) => r.key) : new Map<string, LookupRow[]>();
      return canonical.map((k) => shape(k === null ? undefined : rows.get(k)));
    });

  const assetById: Loaders['assetById'] = lookupLoader('id', true, (rows) => rows?.[0]?.asset ?? null);

  /** References on one side, with the asset on the other side, by the other asset's name. */
  const referenceLoader = (side: 'from' | 'to') =>
    lookupLoader(side, true, (rows) =>
      (rows ?? []).map((r): Reference => ({ kind: r.referenceKind!, asset: r.asset })).sort((a, b) => byName(a.asset.name, b.asset.name)),
    );

  /** Oldest system version first. */
  const versionsOfSet: Loaders['versionsOfSet'] = lookupLoader('set', true, (rows) =>
    (rows ?? []).map((r) => r.asset).sort((a, b) => (a.systemVersion ?? Infinity) - (b.systemVersion ?? Infinity)),
  );

  const teamByName: Loaders['teamByName'] = lookupLoader('team', false, (rows) => rows?.at(-1)?.asset ?? null);

  const promotionStages: Loaders['promotionStages'] = new DataLoader(async (ids) => {
    const rows = await db.getRepository(PromotionStageEntity).find({ where: { promotionId: In([...ids]) }, order: { stageName: 'ASC' } });
    const groups = groupBy(rows, (r) => r.promotionId);
    return ids.map((id) => groups.get(id) ?? []);
  });

  return { assetById, referencesFrom: referenceLoader('from'), referencesTo: referenceLoader('to'), versionsOfSet, teamByName, promotionStages, remoteFields: createRemoteFieldLoader(services), gateways: createGatewayLoaders(services.gateways) };
}
