import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Promotions1764100000000 implements MigrationInterface {
  name = 'Promotions1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "jobs" ("id" BIGSERIAL NOT NULL, "kind" character varying(40) NOT NULL, "payload" jsonb NOT NULL, "status" character varying(10) NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "locked_by" character varying(100), "locked_until" TIMESTAMP WITH TIME ZONE, "run_after" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_jobs_claim" ON "jobs" ("status", "run_after")`);
    await q.query(`CREATE TABLE "promotions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "asset_ids" jsonb NOT NULL, "optional" character varying(8) NOT NULL, "optional_ids" jsonb NOT NULL, "target_stages" jsonb NOT NULL, "overwrite_assets" boolean NOT NULL, "overwrite_aliases" boolean NOT NULL, "fix_missing_versions" boolean NOT NULL, "idempotency_key" character varying(200), "input_hash" character(64) NOT NULL, "status" character varying(10) NOT NULL, "promoted_by" character varying(64) NOT NULL, "repromoted_from" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_45cda6f00082436bb78741eee24" UNIQUE ("idempotency_key"), CONSTRAINT "PK_380cecbbe3ac11f0e5a7c452c34" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_promotions_status" ON "promotions" ("status")`);
    await q.query(`CREATE INDEX "idx_promotions_name" ON "promotions" ("name", "id")`);
    await q.query(`CREATE TABLE "promotion_stages" ("promotion_id" uuid NOT NULL, "stage_name" character varying(40) NOT NULL, "status" character varying(10) NOT NULL, "reason" text, "code" character varying(40), "report" jsonb NOT NULL, "import_report_id" uuid, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_1a48e9d931b50cc809411e6aaf7" PRIMARY KEY ("promotion_id", "stage_name"))`);
    await q.query(`CREATE TABLE "stages" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(40) NOT NULL, "description" text NOT NULL DEFAULT '', "url" character varying(500) NOT NULL, "username" character varying(64) NOT NULL, "sealed_password" text NOT NULL, "keystore_alias" character varying(100), "key_alias" character varying(100), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_62914e6926ccc4850911e89ee1a" UNIQUE ("name"), CONSTRAINT "PK_16efa0f8f5386328944769b9e6d" PRIMARY KEY ("id"))`);
    await q.query(`ALTER TABLE "promotion_stages" ADD CONSTRAINT "FK_dc39dfe4fd1cbcf1fb08febff35" FOREIGN KEY ("promotion_id") REFERENCES "promotions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "promotion_stages"`);
    await q.query(`DROP TABLE "promotions"`);
    await q.query(`DROP TABLE "stages"`);
    await q.query(`DROP TABLE "jobs"`);
  }
}
