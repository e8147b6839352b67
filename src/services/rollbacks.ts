/**
 * Rollbacks on the target: undo one promotion's import by restoring the pre-image of everything
 * it touched, in one transaction. A later import that built on the same assets blocks it
 * (CONFLICT, naming them) unless forced. Progress is stored on the stream `rollback:<id>`.
 */
import { In, type DataSource, type EntityManager } from 'typeorm';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { parseId } from '../db/ids.js';
import { AssetReferenceEntity } from '../entities/asset-reference.js';
import { AssetEntity } from '../entities/asset.js';
import { restorePreImage } from './pre-images.js';
import { RollbackEntity, type PreImage, type RollbackReportEntry, type RollbackStatus } from '../entities/rollback.js';
import { assetProgress } from '../domain/progress-batches.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { appendEvent, type EventLog, type StoredEvent } from '../events/event-log.js';
import { byName, orderingOf, pageEntities, timeRange, type Page, type PageRequest, type SortKey } from './paging.js';

export const rollbackStream = (id: string) => `rollback:${id}`;
const MAX_PAGE = 200;

export type RollbackOrderField = 'NAME' | 'PROMOTION_TIME';
export interface RollbackOrder {
  field: RollbackOrderField;
  direction: 'ASC' | 'DESC';
}
const rollbackOrders: Record<RollbackOrderField, SortKey[]> = { NAME: [byName('r')], PROMOTION_TIME: [{ sql: 'r.promotion_time', kind: 'time' }] };

export interface RollbackFilter {
  status?: RollbackStatus | null;
  promotionId?: string | null;
  text?: string | null;
  /** Times from (inclusive) … to (exclusive). */
  from?: Date | null;
  to?: Date | null;
}

