import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access profiles and user groups: groups hold profiles, users belong to groups. The three roles
 * become built-in profiles (rows, so groups can hold them; their privileges live in the code).
 */
export class AccessProfiles1764800000000 implements MigrationInterface {
  name = 'AccessProfiles1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "access_profiles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "description" character varying(1000) NOT NULL DEFAULT '', "privileges" character varying(32) array NOT NULL DEFAULT '{}', "built_in" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_023a653c764a994659a8c4ec95d" UNIQUE ("name"), CONSTRAINT "PK_2c010ee4f3b3d9c89b46674dd4b" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "user_groups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "description" character varying(1000) NOT NULL DEFAULT '', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_cfdb13ccb9e22f9108f42983014" UNIQUE ("name"), CONSTRAINT "PK_ea7760dc75ee1bf0b09ab9b3289" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "user_group_members" ("group_id" uuid NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "PK_df1fd0cc48111f3bc8f945046ab" PRIMARY KEY ("group_id", "user_id"))`);
    await q.query(`CREATE INDEX "idx_user_group_members_user" ON "user_group_members" ("user_id")`);
    await q.query(`CREATE TABLE "user_group_profiles" ("group_id" uuid NOT NULL, "profile_id" uuid NOT NULL, CONSTRAINT "PK_36c32c1979b35442e72f1c9cd0e" PRIMARY KEY ("group_id", "profile_id"))`);
    await q.query(`CREATE INDEX "idx_user_group_profiles_profile" ON "user_group_profiles" ("profile_id")`);
    await q.query(`ALTER TABLE "user_group_members" ADD CONSTRAINT "FK_0ff9c9893bced1f20a11c992c16" FOREIGN KEY ("group_id") REFERENCES "user_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "user_group_members" ADD CONSTRAINT "FK_32ba1d353e99d14130486cd34cf" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "user_group_profiles" ADD CONSTRAINT "FK_def9c5770b0d2fae0d6786eff1f" FOREIGN KEY ("group_id") REFERENCES "user_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "user_group_profiles" ADD CONSTRAINT "FK_2c22e70b0ed5a61d22a8e00ee9b" FOREIGN KEY ("profile_id") REFERENCES "access_profiles"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    // The built-in profiles; their privileges column stays empty (the code's builtInProfiles rule).
    await q.query(`INSERT INTO "access_profiles" ("name", "description", "built_in") VALUES ('SUPER_ADMIN', 'Built in: every privilege.', true), ('API_PROVIDER', 'Built in: everything but managing users.', true), ('VIEWER', 'Built in: read only.', true)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "user_group_profiles" DROP CONSTRAINT "FK_2c22e70b0ed5a61d22a8e00ee9b"`);
    await q.query(`ALTER TABLE "user_group_profiles" DROP CONSTRAINT "FK_def9c5770b0d2fae0d6786eff1f"`);
    await q.query(`ALTER TABLE "user_group_members" DROP CONSTRAINT "FK_32ba1d353e99d14130486cd34cf"`);
    await q.query(`ALTER TABLE "user_group_members" DROP CONSTRAINT "FK_0ff9c9893bced1f20a11c992c16"`);
    await q.query(`DROP INDEX "public"."idx_user_group_profiles_profile"`);
    await q.query(`DROP TABLE "user_group_profiles"`);
    await q.query(`DROP INDEX "public"."idx_user_group_members_user"`);
    await q.query(`DROP TABLE "user_group_members"`);
    await q.query(`DROP TABLE "user_groups"`);
    await q.query(`DROP TABLE "access_profiles"`);
  }
}
