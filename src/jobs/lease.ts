/**
 * Fencing: every claim of a job gets a fresh lease token, stored on the job row. A runner that
 * lost its lease (it stalled, another runner took the job over) must not write any more: its
 * writes run in transactions that first check, and hold, the job row with its token.
 *
 * The check takes `FOR KEY SHARE` on the row: it does not conflict with the owner's own lease
 * renewals (plain UPDATEs of non-key columns), but it does conflict with the claim's
 * `FOR UPDATE SKIP LOCKED`, so nobody can take the job over while a fenced write is in flight;
 * and a takeover that committed first makes the check fail.
 */
import type { EntityManager } from 'typeorm';

/** The job was taken over by another runner: this one stops without writing anything more. */
export class LeaseLostError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} lost its lease to another runner; this runner stops writing`);
    this.name = 'LeaseLostError';
  }
}

/** Throws LeaseLostError unless job `jobId` still carries `token`; holds the row until `tx` ends. */
export async function assertLease(tx: EntityManager, jobId: string, token: string): Promise<void> {
  if (!tx.queryRunner?.isTransactionActive) {
    // Outside a transaction the row lock would end with the statement, fencing nothing.
    throw new Error('assertLease needs a transaction (use JobContext.transaction)');
  }
  const rows: unknown[] = await tx.query('SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 FOR KEY SHARE', [jobId, token]);
  if (rows.length === 0) throw new LeaseLostError(jobId);
}
