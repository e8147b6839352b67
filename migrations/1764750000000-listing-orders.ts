import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the listing orders (src/services/paging.ts): names sort case-insensitively, so the
 * (name, id) indexes become (lower(name), id); the time orders get (time, id). Declared in the
 * entities with synchronize: false (expression indexes).
 */
export class ListingOrders1764750000000 implements MigrationInterface {
  name = 'ListingOrders1764750000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, index] of [['assets', 'idx_assets_order'], ['promotions', 'idx_promotions_name'], ['rollbacks', 'idx_rollbacks_name']]) {
      await q.query(`DROP INDEX "${index}"`);
      await q.query(`CREATE INDEX "${index}" ON "${table}" (lower("name"), "id")`);
    }
    await q.query(`CREATE INDEX "idx_assets_updated" ON "assets" ("updated_at", "id")`);
    await q.query(`CREATE INDEX "idx_promotions_created" ON "promotions" ("created_at", "id")`);
    await q.query(`CREATE INDEX "idx_rollbacks_time" ON "rollbacks" ("promotion_time", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of ['idx_assets_updated', 'idx_promotions_created', 'idx_rollbacks_time']) await q.query(`DROP INDEX "${index}"`);
    for (const [table, index] of [['assets', 'idx_assets_order'], ['promotions', 'idx_promotions_name'], ['rollbacks', 'idx_rollbacks_name']]) {
      await q.query(`DROP INDEX "${index}"`);
      await q.query(`CREATE INDEX "${index}" ON "${table}" ("name", "id")`);
    }
  }
}
