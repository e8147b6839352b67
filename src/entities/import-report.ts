import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { AssetAction, AssetOutcome } from '../domain/promotion-decision.js';

/**
 * Per asset: CREATED, REPLACED, UNCHANGED (identical here: not written), WARNING (created or
 * replaced with a caveat) or FAILURE. Everything but FAILURE counts as success.
 */
export type AssetImportStatus = AssetOutcome;
export type ImportStatus = 'SUCCESS' | 'PARTIAL_SUCCESS' | 'FAILURE';

export interface TypeSummary {
  type: string;
  /** Everything but FAILURE (created, replaced and unchanged, with or without warnings). */
  successful: number;
  unsuccessful: number;
  created: number;
  replaced: number;
  unchanged: number;
  warnings: number;
}

export interface AssetImportResult {
  id: string;
  name: string;
  type: string;
  /** The decision (domain/promotion-decision); a plan shows the same one. */
  action: AssetAction;
  status: AssetImportStatus;
  explanation: string;
}

/** The outcome of one archive import, kept for history and download (JSON, CSV). */
@Entity('import_reports')
export class ImportReportEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('idx_import_reports_created')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy!: string;

  @Column({ name: 'source_stage', type: 'varchar', length: 40 })
  sourceStage!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ImportStatus;

  /** The overwrite rule and flags the import ran with. */
  @Column({ type: 'jsonb' })
  options!: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  types!: TypeSummary[];

  @Column({ type: 'jsonb' })
  assets!: AssetImportResult[];
}
