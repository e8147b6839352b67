import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Gateways1764300000000 implements MigrationInterface {
  name = 'Gateways1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway_groups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "description" text NOT NULL DEFAULT '', "revision" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_0781443327902234ee0409b3401" UNIQUE ("name"), CONSTRAINT "PK_1b3b8c4da30f12a9f66b9f8229e" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "gateway_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "group_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_9a7d64c79ba834346582a212254" UNIQUE ("token_hash"), CONSTRAINT "PK_f53d1ffc86a74fe2e24bfbfc148" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_gateway_tokens_group" ON "gateway_tokens" ("group_id")`);
    await q.query(`CREATE TABLE "gateway_instances" ("id" uuid NOT NULL, "group_id" uuid NOT NULL, "hostname" character varying(255) NOT NULL, "last_seen" TIMESTAMP WITH TIME ZONE NOT NULL, "config_revision" integer NOT NULL, CONSTRAINT "PK_bbb4b9bd00d749b74cb7229b4ea" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_gateway_instances_group" ON "gateway_instances" ("group_id")`);
    await q.query(`CREATE TABLE "service_versions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "group_id" uuid NOT NULL, "service_name" character varying(200) NOT NULL, "asset_id" uuid NOT NULL, "version" character varying(40) NOT NULL, "routes" jsonb NOT NULL, "upstream" jsonb NOT NULL, "synced_from" uuid, "created_by" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_service_versions_version" UNIQUE ("group_id", "service_name", "version"), CONSTRAINT "PK_2cdf123a2486f00862495e81101" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "group_services" ("group_id" uuid NOT NULL, "service_name" character varying(200) NOT NULL, "running_version_id" uuid NOT NULL, CONSTRAINT "PK_37e1a011c972f57f12f0009063b" PRIMARY KEY ("group_id", "service_name"))`);
    await q.query(`CREATE TABLE "service_registries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "group_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "type" character varying(12) NOT NULL, "address" character varying(500) NOT NULL, "sealed_token" text, "refresh_ms" integer NOT NULL DEFAULT '10000', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_service_registries_name" UNIQUE ("group_id", "name"), CONSTRAINT "PK_8dc84b481f833b58d1d53192718" PRIMARY KEY ("id"))`);
    await q.query(`ALTER TABLE "gateway_tokens" ADD CONSTRAINT "FK_49b3b2f96ee00a4c8bda1643620" FOREIGN KEY ("group_id") REFERENCES "gateway_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "gateway_instances" ADD CONSTRAINT "FK_00d2c7004103bf0de999be95243" FOREIGN KEY ("group_id") REFERENCES "gateway_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "service_versions" ADD CONSTRAINT "FK_e16941e534e6a8544befd891f9e" FOREIGN KEY ("group_id") REFERENCES "gateway_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "group_services" ADD CONSTRAINT "FK_c25ead9f85623ca8edff56b3c94" FOREIGN KEY ("group_id") REFERENCES "gateway_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "group_services" ADD CONSTRAINT "FK_15c5b9fe993594936568d0dec46" FOREIGN KEY ("running_version_id") REFERENCES "service_versions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "service_registries" ADD CONSTRAINT "FK_408e39ddd5f2b6060e124352391" FOREIGN KEY ("group_id") REFERENCES "gateway_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    // Every instance has a group called default from the start.
    await q.query(`INSERT INTO "gateway_groups" ("name", "description") VALUES ('default', 'The default gateway group')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "service_registries"`);
    await q.query(`DROP TABLE "group_services"`);
    await q.query(`DROP TABLE "service_versions"`);
    await q.query(`DROP TABLE "gateway_instances"`);
    await q.query(`DROP TABLE "gateway_tokens"`);
    await q.query(`DROP TABLE "gateway_groups"`);
  }
}
