/**
 * Import: every check that can refuse the archive as a whole runs first (safe ZIP, manifest,
 * product version, known types, valid specs, checksums, passphrase), so a refused archive writes
 * nothing. Then the target's state is read in a few set-based queries, every asset is decided in
 * dependency order in memory (domain/promotion-decision, the same for a dry run), each with its
 * own outcome (SUCCESS, REPLACED, WARNING, FAILURE) by the overwrite rules, and what was decided
 * is stored set-based (bulk-write: O(batches) statements, not O(assets)) with the report, in one
 * transaction. A crash mid-import rolls everything back.
 */
import { decodeSecrets, hasSecureFields, joinSecrets, type Secrets } from '../../domain/secure-fields.js';
import { createHash, randomUUID } from 'node:crypto';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { isAssetType, normaliseSpec, SpecError, type AssetType } from '../../domain/asset-types.js';
import { dependencyClosure } from '../../domain/dependencies.js';
import { decideAsset, describeAsset, outcomeOf, type AssetDecision, type OverwriteMode, type OverwriteRule } from '../../domain/promotion-decision.js';
import { compareVersions, linkVersions } from '../../domain/versions.js';
import { groupBy } from '../../db/group-by.js';
import { isDeadlock } from '../../db/errors.js';
import { AssetReferenceEntity } from '../../entities/asset-reference.js';
import { AssetEntity } from '../../entities/asset.js';
import { RollbackEntity, type PreImage } from '../../entities/rollback.js';
import type { ImportBackups } from '../import-backups.js';
import { ImportReportEntity, type AssetImportResult, type ImportStatus, type TypeSummary } from '../../entities/import-report.js';
import { AppError, badInput, conflict } from '../../errors.js';
import type { SecretBox } from '../../secrets.js';
import { productVersion } from '../../version.js';
import { naturalKeyOf, storedRow, type AssetService, type PreparedAsset, type StoredAssetRow } from '../assets.js';
import type { AuthUser } from '../auth.js';
import {
  documentChecksum,
  documentPath,
  documentSchema,
  DOCUMENT_PATH,
  FORMAT_VERSION,
  MANIFEST_PATH,
  manifestSchema,
  openPassphraseKey,
  secretContext,
  type AssetDocument,
  type Manifest,
} from './format.js';
import { replaceReferences, StatementQueue, StreamedInserts, writeAssetRows, type AssetRowWrite, type ReferenceRow } from './bulk-write.js';
import { readZip, type ZipLimits, type ZipSource } from './zip-reader.js';

export type { OverwriteMode };

export interface ImportOptions {
  overwrite: OverwriteMode;
  /** Decide everything, write nothing: the would-be report (a promotion plan asks this). */
  dryRun?: boolean;
  /** With CUSTOM: the types that may be replaced. */
  types?: readonly AssetType[];
  fixMissingVersions: boolean;
  passphrase?: string | null;
  /** Set when a promotion makes this import: a rollback with the pre-images is recorded. */
  promotion?: PromotionInfo | null;
  /** Aborted when whoever asked is gone: an import still waiting for its turn then writes nothing. */
  signal?: AbortSignal;
}

export interface PromotionInfo {
  id: string;
  name: string;
  description: string;
  promotedBy: string;
}

/** A document with its normalised spec, its verified checksum and its opened (decoded) secure values. */
type CheckedDocument = AssetDocument & { type: AssetType; checksum: string; secrets: Secrets | null };

interface CheckedArchive {
  manifest: Manifest;
  /** By id. */
  documents: Map<string, CheckedDocument>;
}

function parseJson(name: string, data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw badInput(`corrupt archive: ${name} is not valid JSON`, { field: 'archive' });
  }
}

function describeIssue(where: string, error: { issues: { path: PropertyKey[]; message: string }[] }): AppError {
  const issue = error.issues[0]!;
  return badInput(`${where}: ${issue.path.map(String).join('.') || 'value'} ${issue.message}`, { field: 'archive' });
}

