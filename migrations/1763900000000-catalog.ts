import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Catalog1763900000000 implements MigrationInterface {
  name = 'Catalog1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "assets" ("id" uuid NOT NULL, "type" character varying(40) NOT NULL, "name" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "team" character varying(100), "version" character varying(40), "natural_key" character varying(400) NOT NULL, "spec" jsonb NOT NULL, "sealed_secret" text, "secret_digest" character varying(128), "checksum" character(64) NOT NULL, "version_set_id" uuid, "system_version" integer, "search_text" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" character varying(64) NOT NULL, "updated_by" character varying(64) NOT NULL, CONSTRAINT "UQ_c8c38c3b2cefbe33bb4f31c8f7e" UNIQUE ("natural_key"), CONSTRAINT "PK_da96729a8b113377cfb6a62439c" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_assets_type" ON "assets" ("type")`);
    await q.query(`CREATE INDEX "idx_assets_team" ON "assets" ("team")`);
    await q.query(`CREATE INDEX "idx_assets_version_set" ON "assets" ("version_set_id")`);
    await q.query(`CREATE INDEX "idx_assets_order" ON "assets" ("name", "id")`);
    // Keyword search is a case-insensitive regular expression over search_text; a trigram GIN
    // index serves regex and LIKE matching without scanning every row.
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`CREATE INDEX "idx_assets_search" ON "assets" USING gin ("search_text" gin_trgm_ops)`);
    await q.query(`CREATE TABLE "asset_references" ("from_id" uuid NOT NULL, "to_id" uuid NOT NULL, "kind" character varying(8) NOT NULL, CONSTRAINT "PK_c55db721bed8b502ba358992bc5" PRIMARY KEY ("from_id", "to_id"))`);
    await q.query(`CREATE INDEX "idx_asset_references_to" ON "asset_references" ("to_id")`);
    await q.query(`ALTER TABLE "asset_references" ADD CONSTRAINT "FK_ddc7e9cac480c4dea5a27886225" FOREIGN KEY ("from_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "asset_references" ADD CONSTRAINT "FK_64281e45cb58bced7aecfb40d94" FOREIGN KEY ("to_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "asset_references"`);
    await q.query(`DROP TABLE "assets"`);
  }
}
