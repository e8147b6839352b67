import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { OptionalChoice } from '../domain/dependencies.js';

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILURE';

export interface PromotedAssetReport {
  assetId: string;
  type: string;
  name: string;
  status: string;
  comment: string;
}

/** A promotion: what was sent where, by whom, and how each target stage fared. */
@Entity('promotions')
@Index('idx_promotions_name', { synchronize: false }) // (lower(name), id): the listing order
@Index('idx_promotions_created', { synchronize: false }) // (created_at, id)
export class PromotionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ name: 'asset_ids', type: 'jsonb' })
  assetIds!: string[];

  @Column({ type: 'varchar', length: 8 })
  optional!: OptionalChoice;

  @Column({ name: 'optional_ids', type: 'jsonb' })
  optionalIds!: string[];

  @Column({ name: 'target_stages', type: 'jsonb' })
  targetStages!: string[];

  @Column({ name: 'overwrite_assets', type: 'boolean' })
  overwriteAssets!: boolean;

  @Column({ name: 'overwrite_aliases', type: 'boolean' })
  overwriteAliases!: boolean;

  @Column({ name: 'fix_missing_versions', type: 'boolean' })
  fixMissingVersions!: boolean;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200, nullable: true, unique: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the normalised input, to tell a replay from a different request with the same key. */
  @Column({ name: 'input_hash', type: 'char', length: 64 })
  inputHash!: string;

  @Index('idx_promotions_status')
  @Column({ type: 'varchar', length: 10 })
  status!: RunStatus;

  @Column({ name: 'promoted_by', type: 'varchar', length: 64 })
  promotedBy!: string;

  @Column({ name: 'repromoted_from', type: 'uuid', nullable: true })
  repromotedFrom!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** One target stage of a promotion. */
@Entity('promotion_stages')
export class PromotionStageEntity {
  @PrimaryColumn({ name: 'promotion_id', type: 'uuid' })
  promotionId!: string;

  @PrimaryColumn({ name: 'stage_name', type: 'varchar', length: 40 })
  stageName!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'promotion_id' })
  promotion!: Relation<PromotionEntity>;

  @Column({ type: 'varchar', length: 10 })
  status!: RunStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** Error code when it failed (STAGE_UNREACHABLE, UNAUTHENTICATED, VERSION_DOWNGRADE …). */
  @Column({ type: 'varchar', length: 40, nullable: true })
  code!: string | null;

  @Column({ type: 'jsonb' })
  report!: PromotedAssetReport[];

  @Column({ name: 'import_report_id', type: 'uuid', nullable: true })
  importReportId!: string | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
