import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The append-only event log behind every subscription. Rows are announced to all replicas with
 * NOTIFY (payload: the sequence only), and a subscriber resumes with `afterSequence`.
 */
@Entity('events')
@Index('idx_events_stream', ['stream', 'sequence'])
export class EventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  sequence!: string;

  /** What the event belongs to, e.g. `audit`, `promotion:<id>`. */
  @Column({ type: 'varchar', length: 200 })
  stream!: string;

  @Column({ type: 'varchar', length: 60 })
  type!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
