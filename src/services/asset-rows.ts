/**
 * The asset columns reading paths show (the catalog page, the portal's lookups), and the one way
 * to turn such a row into an object. Left out: `search_text` (the keyword index's haystack, the
 * largest column of most rows), `sealed_secret` and `secret_digest` (never shown; an update
 * re-reads the full row before opening the secret). Rows are built as plain objects straight
 * from the driver's values: every listed column already arrives as its JavaScript type (uuid and
 * text as strings, jsonb parsed, int4 as number, timestamptz as Date), so entity hydration would
 * only add cost.
 */
import type { AssetEntity } from '../entities/asset.js';

export type ListedAsset = Omit<AssetEntity, 'searchText' | 'sealedSecret' | 'secretDigest'>;

/** [database column, property]: the columns of a ListedAsset. */
const LISTED: readonly (readonly [string, keyof ListedAsset])[] = [
  ['id', 'id'],
  ['type', 'type'],
  ['name', 'name'],
  ['description', 'description'],
  ['team', 'team'],
  ['version', 'version'],
  ['natural_key', 'naturalKey'],
  ['spec', 'spec'],
  ['checksum', 'checksum'],
  ['version_set_id', 'versionSetId'],
  ['system_version', 'systemVersion'],
  ['created_at', 'createdAt'],
  ['updated_at', 'updatedAt'],
  ['created_by', 'createdBy'],
  ['updated_by', 'updatedBy'],
];

/** The select list of a ListedAsset from table alias `alias`, each column named by its property. */
export function listedAssetColumns(alias: string): string {
  return LISTED.map(([column, property]) => `${alias}."${column}" AS "${property}"`).join(', ');
}

/** A ListedAsset from a row selected with listedAssetColumns (extra columns of the row are left behind). */
export function listedAsset(row: Record<string, unknown>): ListedAsset {
  return {
    id: row.id as string,
    type: row.type as ListedAsset['type'],
    name: row.name as string,
    description: row.description as string,
    team: row.team as string | null,
    version: row.version as string | null,
    naturalKey: row.naturalKey as string,
    spec: row.spec as Record<string, unknown>,
    checksum: row.checksum as string,
    versionSetId: row.versionSetId as string | null,
    systemVersion: row.systemVersion as number | null,
    createdAt: row.createdAt as Date,
    updatedAt: row.updatedAt as Date,
    createdBy: row.createdBy as string,
    updatedBy: row.updatedBy as string,
  };
}
