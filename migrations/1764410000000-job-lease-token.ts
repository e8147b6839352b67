import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each claim of a job stores a fresh lease token; writes of a runner that lost it are refused. */
export class JobLeaseToken1764410000000 implements MigrationInterface {
  name = 'JobLeaseToken1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "jobs" ADD "lease_token" uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "jobs" DROP COLUMN "lease_token"`);
  }
}
