/**
 * Promotions: moving assets from this stage to others. `promote` records the promotion and a
 * durable job in one transaction and returns at once; the job (on any replica) sends, per target
 * stage, an archive built for that stage to the stage's import endpoint and records its report.
 * Stages are independent: one failing does not stop the others. Progress is stored as events on
 * the stream `promotion:<id>`.
 */
import { parseId, requireId } from '../db/ids.js';
import { createHash, randomBytes } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { AssetType } from '../domain/asset-types.js';
import { canonicalJson } from '../domain/checksum.js';
import type { OptionalChoice } from '../domain/dependencies.js';
import { compareVersions } from '../domain/versions.js';
import { PromotionEntity, PromotionStageEntity, type PromotedAssetReport, type RunStatus } from '../entities/promotion.js';
import { StageEntity } from '../entities/stage.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { appendEvent, type EventLog, type StoredEvent } from '../events/event-log.js';
import { enqueueJob, type JobContext } from '../jobs/job-queue.js';
import type { Logger } from '../logger.js';
import { productVersion } from '../version.js';
import type { ArchiveExporter } from './archive/export.js';
import type { AuthUser } from './auth.js';
import { pageByName, type Page } from './paging.js';
import type { StageService } from './stages.js';

export const PROMOTION_JOB = 'promotion';
export const promotionStream = (id: string) => `promotion:${id}`;

export type ProgressPhase = 'QUEUED' | 'STARTED' | 'EXPORTED' | 'TRANSFERRED' | 'ASSET' | 'SUCCEEDED' | 'FAILED' | 'COMPLETED';

export interface ProgressPayload {
  promotionId: string;
  stageName: string | null;
  phase: ProgressPhase;
  message: string;
  completed: number | null;
  total: number | null;
}

export interface PromoteInput {
  name: string;
  description?: string | null;
  assetIds: readonly string[];
  optional?: OptionalChoice | null;
  optionalIds?: readonly string[] | null;
  targetStages: readonly string[];
  overwriteAssets?: boolean | null;
  overwriteAliases?: boolean | null;
  fixMissingVersions?: boolean | null;
  idempotencyKey?: string | null;
}

export type PlanAction = 'CREATE' | 'UPDATE' | 'UNCHANGED' | 'REFUSED';

export interface PlanItem {
  assetId: string;
  type: string;
  name: string;
  action: PlanAction;
  reason: string | null;
  /** For aliases: the value that would be sent ('(secure)' for secure ones). */
  aliasValue: string | null;
}

export interface StagePlan {
  stageName: string;
  error: string | null;
  errorCode: string | null;
  items: PlanItem[];
}

export interface PromotionFilter {
  status?: RunStatus | null;
  stage?: string | null;
  text?: string | null;
}

const MAX_PAGE = 200;

/** The import overwrite rule a promotion's flags mean. */
export function overwriteQuery(overwriteAssets: boolean, overwriteAliases: boolean, fixMissingVersions: boolean, allTypes: readonly AssetType[]): URLSearchParams {
  const q = new URLSearchParams({ fixMissingVersions: String(fixMissingVersions) });
  if (overwriteAssets && overwriteAliases) q.set('overwrite', 'all');
  else if (!overwriteAssets && !overwriteAliases) q.set('overwrite', 'none');
  else {
    q.set('overwrite', 'custom');
    q.set('types', (overwriteAliases ? ['ALIAS'] : allTypes.filter((t) => t !== 'ALIAS')).join(','));
  }
  return q;
}

function mayOverwrite(type: string, overwriteAssets: boolean, overwriteAliases: boolean): boolean {
  return type === 'ALIAS' ? overwriteAliases : overwriteAssets;
}

export class PromotionService {
  constructor(
    private readonly db: DataSource,
    private readonly stages: StageService,
    private readonly exporter: ArchiveExporter,
    private readonly events: EventLog,
    private readonly log: Logger,
    private readonly allTypes: readonly AssetType[],
  ) {}

  // ---- queries ----

  async get(id: string): Promise<PromotionEntity> {
    const promotion = await this.db.getRepository(PromotionEntity).findOneBy({ id: parseId('promotion', id) });
    if (!promotion) throw notFound('promotion', id);
    return promotion;
  }

  stagesOf(ids: readonly string[]): Promise<PromotionStageEntity[]> {
    return this.db.getRepository(PromotionStageEntity).find({ where: { promotionId: In([...ids]) }, order: { stageName: 'ASC' } });
  }

