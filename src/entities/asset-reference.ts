import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { ReferenceKind } from '../domain/dependencies.js';
import { AssetEntity } from './asset.js';

/** A reference from one asset to another; its kind follows from the two types. */
@Entity('asset_references')
@Index('idx_asset_references_to', ['toId'])
export class AssetReferenceEntity {
  @PrimaryColumn({ name: 'from_id', type: 'uuid' })
  fromId!: string;

  @PrimaryColumn({ name: 'to_id', type: 'uuid' })
  toId!: string;

  @Column({ type: 'varchar', length: 8 })
  kind!: ReferenceKind;

  @ManyToOne(() => AssetEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'from_id' })
  from!: Relation<AssetEntity>;

  // Deleting a required target is refused by the service first; optional references just go.
  @ManyToOne(() => AssetEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'to_id' })
  to!: Relation<AssetEntity>;
}
