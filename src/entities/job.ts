import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';

/**
 * A durable job. Any replica may claim one (FOR UPDATE SKIP LOCKED) and holds it by a lease it
 * renews while working; a job whose lease ran out (its runner died) is claimed again, with a new
 * lease token that fences off anything the earlier runner still tries to write.
 */
@Entity('jobs')
@Index('idx_jobs_claim', ['status', 'runAfter'])
export class JobEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 40 })
  kind!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 10 })
  status!: JobStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'locked_by', type: 'varchar', length: 100, nullable: true })
  lockedBy!: string | null;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** Fencing token of the current claim: writes of a runner whose token is gone are refused. */
  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken!: string | null;

  @Column({ name: 'run_after', type: 'timestamptz', default: () => 'now()' })
  runAfter!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