  /** Alphabetical by name (then id), filtered by status, target stage and text. */
  async list(filter: PromotionFilter, first: number, after?: string | null): Promise<Page<PromotionEntity>> {
    const query = this.db.getRepository(PromotionEntity).createQueryBuilder('p');
    if (filter.status) query.andWhere('p.status = :status', { status: filter.status });
    if (filter.stage) query.andWhere('p.target_stages ? :stage', { stage: filter.stage });
    if (filter.text) query.andWhere('(p.name ILIKE :text OR p.description ILIKE :text)', { text: `%${filter.text.replace(/[\\%_]/g, '\\$&')}%` });
    return pageByName(query, 'p', first, after, MAX_PAGE);
  }

  readProgress(promotionId: string, afterSequence: number): Promise<StoredEvent[]> {
    return this.events.readAfter(promotionStream(promotionId), afterSequence);
  }

  /** Stored then live progress; ends after the promotion (or the chosen stage) finishes. */
  async followProgress(promotionId: string, stage: string | null, afterSequence: number): Promise<AsyncIterableIterator<StoredEvent>> {
    const promotion = await this.get(promotionId);
    if (stage && !promotion.targetStages.includes(stage)) throw badInput(`promotion ${promotion.name} does not target stage ${stage}`, { field: 'stage' });
    const payload = (e: StoredEvent) => e.payload as unknown as ProgressPayload;
    return this.events.follow(promotionStream(promotionId), afterSequence, {
      filter: (e) => !stage || payload(e).stageName === stage || payload(e).stageName === null,
      until: (e) =>
        payload(e).phase === 'COMPLETED' || (stage !== null && payload(e).stageName === stage && ['SUCCEEDED', 'FAILED'].includes(payload(e).phase)),
    });
  }

  // ---- commands ----

