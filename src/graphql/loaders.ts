/**
 * Every DataLoader of a request, built by one factory per request (and per subscription event),
 * so resolvers of a list ask the database once per kind of thing, not once per item.
 */
import DataLoader from 'dataloader';
import { In } from 'typeorm';
import type { Services } from '../services/index.js';
import { createRemoteFieldLoader } from './federation/remote-fields.js';
import type { ReferenceKind } from '../domain/dependencies.js';
import { groupBy } from '../db/group-by.js';
import { AssetReferenceEntity } from '../entities/asset-reference.js';
import { AssetEntity } from '../entities/asset.js';
import { PromotionStageEntity } from '../entities/promotion.js';
import { createGatewayLoaders, type GatewayLoaders } from './gateways/loaders.js';

export interface Reference {
  kind: ReferenceKind;
  asset: AssetEntity;
}

export interface Loaders {
  assetById: DataLoader<string, AssetEntity | null>;
  /** What an asset references (its dependencies). */
  referencesFrom: DataLoader<string, Reference[]>;
  /** What references an asset (its dependents). */
  referencesTo: DataLoader<string, Reference[]>;
  /** Every version of a version set, oldest system version first. */
  versionsOfSet: DataLoader<string, AssetEntity[]>;
  /** The TEAM asset with a name. */
  teamByName: DataLoader<string, AssetEntity | null>;
  /** The target stages of promotions. */
  promotionStages: DataLoader<string, PromotionStageEntity[]>;
  /** Fields of remote stages, one call per stage per request. */
  remoteFields: ReturnType<typeof createRemoteFieldLoader>;
  /** Gateway groups, their services, versions and instances. */
  gateways: GatewayLoaders;
}

export function createLoaders(services: Services): Loaders {
  const { db } = services;
  const assets = db.getRepository(AssetEntity);
  const references = db.getRepository(AssetReferenceEntity);

  const assetById: Loaders['assetById'] = new DataLoader(async (ids) => {
    const rows = await assets.findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });

  /** References on one side, with the asset on the other side loaded through assetById. */
  const referenceLoader = (side: 'fromId' | 'toId') =>
    new DataLoader<string, Reference[]>(async (ids) => {
      const rows = await references.findBy({ [side]: In([...ids]) });
      const other = side === 'fromId' ? 'toId' : 'fromId';
      const others = await assetById.loadMany(rows.map((r) => r[other]));
      const resolved = rows.map((r, i) => ({ key: r[side], kind: r.kind, asset: others[i] }));
      const groups = groupBy(
        resolved.filter((r): r is typeof r & { asset: AssetEntity } => r.asset instanceof AssetEntity),
        (r) => r.key,
      );
      return ids.map((id) => (groups.get(id) ?? []).map(({ kind, asset }) => ({ kind, asset })).sort((a, b) => a.asset.name.localeCompare(b.asset.name)));
    });

  const versionsOfSet: Loaders['versionsOfSet'] = new DataLoader(async (setIds) => {
    const rows = await assets.find({ where: { versionSetId: In([...setIds]) }, order: { systemVersion: 'ASC' } });
    const groups = groupBy(rows, (r) => r.versionSetId!);
    return setIds.map((id) => groups.get(id) ?? []);
  });

  const teamByName: Loaders['teamByName'] = new DataLoader(async (names) => {
    const rows = await assets.findBy({ type: 'TEAM', name: In([...names]) });
    const byName = new Map(rows.map((r) => [r.name, r]));
    return names.map((n) => byName.get(n) ?? null);
  });

  const promotionStages: Loaders['promotionStages'] = new DataLoader(async (ids) => {
    const rows = await db.getRepository(PromotionStageEntity).find({ where: { promotionId: In([...ids]) }, order: { stageName: 'ASC' } });
    const groups = groupBy(rows, (r) => r.promotionId);
    return ids.map((id) => groups.get(id) ?? []);
  });

  return { assetById, referencesFrom: referenceLoader('fromId'), referencesTo: referenceLoader('toId'), versionsOfSet, teamByName, promotionStages, remoteFields: createRemoteFieldLoader(services), gateways: createGatewayLoaders(services.gateways) };
}
