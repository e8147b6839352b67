import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { AssetType } from '../domain/asset-types.js';

/**
 * One asset of any type. The id is stable across stages (a promoted asset keeps it).
 * Indexes: natural key (unique), type, team, (lower(name), id) and (updated_at, id) for the listing orders, version set,
 * and a trigram GIN index on search_text for keyword search (created in the migration).
 */
@Entity('assets')
@Index('idx_assets_order', { synchronize: false }) // (lower(name), id): the listing order
@Index('idx_assets_updated', { synchronize: false }) // (updated_at, id)
@Index('idx_assets_search', { synchronize: false })
export class AssetEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('idx_assets_type')
  @Column({ type: 'varchar', length: 40 })
  type!: AssetType;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Index('idx_assets_team')
  @Column({ type: 'varchar', length: 100, nullable: true })
  team!: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  version!: string | null;

  /** type:name:version:stage — what makes two assets "the same thing" on one instance. */
  @Column({ name: 'natural_key', type: 'varchar', length: 400, unique: true })
  naturalKey!: string;

  /** Normalised spec (defaults filled in; secure values removed). */
  @Column({ type: 'jsonb' })
  spec!: Record<string, unknown>;

  /** Secure value sealed with the instance key (aliases marked secure). */
  @Column({ name: 'sealed_secret', type: 'text', nullable: true })
  sealedSecret!: string | null;

  /** Slow salted digest of the secure value, so changing it changes the checksum. */
  @Column({ name: 'secret_digest', type: 'varchar', length: 128, nullable: true })
  secretDigest!: string | null;

  @Column({ type: 'char', length: 64 })
  checksum!: string;

  @Index('idx_assets_version_set')
  @Column({ name: 'version_set_id', type: 'uuid', nullable: true })
  versionSetId!: string | null;

  @Column({ name: 'system_version', type: 'int', nullable: true })
  systemVersion!: number | null;

  /** Lower-cased attributes joined by newlines, for keyword search. */
  @Column({ name: 'search_text', type: 'text' })
  searchText!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 64 })
  updatedBy!: string;
}