  async promote(actor: AuthUser, input: PromoteInput, repromotedFrom: string | null = null): Promise<PromotionEntity> {
    const normalised = await this.validate(input);
    const inputHash = createHash('sha256').update(canonicalJson({ ...normalised, repromotedFrom })).digest('hex');
    return this.db.transaction(async (tx) => {
      if (normalised.idempotencyKey) {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`promotion-key:${normalised.idempotencyKey}`]);
        const earlier = await tx.getRepository(PromotionEntity).findOneBy({ idempotencyKey: normalised.idempotencyKey });
        if (earlier) {
          if (earlier.inputHash === inputHash) return earlier;
          throw conflict(`idempotencyKey ${normalised.idempotencyKey} was already used for a different promotion (${earlier.name})`, {
            field: 'idempotencyKey',
            promotionId: earlier.id,
          });
        }
      }
      await this.lockStages(tx, normalised.targetStages);
      const promotion = await tx.getRepository(PromotionEntity).save({
        ...normalised,
        inputHash,
        status: 'QUEUED',
        promotedBy: actor.username,
        repromotedFrom,
      });
      await tx.getRepository(PromotionStageEntity).insert(
        normalised.targetStages.map((stageName) => ({ promotionId: promotion.id, stageName, status: 'QUEUED' as const, report: [] })),
      );
      for (const stageName of normalised.targetStages) {
        await this.progress(tx, promotion.id, stageName, 'QUEUED', `queued for stage ${stageName}`);
      }
      await enqueueJob(tx, PROMOTION_JOB, { promotionId: promotion.id });
      return promotion;
    });
  }

  async repromote(
    actor: AuthUser,
    promotionId: string,
    changes: { targetStages: readonly string[]; name: string; description?: string | null; overwriteAssets?: boolean | null; overwriteAliases?: boolean | null; fixMissingVersions?: boolean | null },
  ): Promise<PromotionEntity> {
    const original = await this.get(promotionId);
    return this.promote(
      actor,
      {
        name: changes.name,
        description: changes.description ?? original.description,
        assetIds: original.assetIds,
        optional: original.optional,
        optionalIds: original.optionalIds,
        targetStages: changes.targetStages,
        overwriteAssets: changes.overwriteAssets ?? original.overwriteAssets,
        overwriteAliases: changes.overwriteAliases ?? original.overwriteAliases,
        fixMissingVersions: changes.fixMissingVersions ?? original.fixMissingVersions,
      },
      original.id,
    );
  }

  async delete(id: string): Promise<boolean> {
    const promotion = await this.get(id);
    if (promotion.status === 'QUEUED' || promotion.status === 'RUNNING') throw conflict(`promotion ${promotion.name} is still ${promotion.status.toLowerCase()}`);
    await this.db.getRepository(PromotionEntity).delete({ id });
    return true;
  }

  /** The same rules as a real run, nothing written anywhere: what each stage would get. */
  async plan(input: PromoteInput): Promise<StagePlan[]> {
    const p = await this.validate(input);
    const ids = await this.exporter.selectionIds(p);
    const plans: StagePlan[] = [];
    for (const stageName of p.targetStages) {
      try {
        const remote = await this.stages.remote(stageName);
        const there = await remote.assets(ids);
        const items: PlanItem[] = [];
        for await (const { doc, checksum } of this.exporter.documents(ids, null, stageName)) {
          const existing = there.get(doc.id);
          const alias = doc.type === 'ALIAS' ? (doc.spec.secure ? '(secure)' : String(doc.spec.value ?? '')) : null;
          let action: PlanAction = 'CREATE';
          let reason: string | null = null;
          if (existing && existing.checksum === checksum) action = 'UNCHANGED';
          else if (existing && !mayOverwrite(doc.type, p.overwriteAssets, p.overwriteAliases)) {
            action = 'REFUSED';
            reason = `exists on ${stageName} with other content and ${doc.type === 'ALIAS' ? 'overwriteAliases' : 'overwriteAssets'} is off`;
          } else if (existing) action = 'UPDATE';
          items.push({ assetId: doc.id, type: doc.type, name: doc.name, action, reason, aliasValue: alias });
        }
        plans.push({ stageName, error: null, errorCode: null, items });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        plans.push({ stageName, error: err.message, errorCode: err.code, items: [] });
      }
    }
    return plans;
  }

  // ---- the job ----

  async run(job: JobContext): Promise<void> {
    const promotion = await this.get(String(job.payload.promotionId));
    await this.db.getRepository(PromotionEntity).update({ id: promotion.id }, { status: 'RUNNING' });
    const stages = await this.stagesOf([promotion.id]);
    for (const stage of stages) {
      if (stage.status === 'SUCCESS' || stage.status === 'FAILURE') continue;
      if (stage.status === 'RUNNING') {
        // We were interrupted mid-transfer; whether the target committed is unknown. Say so
        // plainly rather than re-send (a repromote decides, with the target's report in view).
        await this.finishStage(promotion.id, stage.stageName, 'FAILURE', 'INTERRUPTED', 'interrupted: the source stopped during the transfer; check the target and repromote', []);
        continue;
      }
      await this.runStage(promotion, stage.stageName);
    }
    await this.complete(promotion.id);
  }

  /** After the last attempt: nothing may stay QUEUED or RUNNING. */
  async giveUp(job: JobContext): Promise<void> {
    const id = String(job.payload.promotionId);
    for (const stage of await this.stagesOf([id])) {
      if (stage.status === 'QUEUED' || stage.status === 'RUNNING') {
        await this.finishStage(id, stage.stageName, 'FAILURE', 'INTERNAL_SERVER_ERROR', `gave up after ${job.attempt} attempts`, []);
      }
    }
    await this.complete(id);
  }

  private async runStage(promotion: PromotionEntity, stageName: string): Promise<void> {
    await this.db.getRepository(PromotionStageEntity).update({ promotionId: promotion.id, stageName }, { status: 'RUNNING', startedAt: new Date() });
    await this.progress(this.db.manager, promotion.id, stageName, 'STARTED', `promoting to ${stageName}`);
    try {
      const remote = await this.stages.remote(stageName);
      const info = await remote.info();
      if (compareVersions(info.productVersion, productVersion) < 0) {
        throw new AppError('VERSION_DOWNGRADE', `stage ${stageName} runs Stagecraft ${info.productVersion}, older than this ${productVersion}`);
      }
      // A one-time passphrase: secure values travel sealed, never in clear.
      const passphrase = randomBytes(24).toString('base64url');
      const { ids, stream } = await this.exporter.export({ ...promotion, passphrase, aliasStage: stageName });
      const archive = await streamToBuffer(stream);
      await this.progress(this.db.manager, promotion.id, stageName, 'EXPORTED', `archive of ${ids.length} assets built (${archive.length} bytes)`, 0, ids.length);
      const query = overwriteQuery(promotion.overwriteAssets, promotion.overwriteAliases, promotion.fixMissingVersions, this.allTypes);
      const report = await remote.importArchive(archive, query, passphrase, {
        id: promotion.id,
        name: promotion.name,
        description: promotion.description,
        promotedBy: promotion.promotedBy,
      });
      await this.progress(this.db.manager, promotion.id, stageName, 'TRANSFERRED', `imported by ${stageName}: ${report.status}`, 0, ids.length);
      const assets: PromotedAssetReport[] = (report.assets as { id: string; type: string; name: string; status: string; explanation: string }[]).map((a) => ({
        assetId: a.id,
        type: a.type,
        name: a.name,
        status: a.status,
        comment: a.explanation,
      }));
      await this.db.transaction(async (tx) => {
        for (const [i, a] of assets.entries()) {
          await this.progress(tx, promotion.id, stageName, 'ASSET', `${a.type} ${a.name}: ${a.status}`, i + 1, assets.length);
        }
      });
      const failures = assets.filter((a) => a.status === 'FAILURE').length;
      if (report.status === 'SUCCESS') await this.finishStage(promotion.id, stageName, 'SUCCESS', null, `${assets.length} assets promoted`, assets, report.id);
      else await this.finishStage(promotion.id, stageName, 'FAILURE', 'IMPORT_FAILED', `${failures} of ${assets.length} assets failed on ${stageName}`, assets, report.id);
    } catch (err) {
      if (err instanceof AppError) {
        await this.finishStage(promotion.id, stageName, 'FAILURE', err.code, err.message, []);
      } else {
        const errorId = randomBytes(8).toString('hex');
        this.log.error({ err, errorId, promotion: promotion.id, stage: stageName }, 'promotion stage failed unexpectedly');
        await this.finishStage(promotion.id, stageName, 'FAILURE', 'INTERNAL_SERVER_ERROR', `internal error (id ${errorId})`, []);
      }
    }
  }

  private async finishStage(
    promotionId: string,
    stageName: string,
    status: 'SUCCESS' | 'FAILURE',
    code: string | null,
    reason: string,
    report: PromotedAssetReport[],
    importReportId: string | null = null,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .getRepository(PromotionStageEntity)
        .update({ promotionId, stageName }, { status, code, reason, report, importReportId, finishedAt: new Date() });
      await this.progress(tx, promotionId, stageName, status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED', reason);
    });
  }

  private async complete(promotionId: string): Promise<void> {
    const stages = await this.stagesOf([promotionId]);
    const status: RunStatus = stages.every((s) => s.status === 'SUCCESS') ? 'SUCCESS' : 'FAILURE';
    await this.db.transaction(async (tx) => {
      await tx.getRepository(PromotionEntity).update({ id: promotionId }, { status });
      const failed = stages.filter((s) => s.status !== 'SUCCESS').map((s) => s.stageName);
      await this.progress(tx, promotionId, null, 'COMPLETED', status === 'SUCCESS' ? 'all stages succeeded' : `failed on ${failed.join(', ')}`);
    });
  }

  private progress(
    manager: EntityManager,
    promotionId: string,
    stageName: string | null,
    phase: ProgressPhase,
    message: string,
    completed: number | null = null,
    total: number | null = null,
  ) {
    const payload: ProgressPayload = { promotionId, stageName, phase, message, completed, total };
    return appendEvent(manager, promotionStream(promotionId), phase, payload as unknown as Record<string, unknown>);
  }

  /** One promotion at a time per target stage: LOCKED, naming the one holding it. */
  private async lockStages(tx: EntityManager, stageNames: readonly string[]): Promise<void> {
    for (const name of [...stageNames].sort()) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`promotion-stage:${name}`]);
    const busy = await tx
      .getRepository(PromotionStageEntity)
      .createQueryBuilder('s')
      .innerJoinAndSelect('s.promotion', 'p')
      .where('s.stage_name IN (:...names) AND s.status IN (:...active)', { names: stageNames, active: ['QUEUED', 'RUNNING'] })
      .getOne();
    if (busy) {
      throw new AppError('LOCKED', `stage ${busy.stageName} is busy with promotion "${busy.promotion.name}" (${busy.promotionId})`, {
        stage: busy.stageName,
        promotionId: busy.promotionId,
      });
    }
  }

  private async validate(input: PromoteInput) {
    const name = input.name?.trim() ?? '';
    if (!name || name.length > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
    if (!input.assetIds?.length) throw badInput('choose at least one asset', { field: 'assetIds' });
    for (const id of input.assetIds) requireId('assetIds', id);
    const targetStages = [...new Set(input.targetStages ?? [])];
    if (!targetStages.length) throw badInput('choose at least one target stage', { field: 'targetStages' });
    const known = new Set((await this.db.getRepository(StageEntity).find({ select: { name: true }, where: { name: In(targetStages) } })).map((s) => s.name));
    const unknown = targetStages.filter((s) => !known.has(s));
    if (unknown.length) throw new AppError('NOT_FOUND', `unknown stages: ${unknown.join(', ')}`, { field: 'targetStages', stages: unknown });
    const optional = input.optional ?? 'NONE';
    const normalised = {
      name,
      description: input.description ?? '',
      assetIds: [...new Set(input.assetIds)],
      optional,
      optionalIds: optional === 'SELECTED' ? [...new Set(input.optionalIds ?? [])] : [],
      targetStages: targetStages.sort(),
      overwriteAssets: input.overwriteAssets ?? false,
      overwriteAliases: input.overwriteAliases ?? false,
      fixMissingVersions: input.fixMissingVersions ?? false,
      idempotencyKey: input.idempotencyKey?.trim() || null,
    };
    await this.exporter.selectionIds(normalised); // every asset exists (NOT_FOUND otherwise)
    return normalised;
  }
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

