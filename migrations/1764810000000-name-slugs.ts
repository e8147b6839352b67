import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Names as users type them: gateway groups and service registries get a slug (the URL/key form
 * of the display name) beside their name. Existing names become their slugs; two that would
 * clash ("a b" and "a-b") keep them apart with a piece of the row id.
 */
export class NameSlugs1764810000000 implements MigrationInterface {
  name = 'NameSlugs1764810000000';

  async up(q: QueryRunner): Promise<void> {
    const slug = `coalesce(nullif(trim(both '-' from lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), ''), 'item')`;
    for (const [table, partition] of [['gateway_groups', '1'], ['service_registries', 'group_id']] as const) {
      await q.query(`ALTER TABLE "${table}" ADD "slug" character varying(100)`);
      await q.query(
        `UPDATE "${table}" t SET slug = s.slug || CASE WHEN s.n > 1 THEN '-' || left(t.id::text, 8) ELSE '' END
         FROM (SELECT id, left(${slug}, 90) AS slug, row_number() OVER (PARTITION BY ${partition}, ${slug} ORDER BY created_at, id) AS n FROM "${table}") s
         WHERE s.id = t.id`,
      );
      await q.query(`ALTER TABLE "${table}" ALTER COLUMN "slug" SET NOT NULL`);
    }
    await q.query(`ALTER TABLE "gateway_groups" ADD CONSTRAINT "UQ_538ef8651cc3e6f1186421ece0b" UNIQUE ("slug")`);
    await q.query(`ALTER TABLE "service_registries" ADD CONSTRAINT "uq_service_registries_slug" UNIQUE ("group_id", "slug")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "service_registries" DROP CONSTRAINT "uq_service_registries_slug"`);
    await q.query(`ALTER TABLE "service_registries" DROP COLUMN "slug"`);
    await q.query(`ALTER TABLE "gateway_groups" DROP CONSTRAINT "UQ_538ef8651cc3e6f1186421ece0b"`);
    await q.query(`ALTER TABLE "gateway_groups" DROP COLUMN "slug"`);
  }
}
