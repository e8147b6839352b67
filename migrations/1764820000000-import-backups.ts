import type { MigrationInterface, QueryRunner } from 'typeorm';

/** enableImportBackup: the versions of APIs an import replaced, to list and restore. */
export class ImportBackups1764820000000 implements MigrationInterface {
  name = 'ImportBackups1764820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "import_backups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "asset_id" uuid NOT NULL, "type" character varying(40) NOT NULL, "name" character varying(200) NOT NULL, "version" character varying(40), "import_report_id" uuid NOT NULL, "created_by" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "pre_image" jsonb NOT NULL, "restored_at" TIMESTAMP WITH TIME ZONE, "restored_by" character varying(64), CONSTRAINT "PK_c95f20316d85980b213500fc6c5" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_import_backups_asset" ON "import_backups" ("asset_id", "created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_import_backups_asset"`);
    await q.query(`DROP TABLE "import_backups"`);
  }
}
