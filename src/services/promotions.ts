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
import { assetProgress } from '../domain/progress-batches.js';
import { countOf, promotionOverwriteRule, stageRefusal, type AssetAction } from '../domain/promotion-decision.js';
import { PromotionEntity, PromotionStageEntity, type PromotedAssetReport, type RunStatus } from '../entities/promotion.js';
import { StageEntity } from '../entities/stage.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { appendEvent, appendEvents, type EventLog, type StoredEvent } from '../events/event-log.js';
import { enqueueJob, LeaseLostError, type JobContext } from '../jobs/job-queue.js';
import type { Logger } from '../logger.js';
import { productVersion } from '../version.js';
import type { ArchiveExporter } from './archive/export.js';
import { RANDOM_PASSPHRASE_BYTES, type AssetDocument } from './archive/format.js';
import type { AssetService } from './assets.js';
import type { AuthUser } from './auth.js';
import { byName, orderingOf, pageEntities, timeRange, type Page, type PageRequest, type SortKey } from './paging.js';
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

export type PlanAction = AssetAction;

export interface PlanItem {
  assetId: string;
  type: string;
  name: string;
  action: PlanAction;
  /** For REFUSED: why (the report's comment, word for word). */
  reason: string | null;
  /** The report status the run will give this asset. */
  status: string;
  /** The comment the run's report will carry. */
  comment: string;
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
  /** Times from (inclusive) … to (exclusive). */
  from?: Date | null;
  to?: Date | null;
}

const MAX_PAGE = 200;

export type PromotionOrderField = 'NAME' | 'CREATED_AT';
export interface PromotionOrder {
  field: PromotionOrderField;
  direction: 'ASC' | 'DESC';
}
const promotionOrders: Record<PromotionOrderField, SortKey[]> = { NAME: [byName('p')], CREATED_AT: [{ sql: 'p.created_at', kind: 'time' }] };
/** A promotion's archive above this size is sent deflated (the default upload limit is 64 MiB). */
const STORED_ARCHIVE_MAX_BYTES = 32 * 1024 * 1024;

/** The import query a promotion's flags mean (domain/promotion-decision is the one mapping). */
export function overwriteQuery(overwriteAssets: boolean, overwriteAliases: boolean, fixMissingVersions: boolean, allTypes: readonly AssetType[], dryRun = false): URLSearchParams {
  const rule = promotionOverwriteRule(overwriteAssets, overwriteAliases, allTypes);
  const q = new URLSearchParams({ fixMissingVersions: String(fixMissingVersions), overwrite: rule.mode.toLowerCase() });
  if (rule.mode === 'CUSTOM') q.set('types', rule.types.join(','));
  if (dryRun) q.set('dryRun', 'true');
  return q;
}

/** An asset as the target's import reported it (over HTTP, so checked loosely). */
interface ReportedAsset {
  id: string;
  type: string;
  name: string;
  action: AssetAction;
  status: string;
  explanation: string;
}