/** Everything that can refuse the whole archive. Pure reading: writes nothing. */
export async function checkArchive(buffer: ZipSource, passphrase: string | null | undefined, limits?: ZipLimits): Promise<CheckedArchive> {
  const files = await readZip(buffer, limits);
  const manifestFile = files.get(MANIFEST_PATH);
  if (!manifestFile) throw badInput('corrupt archive: manifest.json is missing', { field: 'archive' });
  const parsed = manifestSchema.safeParse(parseJson(MANIFEST_PATH, manifestFile));
  if (!parsed.success) throw describeIssue('manifest.json', parsed.error);
  const manifest = parsed.data;
  if (manifest.formatVersion > FORMAT_VERSION || compareVersions(manifest.productVersion, productVersion) > 0) {
    throw new AppError(
      'VERSION_DOWNGRADE',
      `archive is from Stagecraft ${manifest.productVersion} (format ${manifest.formatVersion}); this instance runs ${productVersion} (format ${FORMAT_VERSION})`,
      { archiveVersion: manifest.productVersion, productVersion },
    );
  }

  const listed = new Set(manifest.entries.map((e) => documentPath(e.id)));
  for (const name of files.keys()) {
    if (DOCUMENT_PATH.test(name) && !listed.has(name)) throw badInput(`archive holds ${name}, which the manifest does not list`, { field: 'archive' });
  }
  const box = passphrase && manifest.secrets ? await openPassphraseKey(passphrase, manifest.secrets) : null;

  const documents: CheckedArchive['documents'] = new Map();
  for (const entry of manifest.entries) {
    const path = documentPath(entry.id);
    const file = files.get(path);
    if (!file) throw badInput(`corrupt archive: ${path} is missing`, { field: 'archive' });
    const doc = documentSchema.safeParse(parseJson(path, file));
    if (!doc.success) throw describeIssue(path, doc.error);
    const document = doc.data;
    if (document.id !== entry.id || document.type !== entry.type) {
      throw badInput(`archive tampered: ${path} does not match its manifest entry`, { field: 'archive' });
    }
    if (!isAssetType(document.type)) throw badInput(`unknown asset type ${document.type} (${document.name})`, { field: 'archive', type: document.type });
    const type = document.type;
    let spec;
    try {
      spec = normaliseSpec(type, document.spec);
    } catch (err) {
      if (err instanceof SpecError) throw badInput(`${path}: ${err.message}`, { field: 'archive' });
      throw err;
    }
    const checksum = documentChecksum({ ...document, spec }, document.secretDigest);
    if (checksum !== entry.checksum) {
      throw badInput(`archive tampered: ${type} ${document.name} does not match its checksum`, { field: 'archive', id: entry.id });
    }
    let secrets: Secrets | null = null;
    if (box && document.secret) {
      try {
        // Decoded here, once: a value that opens but does not decode is refused with the archive.
        secrets = decodeSecrets(box.open(document.secret, secretContext(document.id)));
      } catch {
        throw badInput(`archive tampered: the secure value of ${document.name} does not open`, { field: 'archive', id: entry.id });
      }
    }
    documents.set(document.id, { ...document, type, spec, checksum, secrets });
  }
  const sent = new Set(manifest.entries.map((e) => e.id));
  const clash = manifest.unavailable.find((u) => sent.has(u.id));
  if (clash) throw badInput(`archive tampered: ${clash.name} is both sent and listed as unavailable`, { field: 'archive', id: clash.id });
  return { manifest, documents };
}

/** How many streamed rows deciding goes at most without a turn of the event loop. */
const TURN_EVERY = 50;

