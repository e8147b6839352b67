import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Rollbacks1764200000000 implements MigrationInterface {
  name = 'Rollbacks1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "rollbacks" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "promotion_id" uuid NOT NULL, "source_stage" character varying(40) NOT NULL, "promoted_by" character varying(64) NOT NULL, "promotion_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "rollback_time" TIMESTAMP WITH TIME ZONE, "status" character varying(12) NOT NULL, "import_report_id" uuid NOT NULL, "pre_images" jsonb NOT NULL, "report" jsonb NOT NULL, CONSTRAINT "PK_2e2a438cff2761a113b1b52d7f3" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_rollbacks_promotion" ON "rollbacks" ("promotion_id")`);
    await q.query(`CREATE INDEX "idx_rollbacks_name" ON "rollbacks" ("name", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rollbacks"`);
  }
}
