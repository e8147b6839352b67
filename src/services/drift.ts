/**
 * The drift matrix: for each asset and stage, whether that stage has it, with the same content
 * (checksum) as this stage or not, which version, and the last promotion from here that touched
 * it there. What a portal shows as the Dev/QA/Prod grid.
 */
import { In, type DataSource } from 'typeorm';
import { AssetEntity } from '../entities/asset.js';
import { PromotionEntity, PromotionStageEntity } from '../entities/promotion.js';
import { AppError, badInput } from '../errors.js';
import type { AssetFilter, AssetService } from './assets.js';
import type { StageService } from './stages.js';

export type DriftState = 'MISSING' | 'IN_SYNC' | 'DRIFTED' | 'UNKNOWN';

export interface MatrixCell {
  stageName: string;
  state: DriftState;
  version: string | null;
  checksum: string | null;
  lastPromotion: { id: string; name: string; at: Date } | null;
  /** Why the state is UNKNOWN (the stage could not be asked). */
  error: string | null;
}

export interface MatrixRow {
  assetId: string;
  type: string;
  name: string;
  cells: MatrixCell[];
}

const MAX_ASSETS = 500;
/** How far back promotions are searched for the last one that touched each asset. */
const RECENT_PROMOTIONS = 200;

export class DriftService {
  constructor(
    private readonly db: DataSource,
    private readonly assets: AssetService,
    private readonly stages: StageService,
    private readonly localStage: string,
  ) {}

  async matrix(assetIds: readonly string[] | null | undefined, filter: AssetFilter | null | undefined, stageNames: readonly string[]): Promise<MatrixRow[]> {
    if (!stageNames.length) throw badInput('choose at least one stage', { field: 'stages' });
    const ids = assetIds?.length ? [...new Set(assetIds)] : filter ? await this.assets.idsMatching(filter) : null;
    if (!ids) throw badInput('give assetIds or a filter', { field: 'assetIds' });
    if (ids.length > MAX_ASSETS) throw badInput(`at most ${MAX_ASSETS} assets at a time; narrow the filter`, { field: 'assetIds' });
    const local = new Map((ids.length ? await this.db.getRepository(AssetEntity).findBy({ id: In(ids) }) : []).map((a) => [a.id, a]));
    const missing = ids.filter((id) => !local.has(id));
    if (missing.length) throw new AppError('NOT_FOUND', `assets not found: ${missing.join(', ')}`, { ids: missing });

    const columns = await Promise.all(
      stageNames.map(async (stageName) => {
        const last = await this.lastPromotions(stageName);
        if (stageName === this.localStage) {
          return { stageName, found: new Map([...local].map(([id, a]) => [id, { checksum: a.checksum, version: a.version }])), error: null, last };
        }
        try {
          const remote = await this.stages.remote(stageName);
          const found = new Map([...(await remote.assets(ids))].map(([id, a]) => [id, { checksum: a.checksum, version: a.version }]));
          return { stageName, found, error: null, last };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          return { stageName, found: null, error: `${err.code}: ${err.message}`, last };
        }
      }),
    );

    return ids.map((id) => {
      const asset = local.get(id)!;
      return {
        assetId: id,
        type: asset.type,
        name: asset.name,
        cells: columns.map(({ stageName, found, error, last }) => {
          const there = found?.get(id);
          const state: DriftState = !found ? 'UNKNOWN' : !there ? 'MISSING' : there.checksum === asset.checksum ? 'IN_SYNC' : 'DRIFTED';
          return { stageName, state, version: there?.version ?? null, checksum: there?.checksum ?? null, lastPromotion: last.get(id) ?? null, error };
        }),
      };
    });
  }

  /** Per asset, the most recent promotion from this instance that sent it to `stageName`. */
  private async lastPromotions(stageName: string): Promise<Map<string, { id: string; name: string; at: Date }>> {
    const rows = await this.db
      .getRepository(PromotionStageEntity)
      .createQueryBuilder('s')
      .innerJoin(PromotionEntity, 'p', 'p.id = s.promotion_id')
      .select(['s.report AS report', 'p.id AS id', 'p.name AS name', 's.finished_at AS at'])
      .where("s.stage_name = :stageName AND s.status IN ('SUCCESS', 'FAILURE') AND s.finished_at IS NOT NULL", { stageName })
      .orderBy('s.finished_at', 'DESC')
      .limit(RECENT_PROMOTIONS)
      .getRawMany<{ report: { assetId: string; status: string }[]; id: string; name: string; at: Date }>();
    const last = new Map<string, { id: string; name: string; at: Date }>();
    for (const row of rows) {
      for (const a of row.report) if (a.status !== 'FAILURE' && !last.has(a.assetId)) last.set(a.assetId, { id: row.id, name: row.name, at: row.at });
    }
    return last;
  }
}
