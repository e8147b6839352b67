import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Consecutive failed sign-ins per throttle key (a digested username or a client address), shared
 * by every replica. A row is written only when an attempt fails, and the username's row is
 * deleted by a success.
 */
@Entity('login_attempts')
export class LoginAttemptEntity {
  /** `user:<sha256 of the username>` or `addr:<client address>`. */
  @PrimaryColumn({ type: 'varchar', length: 120 })
  key!: string;

  @Column({ type: 'integer' })
  failures!: number;

  /** Sign-ins with this key are refused before any password check until then. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'last_failure_at', type: 'timestamptz' })
  lastFailureAt!: Date;
}
