import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Archives1764000000000 implements MigrationInterface {
  name = 'Archives1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "import_reports" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" character varying(64) NOT NULL, "source_stage" character varying(40) NOT NULL, "status" character varying(16) NOT NULL, "options" jsonb NOT NULL, "types" jsonb NOT NULL, "assets" jsonb NOT NULL, CONSTRAINT "PK_ca41e0da39dc0513031c17f9b33" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_import_reports_created" ON "import_reports" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "import_reports"`);
  }
}
