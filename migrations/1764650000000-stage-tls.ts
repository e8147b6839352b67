import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * https stages get real TLS settings (trusted CA, client certificate, sealed client key) in place
 * of the keystore/key alias columns that nothing ever read; a rollback's `promotedBy` grows to
 * hold "<user on the source> via <user here>".
 */
export class StageTls1764650000000 implements MigrationInterface {
  name = 'StageTls1764650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "stages" DROP COLUMN "keystore_alias"`);
    await q.query(`ALTER TABLE "stages" DROP COLUMN "key_alias"`);
    await q.query(`ALTER TABLE "stages" ADD "ca_certificate" text`);
    await q.query(`ALTER TABLE "stages" ADD "client_certificate" text`);
    await q.query(`ALTER TABLE "stages" ADD "sealed_client_key" text`);
    await q.query(`ALTER TABLE "rollbacks" ALTER COLUMN "promoted_by" TYPE character varying(160)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rollbacks" ALTER COLUMN "promoted_by" TYPE character varying(64)`);
    await q.query(`ALTER TABLE "stages" DROP COLUMN "sealed_client_key"`);
    await q.query(`ALTER TABLE "stages" DROP COLUMN "client_certificate"`);
    await q.query(`ALTER TABLE "stages" DROP COLUMN "ca_certificate"`);
    await q.query(`ALTER TABLE "stages" ADD "key_alias" character varying(100)`);
    await q.query(`ALTER TABLE "stages" ADD "keystore_alias" character varying(100)`);
  }
}
