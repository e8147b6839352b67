import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Failed sign-ins per username and per client address, for throttling across replicas. */
export class LoginAttempts1764400000000 implements MigrationInterface {
  name = 'LoginAttempts1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "login_attempts" ("key" character varying(120) NOT NULL, "failures" integer NOT NULL, "locked_until" TIMESTAMP WITH TIME ZONE, "last_failure_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_login_attempts_key" PRIMARY KEY ("key"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "login_attempts"`);
  }
}