/** A deterministic id for a split version chain, the same on every import of the same versions. */
function chainId(versionSetId: string, chainKey: string): string {
  const h = createHash('sha256').update(`${versionSetId}:${chainKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What the import reads of the target before deciding anything. */
interface TargetState {
  /** Assets with the ids of the archive's documents, as they are. */
  existing: Map<string, AssetEntity>;
  /** The references those assets hold, by asset. */
  existingRefs: Map<string, AssetReferenceEntity[]>;
  /** Assets referenced from outside the archive that this stage holds. */
  outside: Map<string, Pick<AssetEntity, 'id' | 'type' | 'name'>>;
  /** Natural key → id, for the keys the archive's documents would take. */
  keyOwners: Map<string, string>;
  versioning: Map<string, { versionSetId: string | null; systemVersion: number | null }>;
}

/** A CREATE or UPDATE as it would be stored: its row and its references. */
interface Put {
  row: StoredAssetRow;
  references: PreparedAsset['references'];
}

/** An asset this import refused, as its dependents see it. */
interface Refusal {
  type: string;
  name: string;
  reason: string;
  /** Refused because the source had no alias value for this stage: dependents carry the reason. */
  unavailable: boolean;
}

export interface ImportOutcome {
  report: ImportReportEntity;
  dryRun: boolean;
}

export class ArchiveImporter {
  constructor(
    private readonly db: DataSource,
    private readonly assets: AssetService,
    private readonly backups?: ImportBackups,
  ) {}

  /**
   * Checks the archive, then decides and applies every asset in one transaction. With `dryRun`
   * the same decisions are made (a promotion plan is this) and nothing is written.
   */
  async import(actor: AuthUser, source: ZipSource, options: ImportOptions, limits?: ZipLimits): Promise<ImportOutcome> {
    const archive = await checkArchive(source, options.passphrase, limits);
    const dryRun = options.dryRun === true;
    const report = await this.db
      .transaction(async (tx) => {
        if (!dryRun) await takeImportTurn(tx, options.signal);
        // Statements the import queues rather than awaits (bulk-write). Whatever fails, none may
        // be sent after the transaction ends: it would run, and commit, on its own.
        const queue = new StatementQueue(tx);
        try {
          return await this.apply(tx, queue, actor, archive, options, dryRun);
        } catch (err) {
          await queue.stop();
          throw err;
        }
      })
      .catch((err: unknown) => {
        // Another writer (not an import) held rows this import needed, and one had to give way.
        if (isDeadlock(err)) throw conflict('the import ran into another writer on this stage and was stopped; import again', { field: 'archive' });
        throw err;
      });
    return { report, dryRun };
  }

  private async apply(tx: EntityManager, queue: StatementQueue, actor: AuthUser, archive: CheckedArchive, options: ImportOptions, dryRun: boolean): Promise<ImportReportEntity> {
    const { manifest } = archive;
    const state = await this.readTarget(tx, archive, options.fixMissingVersions, !dryRun);
    // Nothing here yet to replace: every row is new, so it is stored while the rest is decided.
    // (No asset here gives a name up then, so no grant is withdrawn and decide runs once.)
    const streamed = !dryRun && state.existing.size === 0 ? new StreamedInserts(queue) : null;
    // A name held by an asset of this archive that is still to be decided and moves to another
    // name is granted to its taker on trust: in a rotation (A→B→C→A) someone must go first. A
    // grant whose giver ends up keeping its name is withdrawn, and everything is decided again
    // without it, so the taker fails as it would have, and its dependents with it.
    const withdrawn = new Set<string>();
    let decided: Decisions;
    for (;;) {
      decided = await this.decide(tx, actor, archive, options, dryRun, { ...state, keyOwners: new Map(state.keyOwners) }, streamed, withdrawn);
      const broken = decided.grants.filter((g) => !decided.moved.has(g.giver));
      if (!broken.length) break;
      for (const g of broken) withdrawn.add(g.taker);
    }
    const { results, rows, referenceRows, preImages } = decided;

    // Step 4: store what was decided, set-based (bulk-write): rows, then every reference. The
    // references are queued, not awaited: PostgreSQL stores them while the report is built (one
    // turn of the event loop sends the first statement before that).
    let stored: Promise<void> | null = null;
    if (!dryRun) {
      await streamed?.finish();
      await writeAssetRows(tx, rows);
      stored = replaceReferences(
        queue,
        rows.filter((r) => r.currentKey !== null).map((r) => r.row.id),
        referenceRows,
      );
      stored.catch(() => undefined); // awaited below, after the report is built
      await setImmediate();
    }

    // Step 5: the report, and for a promotion the rollback of what was written.
    const assets = [...results.values()];
    const report = tx.getRepository(ImportReportEntity).create({
      createdBy: actor.username,
      sourceStage: manifest.sourceStage,
      status: overallStatus(assets),
      options: { overwrite: options.overwrite, types: options.types ?? [], fixMissingVersions: options.fixMissingVersions, productVersion: manifest.productVersion },
      types: summarise(assets),
      assets,
    });
    if (dryRun) return report;
    // Plain INSERTs: TypeORM's save deep-merges the 10,000-entry arrays back into the entity.
    // The id is made here, so the rollback naming it is built before the report is stored.
    report.id = randomUUID();
    const reportValues = [report.id, report.createdBy, report.sourceStage, report.status, JSON.stringify(report.options), JSON.stringify(report.types), JSON.stringify(report.assets)];
    // Nothing written (everything UNCHANGED or refused): nothing to roll back, so no rollback.
    const rollbackValues = options.promotion && preImages.length ? rollbackRow(options.promotion, manifest.sourceStage, report.id, preImages) : null;
    await stored;
    const [row] = (await tx.query(
      `INSERT INTO import_reports (id, created_by, source_stage, status, options, types, assets) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb) RETURNING created_at`,
      reportValues,
    )) as { created_at: Date }[];
    report.createdAt = row!.created_at;
    if (rollbackValues) {
      await tx.query(
        `INSERT INTO rollbacks (name, description, promotion_id, source_stage, promoted_by, status, import_report_id, pre_images, report)
         VALUES ($1, $2, $3, $4, $5, 'AVAILABLE', $6, $7::jsonb, $8::jsonb)`,
        rollbackValues,
      );
    }
    await this.backups?.keep(tx, report.id, actor.username, preImages);
    return report;
  }

  /**
   * Steps 1–3: every asset decided in apply order, what a run stores collected (or streamed).
   * Takers in `withdrawn` get no name on trust (see apply).
   */
  private async decide(
    tx: EntityManager,
    actor: AuthUser,
    { manifest, documents }: CheckedArchive,
    options: ImportOptions,
    dryRun: boolean,
    state: TargetState,
    streamed: StreamedInserts | null,
    withdrawn: ReadonlySet<string>,
  ): Promise<Decisions> {
    const rule: OverwriteRule = { mode: options.overwrite, types: options.types ?? [] };
    const results = new Map<string, AssetImportResult>();
    const refused = new Map<string, Refusal>();
    const preImages: PreImage[] = [];
    // What a run stores, collected as the decisions are made and written set-based at the end.
    const rows: AssetRowWrite[] = [];
    const referenceRows: ReferenceRow[] = [];
    // Names granted on trust, and the assets that did give their name up.
    const grants: NameGrant[] = [];
    const moved = new Set<string>();
    /** Who holds `key` as far as `taker` is concerned (see apply for names granted on trust). */
    const ownerOf = (key: string, taker: string) => {
      const owner = state.keyOwners.get(key);
      if (!owner || owner === taker || withdrawn.has(taker) || results.has(owner) || !givesUpItsName(owner, documents, state)) return owner;
      grants.push({ taker, giver: owner });
      return undefined;
    };
    // What this stage holds as the import goes: answered from memory, not a query per asset.
    const known = new Map<string, Pick<AssetEntity, 'id' | 'type' | 'name'>>([...state.outside.values(), ...state.existing.values()].map((a) => [a.id, a]));
    const nameOf = (id: string, ref?: { type?: string; name?: string }) => {
      const a = documents.get(id) ?? known.get(id) ?? ref;
      return describeAsset(a ?? {});
    };
    const record = (id: string, type: string, name: string, decision: AssetDecision, explanation: string, warned = false) => {
      const status = outcomeOf(decision.action, warned);
      results.set(id, { id, name, type, action: decision.action, status, explanation });
    };

    // Step 1: aliases the source had no value for: kept as they are here, or refused.
    for (const u of manifest.unavailable) {
      const current = state.existing.get(u.id) ?? (state.outside.has(u.id) ? state.outside.get(u.id)! : null);
      const decision = decideAsset({
        incoming: { type: u.type, name: u.name, checksum: '' },
        unavailable: u.reason,
        target: current ? { type: current.type, checksum: '' } : null,
        rule,
        failedDependency: null,
        missingReference: null,
      });
      record(u.id, u.type, u.name, decision, decision.reason ?? '');
      if (decision.action === 'REFUSED') refused.set(u.id, { type: u.type, name: u.name, reason: decision.reason!, unavailable: true });
    }

    // Step 2: every document in dependency order: decide (domain/promotion-decision), then apply.
    const deferred: { fromId: string; toId: string; kind: 'REQUIRED' | 'OPTIONAL' }[] = [];
    let sinceTurn = 0;
    for (const id of applyOrder(documents, state)) {
      const doc = documents.get(id)!;
      const current = state.existing.get(id) ?? null;
      const required = doc.references.filter((r) => r.kind === 'REQUIRED');
      const failedDep = required.map((r) => refused.get(r.id)).find((r) => r !== undefined) ?? null;
      const missing = required.find((r) => !documents.has(r.id) && !known.has(r.id));
      const decision = decideAsset({
        incoming: { type: doc.type, name: doc.name, checksum: effectiveChecksum(doc, current) },
        unavailable: null,
        target: current ? { type: current.type, checksum: current.checksum } : null,
        rule,
        failedDependency: failedDep,
        missingReference: missing ? { type: missing.type, name: missing.name } : null,
      });
      const refuse = (reason: string, unavailable = false) => {
        record(id, doc.type, doc.name, { action: 'REFUSED', reason }, reason);
        // A refused asset that is already on this stage (e.g. not replaced) still serves its dependents.
        if (!current) refused.set(id, { type: doc.type, name: doc.name, reason, unavailable });
      };
      if (decision.action === 'REFUSED') {
        refuse(decision.reason!, failedDep?.unavailable === true && decision.reason === failedDep.reason);
        continue;
      }
      if (decision.action === 'UNCHANGED') {
        record(id, doc.type, doc.name, decision, ['unchanged', ...this.linksKept(doc, id, state, nameOf)].join('; '));
        continue;
      }
      const notes: string[] = [];
      const references = doc.references
        .filter((r) => {
          if (known.has(r.id)) return true;
          // An optional reference closing a cycle points at an asset applied later in this
          // import: link it once everything is in (optional references are not in checksums).
          if (documents.has(r.id) && !refused.has(r.id)) {
            deferred.push({ fromId: id, toId: r.id, kind: r.kind });
            return false;
          }
          notes.push(`optional reference to ${nameOf(r.id, r)} left out: not on this stage`);
          return false;
        })
        .map((r) => r.id);
      const warnings = secureValueWarnings(doc, manifest, current);
      let put: Put;
      try {
        put = await this.put(tx, actor.username, doc, current, references, state, known, ownerOf);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refuse(err.message);
        continue;
      }
      if (current && put.row.naturalKey !== current.naturalKey) moved.add(id);
      if (!dryRun) {
        const write = { row: put.row, currentKey: current?.naturalKey ?? null };
        if (!streamed) rows.push(write);
        // Deciding never waits on I/O by itself: a turn of the event loop now and then lets the
        // driver send the statements queued meanwhile as soon as PostgreSQL takes them (see StreamedInserts).
        else if (streamed.add(write) || ++sinceTurn % TURN_EVERY === 0) await setImmediate();
        referenceRows.push(...put.references.map((r) => ({ fromId: doc.id, toId: r.toId, kind: r.kind })));
        preImages.push({
          assetId: doc.id,
          type: doc.type,
          name: doc.name,
          row: current ? { ...current } : null,
          references: current ? (state.existingRefs.get(doc.id) ?? []).map((r) => ({ toId: r.toId, kind: r.kind })) : [],
        });
      }
      record(id, doc.type, doc.name, decision, [decision.action === 'CREATE' ? 'created' : 'replaced', ...warnings, ...notes].join('; '), warnings.length > 0);
    }

    // Step 3: optional links that closed a cycle, now that both ends are in.
    const linked = new Set<string>();
    for (const d of deferred) {
      if (results.get(d.fromId)?.status === 'FAILURE') continue;
      // An archive may list one link twice; it is stored once.
      if (known.has(d.toId)) {
        if (!linked.has(`${d.fromId}>${d.toId}`)) referenceRows.push(d);
        linked.add(`${d.fromId}>${d.toId}`);
      }
      else results.get(d.fromId)!.explanation += `; optional reference to ${nameOf(d.toId)} left out: it failed`;
    }

    return { results, rows, referenceRows, preImages, grants, moved };
  }

  /**
   * Validates a CREATE or UPDATE into the row it would be stored as, checking its natural key
   * against what this stage holds by then, and updates that picture. The same for a run and a
   * dry run (a run stores the rows afterwards, set-based). AppErrors (invalid content, a natural
   * key held by another asset) refuse the asset.
   */
  private async put(
    tx: EntityManager,
    author: string,
    doc: CheckedDocument,
    current: AssetEntity | null,
    references: string[],
    state: TargetState,
    known: Map<string, Pick<AssetEntity, 'id' | 'type' | 'name'>>,
    ownerOf: (key: string, taker: string) => string | undefined,
  ): Promise<Put> {
    const prepared = await this.assets.prepare(
      tx,
      doc.id,
      {
        type: doc.type,
        name: doc.name,
        description: doc.description,
        team: doc.team,
        version: doc.version,
        spec: doc.secrets !== null ? joinSecrets(doc.spec, doc.secrets) : doc.spec,
        references,
      },
      current,
      async (ids) => ids.map((r) => known.get(r)).filter((a) => a !== undefined),
      // checkArchive normalised the spec; a secure value put back in is checked again.
      doc.secrets === null,
    );
    const key = await this.assets.checkNaturalKey(prepared, async (k) => ownerOf(k, doc.id));
    const versioning = state.versioning.get(doc.id) ?? { versionSetId: null, systemVersion: null };
    const row = storedRow(prepared, key, author, versioning, current, sameContent(prepared, doc) ? doc.checksum : undefined);
    // Its old name is free now, unless a taker already holds it on trust.
    if (current && state.keyOwners.get(current.naturalKey) === doc.id) state.keyOwners.delete(current.naturalKey);
    state.keyOwners.set(key, doc.id);
    known.set(doc.id, { id: doc.id, type: prepared.type, name: prepared.name });
    return { row, references: prepared.references };
  }

  /**
   * Reads everything the decisions need, in a few queries whatever the archive's size (one array
   * parameter each, so 100,000 ids stay one statement); `lock` holds what may be replaced.
   */
  private async readTarget(tx: EntityManager, { manifest, documents }: CheckedArchive, fixMissingVersions: boolean, lock: boolean): Promise<TargetState> {
    const ids = [...documents.keys()];
    const assets = () => tx.getRepository(AssetEntity).createQueryBuilder('a');
    // Lock what we may replace, so nobody changes it under the import (a dry run writes nothing).
    const existingQuery = assets().where('a.id = ANY(:ids)', { ids });
    if (lock) existingQuery.setLock('pessimistic_write');
    const existing = new Map((ids.length ? await existingQuery.getMany() : []).map((a) => [a.id, a]));
    const existingRefs = existing.size
      ? groupBy(
          await tx.getRepository(AssetReferenceEntity).createQueryBuilder('r').where('r.from_id = ANY(:ids)', { ids: [...existing.keys()] }).getMany(),
          (r) => r.fromId,
        )
      : new Map<string, AssetReferenceEntity[]>();
    const referenced = [
      ...new Set([...[...documents.values()].flatMap((d) => d.references.map((r) => r.id)), ...manifest.unavailable.map((u) => u.id)]),
    ].filter((id) => !documents.has(id));
    const outside = referenced.length ? await assets().select(['a.id', 'a.type', 'a.name']).where('a.id = ANY(:referenced)', { referenced }).getMany() : [];
    const keys = [...new Set([...documents.values()].map((d) => naturalKeyOf(d)))];
    const keyOwners = new Map(
      (keys.length ? await assets().select(['a.id', 'a.naturalKey']).where('a.natural_key = ANY(:keys)', { keys }).getMany() : []).map((a) => [a.naturalKey, a.id]),
    );
    const versioning = await this.versioning(tx, documents, fixMissingVersions);
    return { existing, existingRefs, outside: new Map(outside.map((a) => [a.id, a])), keyOwners, versioning };
  }

  /**
   * An unchanged asset is not written, so its optional links stay as they are here (optional
   * references are relationships on a stage, not content: they are not in the checksum). Say
   * which ones the archive has that this stage does not.
   */
  private linksKept(doc: CheckedDocument, id: string, state: TargetState, nameOf: (id: string, ref?: { type?: string; name?: string }) => string): string[] {
    const here = new Set((state.existingRefs.get(id) ?? []).map((r) => r.toId));
    return doc.references
      .filter((r) => r.kind === 'OPTIONAL' && !here.has(r.id))
      .map((r) => `optional reference to ${nameOf(r.id, r)} not added: an unchanged asset keeps its links on this stage`);
  }

  /** Version set and system version for each API in the archive, linked by fixMissingVersions. */
  private async versioning(
    tx: EntityManager,
    documents: CheckedArchive['documents'],
    fix: boolean,
  ): Promise<Map<string, { versionSetId: string | null; systemVersion: number | null }>> {
    const result = new Map<string, { versionSetId: string | null; systemVersion: number | null }>();
    const bySet = groupBy([...documents.values()].filter((d) => d.versionSetId && d.systemVersion), (d) => d.versionSetId!);
    const onTarget = bySet.size
      ? await tx
          .getRepository(AssetEntity)
          .createQueryBuilder('a')
          .select(['a.id', 'a.versionSetId', 'a.systemVersion'])
          .where('a.version_set_id = ANY(:sets)', { sets: [...bySet.keys()] })
          .getMany()
      : [];
    for (const [setId, versions] of bySet) {
      const present = onTarget
        .filter((a) => a.versionSetId === setId && !documents.has(a.id) && a.systemVersion !== null)
        .map((a) => a.systemVersion!);
      const chains = linkVersions(present, versions.map((v) => ({ id: v.id, systemVersion: v.systemVersion! })), fix);
      for (const v of versions) {
        const chain = chains.get(v.id)!;
        result.set(v.id, { versionSetId: chain === 'main' ? setId : chainId(setId, chain), systemVersion: v.systemVersion });
      }
    }
    return result;
  }
}

/** How often an import waiting for its turn asks again (and looks whether its client is still there). */
const TURN_POLL_MS = 50;

/**
 * Imports into this stage run one at a time: two archives holding the same new assets in
 * different orders would otherwise deadlock on each other's rows. A later one waits, then decides
 * against what the earlier one left. (A dry run writes nothing and waits for none.) One whose
 * client goes away while it waits gives up: nobody would see its report.
 */
async function takeImportTurn(tx: EntityManager, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    const [turn] = (await tx.query('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS taken', ['archive-import'])) as { taken: boolean }[];
    if (signal?.aborted) throw conflict('the client went away before the import began; nothing was imported', { field: 'archive' });
    if (turn!.taken) return;
    await sleep(TURN_POLL_MS);
  }
}

/** The rollback row of a promotion's import: the pre-image of everything it wrote. */
function rollbackRow(promotion: PromotionInfo, sourceStage: string, importReportId: string, preImages: PreImage[]): unknown[] {
  const report: RollbackEntity['report'] = preImages.map((p) => ({ type: p.type, name: p.name, status: p.row ? 'REPLACED' : 'CREATED', comment: '' }));
  return [promotion.name, promotion.description, promotion.id, sourceStage, promotion.promotedBy, importReportId, JSON.stringify(preImages), JSON.stringify(report)];
}

function overallStatus(assets: readonly AssetImportResult[]): ImportStatus {
  const failures = assets.filter((a) => a.status === 'FAILURE').length;
  if (failures === 0) return 'SUCCESS';
  return failures === assets.length ? 'FAILURE' : 'PARTIAL_SUCCESS';
}

/** Per type: successful (everything but FAILURE), unsuccessful, and by action and warning. */
function summarise(assets: readonly AssetImportResult[]): TypeSummary[] {
  const byType = new Map<string, TypeSummary>();
  for (const a of assets) {
    const s = byType.get(a.type) ?? { type: a.type, successful: 0, unsuccessful: 0, created: 0, replaced: 0, unchanged: 0, warnings: 0 };
    if (a.status === 'FAILURE') s.unsuccessful++;
    else {
      s.successful++;
      if (a.action === 'CREATE') s.created++;
      if (a.action === 'UPDATE') s.replaced++;
      if (a.action === 'UNCHANGED') s.unchanged++;
      if (a.status === 'WARNING') s.warnings++;
    }
    byType.set(a.type, s);
  }
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/**
 * The checksum of what the import would store. A secure value that did not travel (no
 * passphrase) cannot be written: the stage keeps its own value (or none), so the comparison is
 * with that, and re-importing such an archive finds it UNCHANGED rather than failing.
 */
function effectiveChecksum(doc: CheckedDocument, current: AssetEntity | null): string {
  const secure = hasSecureFields(doc.type, doc.spec) && doc.secretDigest !== null;
  if (!secure || doc.secrets !== null) return doc.checksum;
  return documentChecksum(doc, current?.sealedSecret ? current.secretDigest : null);
}

/** Why a secure alias value did not come in (a WARNING), or nothing. */
function secureValueWarnings(doc: CheckedDocument, manifest: Manifest, current: AssetEntity | null): string[] {
  const secure = hasSecureFields(doc.type, doc.spec) && doc.secretDigest !== null;
  if (!secure || doc.secrets !== null) return [];
  if (manifest.secrets) return ['secure value not imported: no passphrase given'];
  return [
    current?.sealedSecret
      ? 'secure value not in the archive (exported without a passphrase); the value on this stage was kept'
      : 'secure value not in the archive (exported without a passphrase); set it on this stage',
  ];
}

/**
 * Whether the asset as prepared is, field for field, the content the document's verified checksum
 * covers (then that checksum is the row's, not computed a second time). The spec must be the very
 * object checked (prepare took it as it was); names and references as prepare cleaned them.
 */
function sameContent(prepared: PreparedAsset, doc: CheckedDocument): boolean {
  if (prepared.spec !== doc.spec || prepared.secretDigest !== doc.secretDigest) return false;
  if (prepared.name !== doc.name || prepared.description !== doc.description || prepared.team !== doc.team || prepared.version !== doc.version) return false;
  const mine = prepared.references.filter((r) => r.kind === 'REQUIRED').map((r) => r.toId).sort();
  const theirs = doc.references.filter((r) => r.kind === 'REQUIRED').map((r) => r.id).sort();
  return mine.length === theirs.length && mine.every((id, i) => id === theirs[i]);
}

/** Every document after the ones it references (cycles through optional references broken). */
/** What decide hands back to apply. */
interface Decisions {
  results: Map<string, AssetImportResult>;
  rows: AssetRowWrite[];
  referenceRows: ReferenceRow[];
  preImages: PreImage[];
  /** Names granted on trust (see apply). */
  grants: NameGrant[];
  /** Existing assets that took another name, giving theirs up. */
  moved: Set<string>;
}

/** `taker` was given the name `giver` holds, before `giver` was decided. */
interface NameGrant {
  taker: string;
  giver: string;
}

/** Whether `id` is an asset of this archive that exists here under a name the archive changes. */
function givesUpItsName(id: string, documents: CheckedArchive['documents'], state: Pick<TargetState, 'existing'>): boolean {
  const doc = documents.get(id);
  const current = state.existing.get(id);
  return doc !== undefined && current !== undefined && naturalKeyOf(doc) !== current.naturalKey;
}

/**
 * Apply order: every asset after the ones it references, and an asset taking over a name (its
 * natural key) after the asset of this archive that gives that name up, so a name handed from
 * one replaced asset to another is free when the taker is decided, whatever order the archive
 * lists them in. A cycle (names rotating among assets) is broken as reference cycles are; its
 * first taker gets the name on trust (see apply).
 */
function applyOrder(documents: CheckedArchive['documents'], state: Pick<TargetState, 'existing' | 'keyOwners'>): string[] {
  // Each document takes one name, so it waits for at most one giver.
  const waitsFor = new Map<string, string>();
  for (const [id, doc] of documents) {
    const giver = state.keyOwners.get(naturalKeyOf(doc));
    // The holder is in this archive under another name: it gives this one up if it is replaced.
    if (giver && giver !== id && givesUpItsName(giver, documents, state)) waitsFor.set(id, giver);
  }
  return dependencyClosure(
    [...documents.keys()],
    (id) => {
      const d = documents.get(id);
      const giver = waitsFor.get(id);
      const references = d?.references.map((r) => ({ to: r.id, kind: r.kind })) ?? [];
      return d && { id, references: giver ? [...references, { to: giver, kind: 'REQUIRED' as const }] : references };
    },
    'ALL',
  );
}
