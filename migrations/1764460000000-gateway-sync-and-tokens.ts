import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Re-syncing a service version with another upstream keeps the earlier copy as history, so a
 * version number may repeat within a group; gateway instances remember the join token that
 * registered them (only that token may heartbeat for them).
 */
export class GatewaySyncAndTokens1764460000000 implements MigrationInterface {
  name = 'GatewaySyncAndTokens1764460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "service_versions" DROP CONSTRAINT "uq_service_versions_version"`);
    await q.query(`CREATE INDEX "idx_service_versions_version" ON "service_versions" ("group_id", "service_name", "version")`);
    await q.query(`ALTER TABLE "gateway_instances" ADD "token_id" uuid`);
    await q.query(`CREATE INDEX "idx_gateway_instances_token" ON "gateway_instances" ("token_id")`);
    await q.query(`ALTER TABLE "gateway_instances" ADD CONSTRAINT "FK_6369df2044eab4e6559f16dd205" FOREIGN KEY ("token_id") REFERENCES "gateway_tokens"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "gateway_instances" DROP CONSTRAINT "FK_6369df2044eab4e6559f16dd205"`);
    await q.query(`DROP INDEX "public"."idx_gateway_instances_token"`);
    await q.query(`ALTER TABLE "gateway_instances" DROP COLUMN "token_id"`);
    await q.query(`DROP INDEX "public"."idx_service_versions_version"`);
    // Only the newest copy of a version can stay under the old unique rule (it is the one that runs).
    await q.query(`DELETE FROM "service_versions" v WHERE EXISTS (SELECT 1 FROM "service_versions" n WHERE n.group_id = v.group_id AND n.service_name = v.service_name AND n.version = v.version AND (n.created_at, n.id) > (v.created_at, v.id))`);
    await q.query(`ALTER TABLE "service_versions" ADD CONSTRAINT "uq_service_versions_version" UNIQUE ("group_id", "service_name", "version")`);
  }
}
