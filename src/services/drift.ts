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
import type { AuthUser } from './auth.js';
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

/** Per request: at most this many asset ids (after the filter, too) and stage names. */
export const MATRIX_MAX_ASSETS = 500;
export const MATRIX_MAX_STAGES = 10;
/** How far back promotions are searched for the last one that touched each asset. */
const RECENT_PROMOTIONS = 200;
const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a remote stage's copies of assets: batched per stage and per operation by the caller. */
export type RemoteAssetReader = (stageName: string, ids: readonly string[]) => Promise<ReadonlyMap<string, { checksum: string; version: string | null }>>;

/**
 * The arguments, checked before anything is read: list sizes are bounded (the grid is
 * assets × stages, and each remote stage is a call), stage names deduplicated. Refusals name
 * the limit, never the input.
 */
export function matrixArguments(assetIds: readonly string[] | null | undefined, stageNames: readonly string[]): { ids: string[] | null; stages: string[] } {
  if (!stageNames.length) throw badInput('choose at least one stage', { field: 'stages' });
  if (stageNames.length > MATRIX_MAX_STAGES) throw badInput(`at most ${MATRIX_MAX_STAGES} stages at a time`, { field: 'stages', limit: MATRIX_MAX_STAGES });
  if (assetIds && assetIds.length > MATRIX_MAX_ASSETS) {
    throw badInput(`at most ${MATRIX_MAX_ASSETS} assets at a time; narrow the selection`, { field: 'assetIds', limit: MATRIX_MAX_ASSETS });
  }
  if (assetIds?.some((id) => !UUID.test(id))) throw badInput('assetIds must be asset ids (UUIDs)', { field: 'assetIds' });
  if (stageNames.some((s) => !STAGE_NAME.test(s))) throw badInput('stages must be stage names (lower-case letters, digits and dashes)', { field: 'stages' });
  return { ids: assetIds?.length ? [...new Set(assetIds.map((id) => id.toLowerCase()))] : null, stages: [...new Set(stageNames)] };
}

export class DriftService {
  constructor(
    private readonly db: DataSource,
    private readonly assets: AssetService,
    private readonly stages: StageService,
    private readonly localStage: string,
  ) {}

  /**
   * The grid for `user`. Remote stages are read with their stored credentials, so they need
   * the remote-read privilege; each distinct remote stage is asked once, through `readRemote`.
   */
  async matrix(
    user: AuthUser | null,
    assetIds: readonly string[] | null | undefined,
    filter: AssetFilter | null | undefined,
    stageNames: readonly string[],
    readRemote: RemoteAssetReader,
  ): Promise<MatrixRow[]> {
    const args = matrixArguments(assetIds, stageNames);
    const remoteStages = args.stages.filter((s) => s !== this.localStage);
    if (remoteStages.length) this.stages.assertMayReadRemote(user, remoteStages);
    const ids = args.ids ?? (filter ? await this.assets.idsMatching(filter) : null);
    if (!ids) throw badInput('give assetIds or a filter', { field: 'assetIds' });
    if (ids.length > MATRIX_MAX_ASSETS) throw badInput(`at most ${MATRIX_MAX_ASSETS} assets at a time; narrow the filter`, { field: 'assetIds', limit: MATRIX_MAX_ASSETS });
    const local = new Map((ids.length ? await this.db.getRepository(AssetEntity).findBy({ id: In(ids) }) : []).map((a) => [a.id, a]));
    const missing = ids.filter((id) => !local.has(id));
    if (missing.length) throw new AppError('NOT_FOUND', `${missing.length} of the ${ids.length} assets not found here`, { ids: missing.slice(0, 10) });

    const columns = await Promise.all(
      args.stages.map(async (stageName) => {
        const last = await this.lastPromotions(stageName);
        if (stageName === this.localStage) {
          return { stageName, found: new Map([...local].map(([id, a]) => [id, { checksum: a.checksum, version: a.version }])), error: null, last };
        }
        try {
          return { stageName, found: await readRemote(stageName, ids), error: null, last };
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
