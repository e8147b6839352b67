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

export interface Loaders {
  assetById: DataLoader<string, ListedAsset | null>;
  /** What an asset references (its dependencies). */
  referencesFrom: DataLoader<string, Reference[]>;
  /** What references an asset (its dependents). */
  referencesTo: DataLoader<string, Reference[]>;
  /** Every version of a version set, oldest system version first. */
  versionsOfSet: DataLoader<string, ListedAsset[]>;
  /** The TEAM asset with a name. */
  teamByName: DataLoader<string, ListedAsset | null>;
  /** The target stages of promotions. */
  promotionStages: DataLoader<string, PromotionStageEntity[]>;
  /** Fields of remote stages, one call per stage per request. */
  remoteFields: ReturnType<typeof createRemoteFieldLoader>;
  /** Gateway groups, their services, versions and instances. */
  gateways: GatewayLoaders;
}

export function createLoaders(services: Services): Loaders {
  const { db } = services;
  // assetById, the reference loaders, teamByName and versionsOfSet share one statement per tick.
  const lookups = new AssetLookups(db);

  /** A loader of asset lookups of one kind; keys that are not UUIDs (when they must be) find nothing. */
  const lookupLoader = <V>(kind: LookupKind, uuidKeys: boolean, shape: (rows: LookupRow[] | undefined) => V) =>
    new DataLoader<string, V>(async (keys) => {
      const canonical = keys.map((k) => (uuidKeys ? (isUuid(k) ? k.toLowerCase() : null) : k));
      const wanted = [...new Set(canonical.filter((k): k is string => k !== null))];
      const rows = wanted.length ? groupBy(await lookups.find(kind, wanted), (r) => r.key) : new Map<string, LookupRow[]>();
      return canonical.map((k) => shape(k === null ? undefined : rows.get(k)));
    });

  const assetById: Loaders['assetById'] = lookupLoader('id', true, (rows) => rows?.[0]?.asset ?? null);

  /** References on one side, with the asset on the other side, by the other asset's name. */
  const referenceLoader = (side: 'from' | 'to') =>
    lookupLoader(side, true, (rows) =>
      (rows ?? []).map((r): Reference => ({ kind: r.referenceKind!, asset: r.asset })).sort((a, b) => a.asset.name.localeCompare(b.asset.name)),
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
