import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Join tokens of deleted groups leave a tombstone, so their gateways learn the group is gone
 * whenever they next present the token.
 */
export class GatewayTokenTombstones1764700000000 implements MigrationInterface {
  name = 'GatewayTokenTombstones1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway_token_tombstones" ("token_hash" character(64) NOT NULL, "group_name" character varying(100) NOT NULL, "deleted_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_gateway_token_tombstones" PRIMARY KEY ("token_hash"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway_token_tombstones"`);
  }
}