export class RollbackService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventLog,
  ) {}

  async get(id: string, manager: EntityManager = this.db.manager): Promise<RollbackEntity> {
    const rollback = await manager.getRepository(RollbackEntity).findOneBy({ id: parseId('rollback', id) });
    if (!rollback) throw notFound('rollback', id);
    return rollback;
  }

  /** Filtered by status, promotion, text and promotion time; alphabetical (case-insensitive) unless ordered otherwise. */
  async list(filter: RollbackFilter, page: PageRequest, order: RollbackOrder = { field: 'NAME', direction: 'ASC' }): Promise<Page<RollbackEntity>> {
    const query = this.db.getRepository(RollbackEntity).createQueryBuilder('r');
    if (filter.status) query.andWhere('r.status = :status', { status: filter.status });
    if (filter.promotionId) query.andWhere('r.promotion_id = :promotionId', { promotionId: filter.promotionId });
    if (filter.text) query.andWhere('(r.name ILIKE :text OR r.description ILIKE :text)', { text: `%${filter.text.replace(/[\\%_]/g, '\\$&')}%` });
    timeRange(query, 'r.promotion_time', filter);
    return pageEntities(query, 'r', page, orderingOf('rollbacks', rollbackOrders, order), MAX_PAGE);
  }

  async delete(id: string): Promise<boolean> {
    await this.get(id);
    await this.db.getRepository(RollbackEntity).delete({ id });
    return true;
  }

  followProgress(id: string, afterSequence: number): AsyncIterableIterator<StoredEvent> {
    return this.events.follow(rollbackStream(id), afterSequence, { until: (e) => e.type === 'SUCCEEDED' || e.type === 'FAILED' });
  }

  /** Restores the state before the import, exactly, in one transaction. */
  async rollback(id: string, force: boolean): Promise<RollbackEntity> {
    try {
      return await this.db.transaction(async (tx) => {
        const rollback = await tx.getRepository(RollbackEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!rollback) throw notFound('rollback', id);
        if (rollback.status !== 'AVAILABLE') throw conflict(`rollback ${rollback.name} is ${rollback.status.toLowerCase().replace('_', ' ')}`);
        await this.progress(tx, id, 'STARTED', `rolling back ${rollback.name}`, 0, rollback.preImages.length);
        if (!force) await this.refuseIfBuiltOn(tx, rollback);
        const report = await this.restore(tx, rollback, force);
        await tx.getRepository(RollbackEntity).update({ id }, { status: 'ROLLED_BACK', rollbackTime: new Date(), report });
        await this.progress(tx, id, 'SUCCEEDED', `rolled back ${rollback.preImages.length} assets`, rollback.preImages.length, rollback.preImages.length);
        return tx.getRepository(RollbackEntity).findOneByOrFail({ id });
      });
    } catch (err) {
      // A clash found while restoring (e.g. an asset took a restored name meanwhile) fails the
      // rollback for good; refusals (NOT_FOUND, CONFLICT before any change) leave it AVAILABLE.
      if (isUniqueViolation(err) || isForeignKeyViolation(err)) {
        await this.db.transaction(async (tx) => {
          await tx.getRepository(RollbackEntity).update({ id }, { status: 'FAILED', rollbackTime: new Date() });
          await this.progress(tx, id, 'FAILED', 'restoring clashed with later changes; nothing was changed');
        });
        throw conflict('restoring clashed with later changes on this stage; nothing was changed and the rollback is marked FAILED');
      }
      throw err;
    }
  }

  /** Later imports (still rollback-able) that touched the same assets would be silently undone. */
  private async refuseIfBuiltOn(tx: EntityManager, rollback: RollbackEntity): Promise<void> {
    const mine = new Set(rollback.preImages.map((p) => p.assetId));
    const later = await tx
      .getRepository(RollbackEntity)
      .createQueryBuilder('r')
      .where("r.status = 'AVAILABLE' AND r.promotion_time > :at AND r.id <> :id", { at: rollback.promotionTime, id: rollback.id })
      .getMany();
    const builtOn = later.filter((r) => r.preImages.some((p) => mine.has(p.assetId)));
    if (builtOn.length) {
      throw new AppError('CONFLICT', `later promotions changed the same assets: ${builtOn.map((r) => r.name).join(', ')}; roll those back first or force`, {
        rollbacks: builtOn.map((r) => ({ id: r.id, name: r.name })),
      });
    }
  }

  private async restore(tx: EntityManager, rollback: RollbackEntity, force: boolean): Promise<RollbackReportEntry[]> {
    const assets = tx.getRepository(AssetEntity);
    const refs = tx.getRepository(AssetReferenceEntity);
    const created = rollback.preImages.filter((p) => p.row === null).map((p) => p.assetId);
    if (created.length && !force) {
      // Something outside this rollback came to require an asset it would delete.
      const dependents = await refs.find({ where: { toId: In(created), kind: 'REQUIRED' } });
      const outside = dependents.filter((d) => !created.includes(d.fromId));
      if (outside.length) {
        throw conflict(`assets created by ${rollback.name} are now required by others (${[...new Set(outside.map((d) => d.fromId))].join(', ')}); force to remove anyway`);
      }
    }
    const report: RollbackReportEntry[] = [];
    // Reverse apply order: dependents before what they depend on.
    for (const image of [...rollback.preImages].reverse()) {
      if (image.row === null) {
        await assets.delete({ id: image.assetId });
        report.push({ type: image.type, name: image.name, status: 'REMOVED', comment: 'created by the promotion' });
      } else {
        await restorePreImage(tx, image);
        report.push({ type: image.type, name: image.name, status: 'RESTORED', comment: 'earlier content restored' });
      }
    }
    // Batched like a promotion's: the report holds the per-asset detail.
    for (const step of assetProgress(report)) await this.progress(tx, rollback.id, 'ASSET', step.message, step.completed, step.total);
    return report.reverse();
  }

  private progress(manager: EntityManager, id: string, phase: string, message: string, completed: number | null = null, total: number | null = null) {
    return appendEvent(manager, rollbackStream(id), phase, { rollbackId: id, phase, message, completed, total });
  }
}
