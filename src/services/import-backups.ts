/**
 * enableImportBackup (webMethods' extended setting): with it on, an import that overwrites an API
 * keeps the replaced version, which can be listed and restored. The backup is the asset's
 * pre-image (the same record a promotion's rollback keeps), written in the import's transaction.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { parseId } from '../db/ids.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { AssetEntity } from '../entities/asset.js';
import { ImportBackupEntity } from '../entities/import-backup.js';
import type { PreImage } from '../entities/rollback.js';
import { conflict, notFound } from '../errors.js';
import { appendEvent } from '../events/event-log.js';
import type { AuthUser } from './auth.js';
import { restorePreImage } from './pre-images.js';

/** The types whose overwrite keeps a backup (the setting is about APIs). */
const BACKED_UP = new Set(['API']);

export class ImportBackups {
  constructor(
    private readonly db: DataSource,
    /** The setting: off, imports keep nothing. */
    readonly enabled: boolean,
  ) {}

  /** Inside an import's transaction: keeps the replaced APIs among `preImages` (set-based). */
  async keep(tx: EntityManager, importReportId: string, createdBy: string, preImages: readonly PreImage[]): Promise<void> {
    if (!this.enabled) return;
    const replaced = preImages.filter((p) => p.row !== null && BACKED_UP.has(p.type));
    if (!replaced.length) return;
    const repo = tx.getRepository(ImportBackupEntity);
    await repo.save(repo.create(replaced.map((p) => ({ assetId: p.assetId, type: p.type, name: p.name, version: (p.row!.version as string | null) ?? null, importReportId, createdBy, preImage: p }))));
  }

  /** Backups, newest first; of one asset when `assetId` is given. */
  list(assetId?: string | null, first = 50): Promise<ImportBackupEntity[]> {
    const where = assetId ? { assetId: parseId('asset', assetId) } : {};
    return this.db.getRepository(ImportBackupEntity).find({ where, order: { createdAt: 'DESC', id: 'DESC' }, take: Math.min(Math.max(first, 1), 500) });
  }

  /** One backup, or null. */
  get(id: string): Promise<ImportBackupEntity | null> {
    return this.db.getRepository(ImportBackupEntity).findOneBy({ id: parseId('import backup', id) });
  }

  /** Puts the backed-up version back in place of the current one (itself kept as a backup first, so a restore can be undone). */
  async restore(actor: AuthUser, id: string): Promise<ImportBackupEntity> {
    try {
      return await this.db.transaction(async (tx) => {
        const repo = tx.getRepository(ImportBackupEntity);
        const backup = await repo.findOne({ where: { id: parseId('import backup', id) }, lock: { mode: 'pessimistic_write' } });
        if (!backup) throw notFound('import backup', id);
        const current = await tx.query('SELECT * FROM assets WHERE id = $1', [backup.assetId]);
        if (current.length) {
          const refs: { to_id: string; kind: string }[] = await tx.query('SELECT to_id, kind FROM asset_references WHERE from_id = $1', [backup.assetId]);
          const row = Object.fromEntries(tx.connection.getMetadata(AssetEntity).columns.map((c) => [c.propertyName, current[0][c.databaseName]]));
          await repo.save(
            repo.create({
              assetId: backup.assetId,
              type: backup.type,
              name: String(row.name),
              version: (row.version as string | null) ?? null,
              importReportId: backup.importReportId,
              createdBy: actor.username,
              preImage: { assetId: backup.assetId, type: backup.type, name: String(row.name), row, references: refs.map((r) => ({ toId: r.to_id, kind: r.kind })) },
            }),
          );
        }
        await restorePreImage(tx, backup.preImage);
        Object.assign(backup, { restoredAt: new Date(), restoredBy: actor.username });
        await repo.save(backup);
        await appendEvent(tx, 'audit', 'IMPORT_BACKUP_RESTORED', { actor: actor.username, backupId: backup.id, assetId: backup.assetId, name: backup.name });
        return backup;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('another asset now holds this version’s name (and version): rename it first');
      if (isForeignKeyViolation(err)) throw conflict('an asset this version references no longer exists: import or create it first');
      throw err;
    }
  }
}
