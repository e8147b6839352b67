/** Puts an asset back exactly as a pre-image holds it (rollbacks and import backups share this). */
import type { EntityManager } from 'typeorm';
import { AssetReferenceEntity } from '../entities/asset-reference.js';
import { AssetEntity } from '../entities/asset.js';
import type { PreImage } from '../entities/rollback.js';

/** Writes the stored row back, every column, whether the asset still exists or not, and its references. */
export async function restorePreImage(tx: EntityManager, image: PreImage): Promise<void> {
  const row = image.row!;
  const columns = tx.connection.getMetadata(AssetEntity).columns.map((c) => ({ property: c.propertyName, column: c.databaseName }));
  const values = columns.map((c) => {
    const v = row[c.property];
    return v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v;
  });
  const names = columns.map((c) => `"${c.column}"`);
  await tx.query(
    `INSERT INTO assets (${names.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (id) DO UPDATE SET ${names.filter((n) => n !== '"id"').map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`,
    values,
  );
  const refs = tx.getRepository(AssetReferenceEntity);
  await refs.delete({ fromId: image.assetId });
  if (image.references.length) await refs.insert(image.references.map((r) => ({ fromId: image.assetId, toId: r.toId, kind: r.kind as 'REQUIRED' | 'OPTIONAL' })));
}