export class PromotionService {
  constructor(
    private readonly db: DataSource,
    private readonly stages: StageService,
    private readonly exporter: ArchiveExporter,
    private readonly assets: AssetService,
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

  /** Filtered by status, target stage, text and time; alphabetical (case-insensitive) unless ordered otherwise. */
  async list(filter: PromotionFilter, page: PageRequest, order: PromotionOrder = { field: 'NAME', direction: 'ASC' }): Promise<Page<PromotionEntity>> {
    const query = this.db.getRepository(PromotionEntity).createQueryBuilder('p');
    if (filter.status) query.andWhere('p.status = :status', { status: filter.status });
    if (filter.stage) query.andWhere('p.target_stages ? :stage', { stage: filter.stage });
    if (filter.text) query.andWhere('(p.name ILIKE :text OR p.description ILIKE :text)', { text: `%${filter.text.replace(/[\\%_]/g, '\\$&')}%` });
    timeRange(query, 'p.created_at', filter);
    return pageEntities(query, 'p', page, orderingOf('promotions', promotionOrders, order), MAX_PAGE);
  }

  readProgress(promotionId: string, afterSequence: number): Promise<StoredEvent[]> {
    return this.events.readAfter(promotionStream(promotionId), afterSequence);
  }

  /** Stored then live progress; ends after the promotion (or the chosen stage) finishes. */
  async followProgress(promotionId: string, stage: string | null, afterSequence: number): Promise<AsyncIterableIterator<StoredEvent>> {
    const promotion = await this.lookupForFollowers(promotionId);
    if (stage && !promotion.targetStages.includes(stage)) throw badInput(`promotion ${promotion.name} does not target stage ${stage}`, { field: 'stage' });
    const payload = (e: StoredEvent) => e.payload as unknown as ProgressPayload;
    return this.events.follow(promotionStream(promotionId), afterSequence, {
      filter: (e) => !stage || payload(e).stageName === stage || payload(e).stageName === null,
      until: (e) =>
        payload(e).phase === 'COMPLETED' || (stage !== null && payload(e).stageName === stage && ['SUCCEEDED', 'FAILED'].includes(payload(e).phase)),
    });
  }

  /**
   * `get` for subscribers: a hundred dashboards subscribing as the promotion starts share one
   * in-flight read instead of queueing a hundred in the pool the job's statements need.
   */
  private lookupForFollowers(id: string): Promise<PromotionEntity> {
    let lookup = this.followerLookups.get(id);
    if (!lookup) {
      lookup = this.get(id).finally(() => this.followerLookups.delete(id));
      this.followerLookups.set(id, lookup);
    }
    return lookup;
  }

  private readonly followerLookups = new Map<string, Promise<PromotionEntity>>();

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

  /**
   * What each stage would get: the run's own steps (stage checks, the archive built for the
   * stage) ending in the target's import with `dryRun`, so the plan is the report the run would
   * get — same decision, same reasons. Nothing is written anywhere.
   */
  async plan(input: PromoteInput): Promise<StagePlan[]> {
    const p = await this.validate(input);
    const plans: StagePlan[] = [];
    for (const stageName of p.targetStages) {
      try {
        // A promotion active on the stage would make `promote` answer LOCKED.
        const refusal = stageRefusal({ stageName, busyWith: await this.busyWith(this.db.manager, [stageName]), targetVersion: null, sourceVersion: productVersion });
        if (refusal) throw new AppError(refusal.code, refusal.message, refusal.details);
        const aliasValues = new Map<string, string>();
        const { report } = await this.sendToStage(p, stageName, { dryRun: true, onDocument: (doc) => {
          if (doc.type === 'ALIAS') aliasValues.set(doc.id, doc.spec.secure ? '(secure)' : String(doc.spec.value ?? ''));
        } });
        const items = reportedAssets(report).map((a) => ({
          assetId: a.id,
          type: a.type,
          name: a.name,
          action: a.action,
          reason: a.action === 'REFUSED' ? a.explanation : null,
          status: a.status,
          comment: a.explanation,
          aliasValue: aliasValues.get(a.id) ?? null,
        }));
        plans.push({ stageName, error: null, errorCode: null, items });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        plans.push({ stageName, error: err.message, errorCode: err.code, items: [] });
      }
    }
    return plans;
  }

  /**
   * The steps a run and a plan share for one stage: ask the stage who it is (unreachable and
   * refused credentials surface here), the stage-level check, the archive built for the stage
   * (secure values sealed with a one-time passphrase), and the stage's import of it.
   */
  private async sendToStage(
    promotion: Pick<PromotionEntity, 'assetIds' | 'optional' | 'optionalIds' | 'overwriteAssets' | 'overwriteAliases' | 'fixMissingVersions'>,
    stageName: string,
    how: { dryRun: boolean; onDocument?: (doc: AssetDocument) => void; promotion?: { id: string; name: string; description: string; promotedBy: string }; exported?: (count: number, bytes: number) => Promise<void> },
  ): Promise<{ report: Record<string, unknown>; count: number }> {
    const remote = await this.stages.remote(stageName);
    // A one-time passphrase: secure values travel sealed, never in clear.
    const passphrase = randomBytes(RANDOM_PASSPHRASE_BYTES).toString('base64url');
    let count = 0;
    const build = async (compress: boolean) => {
      count = 0;
      const { stream } = await this.exporter.export({
        ...promotion,
        passphrase,
        randomPassphrase: true,
        aliasStage: stageName,
        compress,
        onDocument: (doc) => {
          count++;
          how.onDocument?.(doc);
        },
      });
      return streamToBuffer(stream);
    };
    // Stored entries build and read several times faster; an archive too large to send stored
    // within the target's upload limit (half of what it may expand to) is built deflated.
    const buildArchive = async () => {
      const stored = await build(false);
      return stored.length > STORED_ARCHIVE_MAX_BYTES ? build(true) : stored;
    };
    // The stage is asked who it is while the archive is built (the build only reads). Its answer
    // decides first: an unreachable or refusing stage stops the run before anything is recorded
    // or sent, as when the two ran one after the other.
    const [built, answered] = await Promise.allSettled([buildArchive(), remote.info()]);
    if (answered.status === 'rejected') throw answered.reason;
    const refusal = stageRefusal({ stageName, busyWith: null, targetVersion: answered.value.productVersion, sourceVersion: productVersion });
    if (refusal) throw new AppError(refusal.code, refusal.message, refusal.details);
    if (built.status === 'rejected') throw built.reason;
    const archive = built.value;
    await how.exported?.(count, archive.length);
    const query = overwriteQuery(promotion.overwriteAssets, promotion.overwriteAliases, promotion.fixMissingVersions, this.allTypes, how.dryRun);
    const report = await remote.importArchive(archive, query, passphrase, how.promotion ?? null);
    return { report, count };
  }

  // ---- the job ----
  // Every write of the job goes through job.transaction: fenced by the job's lease token, so a
  // run that lost its job to another runner stops instead of writing a second outcome.

  async run(job: JobContext): Promise<void> {
    const promotion = await this.get(String(job.payload.promotionId));
    if (promotion.status === 'SUCCESS' || promotion.status === 'FAILURE') return; // finished by an earlier run
    const stages = await this.stagesOf([promotion.id]);
    for (const stage of stages) {
      if (stage.status === 'SUCCESS' || stage.status === 'FAILURE') continue;
      if (stage.status === 'RUNNING') {
        // We were interrupted mid-transfer; whether the target committed is unknown. Say so
        // plainly rather than re-send (a repromote decides, with the target's report in view).
        await this.finishStage(job, promotion.id, stage.stageName, 'FAILURE', 'INTERRUPTED', 'interrupted: the source stopped during the transfer; check the target and repromote', []);
        continue;
      }
      await this.runStage(job, promotion, stage.stageName);
    }
    await this.complete(job, promotion.id);
  }

  /** After the last attempt: nothing may stay QUEUED or RUNNING. */
  async giveUp(job: JobContext): Promise<void> {
    const id = String(job.payload.promotionId);
    for (const stage of await this.stagesOf([id])) {
      if (stage.status === 'QUEUED' || stage.status === 'RUNNING') {
        await this.finishStage(job, id, stage.stageName, 'FAILURE', 'INTERNAL_SERVER_ERROR', `gave up after ${job.attempt} attempts`, []);
      }
    }
    await this.complete(job, id);
  }

  private async runStage(job: JobContext, promotion: PromotionEntity, stageName: string): Promise<void> {
    await job.transaction(async (tx) => {
      // The promotion is RUNNING from its first stage's start (one transaction, not two).
      if (promotion.status !== 'RUNNING') {
        await tx.getRepository(PromotionEntity).update({ id: promotion.id }, { status: 'RUNNING' });
        promotion.status = 'RUNNING';
      }
      await tx.getRepository(PromotionStageEntity).update({ promotionId: promotion.id, stageName }, { status: 'RUNNING', startedAt: new Date() });
      await this.progress(tx, promotion.id, stageName, 'STARTED', `promoting to ${stageName}`);
    });
    try {
      const { report } = await this.sendToStage(promotion, stageName, {
        dryRun: false,
        promotion: { id: promotion.id, name: promotion.name, description: promotion.description, promotedBy: promotion.promotedBy },
        exported: (count, bytes) => job.transaction((tx) => this.progress(tx, promotion.id, stageName, 'EXPORTED', `archive of ${countOf(count, 'asset')} built (${bytes} bytes)`, 0, count)).then(() => undefined),
      });
      const reported = reportedAssets(report);
      const assets: PromotedAssetReport[] = reported.map((a) => ({ assetId: a.id, type: a.type, name: a.name, status: a.status, comment: a.explanation }));
      const failures = assets.filter((a) => a.status === 'FAILURE').length;
      const importReportId = typeof report.id === 'string' ? report.id : null;
      // The target's answer is recorded in one transaction: TRANSFERRED, the batched ASSET
      // progress (the per-asset detail is the stage's report; the stream shows headway) and the
      // stage's outcome. A stop before it commits leaves the stage RUNNING (reported INTERRUPTED
      // by the next run), never a TRANSFERRED stage without its outcome.
      const transferred = async (tx: EntityManager) => {
        await this.progress(tx, promotion.id, stageName, 'TRANSFERRED', `imported by ${stageName}: ${String(report.status)}`, 0, reported.length);
        await appendEvents(
          tx,
          promotionStream(promotion.id),
          assetProgress(assets).map((step) => ({ type: 'ASSET', payload: progressPayload(promotion.id, stageName, 'ASSET', step.message, step.completed, step.total) })),
        );
      };
      if (report.status === 'SUCCESS') await this.finishStage(job, promotion.id, stageName, 'SUCCESS', null, `${countOf(assets.length, 'asset')} promoted`, assets, importReportId, transferred);
      else await this.finishStage(job, promotion.id, stageName, 'FAILURE', 'IMPORT_FAILED', `${failures} of ${countOf(assets.length, 'asset')} failed on ${stageName}`, assets, importReportId, transferred);
    } catch (err) {
      if (err instanceof LeaseLostError) throw err; // not ours any more: write nothing
      if (err instanceof AppError) {
        await this.finishStage(job, promotion.id, stageName, 'FAILURE', err.code, err.message, []);
      } else {
        const errorId = randomBytes(8).toString('hex');
        this.log.error({ err, errorId, promotion: promotion.id, stage: stageName }, 'promotion stage failed unexpectedly');
        await this.finishStage(job, promotion.id, stageName, 'FAILURE', 'INTERNAL_SERVER_ERROR', `internal error (id ${errorId})`, []);
      }
    }
  }

  private async finishStage(
    job: JobContext,
    promotionId: string,
    stageName: string,
    status: 'SUCCESS' | 'FAILURE',
    code: string | null,
    reason: string,
    report: PromotedAssetReport[],
    importReportId: string | null = null,
    /** Written first in the same transaction (the target's answer, when there is one). */
    before?: (tx: EntityManager) => Promise<void>,
  ): Promise<void> {
    await job.transaction(async (tx) => {
      await before?.(tx);
      await tx
        .getRepository(PromotionStageEntity)
        .update({ promotionId, stageName }, { status, code, reason, report, importReportId, finishedAt: new Date() });
      await this.progress(tx, promotionId, stageName, status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED', reason);
    });
  }

  private async complete(job: JobContext, promotionId: string): Promise<void> {
    const stages = await this.stagesOf([promotionId]);
    const status: RunStatus = stages.every((s) => s.status === 'SUCCESS') ? 'SUCCESS' : 'FAILURE';
    await job.transaction(async (tx) => {
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
    return appendEvent(manager, promotionStream(promotionId), phase, progressPayload(promotionId, stageName, phase, message, completed, total));
  }

  /** One promotion at a time per target stage: LOCKED, naming the one holding it. */
  private async lockStages(tx: EntityManager, stageNames: readonly string[]): Promise<void> {
    for (const name of [...stageNames].sort()) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`promotion-stage:${name}`]);
    const busy = await this.busyWith(tx, stageNames);
    const refusal = busy && stageRefusal({ stageName: busy.stageName, busyWith: busy, targetVersion: null, sourceVersion: productVersion });
    if (refusal) throw new AppError(refusal.code, refusal.message, refusal.details);
  }

  /** A promotion queued or running on one of the stages, if any. */
  private async busyWith(manager: EntityManager, stageNames: readonly string[]): Promise<{ id: string; name: string; stageName: string } | null> {
    const busy = await manager
      .getRepository(PromotionStageEntity)
      .createQueryBuilder('s')
      .innerJoinAndSelect('s.promotion', 'p')
      .where('s.stage_name IN (:...names) AND s.status IN (:...active)', { names: stageNames, active: ['QUEUED', 'RUNNING'] })
      .orderBy('s.stage_name')
      .getOne();
    return busy ? { id: busy.promotionId, name: busy.promotion.name, stageName: busy.stageName } : null;
  }

  private async validate(input: PromoteInput) {
    const name = input.name?.trim() ?? '';
    if (!name || name.length > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
    if (!input.assetIds?.length) throw badInput('choose at least one asset', { field: 'assetIds' });
    // One spelling per asset (ids are case-insensitive), so the same selection in another case
    // is the same promotion (idempotencyKey) and no asset is listed twice.
    const assetIds = [...new Set(input.assetIds.map((id) => requireId('assetIds', id)))];
    const targetStages = [...new Set(input.targetStages ?? [])];
    if (!targetStages.length) throw badInput('choose at least one target stage', { field: 'targetStages' });
    const known = new Set((await this.db.getRepository(StageEntity).find({ select: { name: true }, where: { name: In(targetStages) } })).map((s) => s.name));
    const unknown = targetStages.filter((s) => !known.has(s));
    if (unknown.length) throw new AppError('NOT_FOUND', `unknown stages: ${unknown.join(', ')}`, { field: 'targetStages', stages: unknown });
    const optional = input.optional ?? 'NONE';
    const normalised = {
      name,
      description: input.description ?? '',
      assetIds,
      optional,
      optionalIds: optional === 'SELECTED' ? [...new Set((input.optionalIds ?? []).map((id) => requireId('optionalIds', id)))] : [],
      targetStages: targetStages.sort(),
      overwriteAssets: input.overwriteAssets ?? false,
      overwriteAliases: input.overwriteAliases ?? false,
      fixMissingVersions: input.fixMissingVersions ?? false,
      idempotencyKey: input.idempotencyKey?.trim() || null,
    };
    // Every asset exists (NOT_FOUND otherwise); the closure is the job's, against the catalog as it is when it runs.
    await this.assets.assertExist(normalised.assetIds);
    return normalised;
  }
}

function progressPayload(
  promotionId: string,
  stageName: string | null,
  phase: ProgressPhase,
  message: string,
  completed: number | null = null,
  total: number | null = null,
): Record<string, unknown> {
  const payload: ProgressPayload = { promotionId, stageName, phase, message, completed, total };
  return payload as unknown as Record<string, unknown>;
}

/** The per-asset entries of a stage's import report. */
function reportedAssets(report: Record<string, unknown>): ReportedAsset[] {
  return Array.isArray(report.assets) ? (report.assets as ReportedAsset[]) : [];
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

