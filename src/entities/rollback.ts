import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type RollbackStatus = 'AVAILABLE' | 'ROLLED_BACK' | 'FAILED';

/** An asset as it was before an import touched it (null `row`: the import created it). */
export interface PreImage {
  assetId: string;
  type: string;
  name: string;
  /** Every column of the asset row, as stored. */
  row: Record<string, unknown> | null;
  references: { toId: string; kind: string }[];
}

export interface RollbackReportEntry {
  type: string;
  name: string;
  status: string;
  comment: string;
}

/**
 * Created on the target by every import a promotion makes: the pre-image of everything the
 * import touched, so rolling back restores exactly the earlier state.
 */
@Entity('rollbacks')
@Index('idx_rollbacks_name', { synchronize: false }) // (lower(name), id): the listing order
@Index('idx_rollbacks_time', { synchronize: false }) // (promotion_time, id)
export class RollbackEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The promotion's name. */
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Index('idx_rollbacks_promotion')
  @Column({ name: 'promotion_id', type: 'uuid' })
  promotionId!: string;

  @Column({ name: 'source_stage', type: 'varchar', length: 40 })
  sourceStage!: string;

  @Column({ name: 'promoted_by', type: 'varchar', length: 160 })
  promotedBy!: string;

  @CreateDateColumn({ name: 'promotion_time', type: 'timestamptz' })
  promotionTime!: Date;

  @Column({ name: 'rollback_time', type: 'timestamptz', nullable: true })
  rollbackTime!: Date | null;

  @Column({ type: 'varchar', length: 12 })
  status!: RollbackStatus;

  @Column({ name: 'import_report_id', type: 'uuid' })
  importReportId!: string;

  @Column({ name: 'pre_images', type: 'jsonb' })
  preImages!: PreImage[];

  @Column({ type: 'jsonb' })
  report!: RollbackReportEntry[];
}
