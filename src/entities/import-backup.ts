import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { PreImage } from './rollback.js';

/**
 * With enableImportBackup on, an import that overwrites an API keeps the replaced version here:
 * the asset row as it was (every column, the sealed secret included) and its references, so it
 * can be listed and restored exactly.
 */
@Entity('import_backups')
@Index('idx_import_backups_asset', ['assetId', 'createdAt'])
export class ImportBackupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'asset_id', type: 'uuid' })
  assetId!: string;

  @Column({ type: 'varchar', length: 40 })
  type!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  version!: string | null;

  /** The import that replaced it. */
  @Column({ name: 'import_report_id', type: 'uuid' })
  importReportId!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'pre_image', type: 'jsonb' })
  preImage!: PreImage;

  @Column({ name: 'restored_at', type: 'timestamptz', nullable: true })
  restoredAt!: Date | null;

  @Column({ name: 'restored_by', type: 'varchar', length: 64, nullable: true })
  restoredBy!: string | null;
}
