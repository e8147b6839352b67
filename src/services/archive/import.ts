/**
 * Import: every check that can refuse the archive as a whole runs first (safe ZIP, manifest,
 * product version, known types, valid specs, checksums, passphrase), so a refused archive writes
 * nothing. Then assets are applied in dependency order in one transaction, each with its own
 * outcome (SUCCESS, REPLACED, WARNING, FAILURE) by the overwrite rules, and the report is stored
 * in the same transaction. A crash mid-import rolls everything back.
 */
import { createHash } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { isAssetType, normaliseSpec, SpecError, type AssetType } from '../../domain/asset-types.js';
import { assetChecksum } from '../../domain/checksum.js';
import { dependencyClosure } from '../../domain/dependencies.js';
import { compareVersions, linkVersions } from '../../domain/versions.js';
import { groupBy } from '../../db/group-by.js';
import { AssetReferenceEntity } from '../../entities/asset-reference.js';
import { AssetEntity } from '../../entities/asset.js';
import { RollbackEntity, type PreImage } from '../../entities/rollback.js';
import {
  ImportReportEntity,
  type AssetImportResult,
  type AssetImportStatus,
  type ImportStatus,
  type TypeSummary,
} from '../../entities/import-report.js';
import { AppError, badInput } from '../../errors.js';
import type { SecretBox } from '../../secrets.js';
import { productVersion } from '../../version.js';
import { naturalKeyOf, type AssetService } from '../assets.js';
import type { AuthUser } from '../auth.js';
import {
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
import { readZip, type ZipLimits, type ZipSource } from './zip-reader.js';

export type OverwriteMode = 'NONE' | 'ALL' | 'CUSTOM';

export interface ImportOptions {
  overwrite: OverwriteMode;
  /** With CUSTOM: the types that may be replaced. */
  types?: readonly AssetType[];
  fixMissingVersions: boolean;
  passphrase?: string | null;
  /** Set when a promotion makes this import: a rollback with the pre-images is recorded. */
  promotion?: PromotionInfo | null;
}

export interface PromotionInfo {
  id: string;
  name: string;
  description: string;
  promotedBy: string;
}

interface CheckedArchive {
  manifest: Manifest;
  /** Documents with normalised specs and opened secure values, by id. */
  documents: Map<string, AssetDocument & { type: AssetType; plainSecret: string | null }>;
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
    const checksum = assetChecksum({
      type,
      name: document.name,
      description: document.description,
      team: document.team,
      version: document.version,
      spec,
      references: document.references.filter((r) => r.kind === 'REQUIRED').map((r) => r.id),
      secretDigest: document.secretDigest,
    });
    if (checksum !== entry.checksum) {
      throw badInput(`archive tampered: ${type} ${document.name} does not match its checksum`, { field: 'archive', id: entry.id });
    }
    let plainSecret: string | null = null;
    if (box && document.secret) {
      try {
        plainSecret = box.open(document.secret, secretContext(document.id));
      } catch {
        throw badInput(`archive tampered: the secure value of ${document.name} does not open`, { field: 'archive', id: entry.id });
      }
    }
    documents.set(document.id, { ...document, type, spec, plainSecret });
  }
  return { manifest, documents };
}

/** A deterministic id for a split version chain, the same on every import of the same versions. */
function chainId(versionSetId: string, chainKey: string): string {
  const h = createHash('sha256').update(`${versionSetId}:${chainKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class ArchiveImporter {
  constructor(
    private readonly db: DataSource,
    private readonly assets: AssetService,
  ) {}

  async import(actor: AuthUser, buffer: ZipSource, options: ImportOptions, limits?: ZipLimits): Promise<ImportReportEntity> {
    const archive = await checkArchive(buffer, options.passphrase, limits);
    return this.db.transaction((tx) => this.apply(tx, actor, archive, options));
  }

  private async apply(tx: EntityManager, actor: AuthUser, { manifest, documents }: CheckedArchive, options: ImportOptions): Promise<ImportReportEntity> {
    const ids = [...documents.keys()];
    // Lock what we may replace, so nobody changes it under the import.
    const existing = new Map(
      (ids.length ? await tx.getRepository(AssetEntity).find({ where: { id: In(ids) }, lock: { mode: 'pessimistic_write' } }) : []).map((a) => [a.id, a]),
    );
    const existingRefs = existing.size
      ? await tx.getRepository(AssetReferenceEntity).findBy({ fromId: In([...existing.keys()]) })
      : [];
    const preImages: PreImage[] = [];
    const referenced = [...new Set([...documents.values()].flatMap((d) => d.references.map((r) => r.id)))].filter((id) => !documents.has(id));
    const outside = referenced.length
      ? await tx.getRepository(AssetEntity).find({ select: { id: true, type: true, name: true }, where: { id: In(referenced) } })
      : [];
    const onTarget = new Set(outside.map((a) => a.id));
    // Answer reference and natural-key lookups from memory: one query each up front, not one per asset.
    const known = new Map<string, Pick<AssetEntity, 'id' | 'type' | 'name'>>([...outside, ...existing.values()].map((a) => [a.id, a]));
    const keys = [...documents.values()].map((d) => naturalKeyOf(d));
    const keyOwners = new Map(
      (keys.length ? await tx.getRepository(AssetEntity).find({ select: { id: true, naturalKey: true }, where: { naturalKey: In(keys) } }) : []).map((a) => [
        a.naturalKey,
        a.id,
      ]),
    );
    const versioning = await this.versioning(tx, documents, options.fixMissingVersions);
    const mayReplace = (type: AssetType) => options.overwrite === 'ALL' || (options.overwrite === 'CUSTOM' && (options.types ?? []).includes(type));

    const order = dependencyClosure(
      ids,
      (id) => {
        const d = documents.get(id);
        return d && { id, references: d.references.map((r) => ({ to: r.id, kind: r.kind })) };
      },
      'ALL',
    );
    const results = new Map<string, AssetImportResult>();
    const deferred: { fromId: string; toId: string; kind: 'REQUIRED' | 'OPTIONAL' }[] = [];
    const failed = new Set<string>();
    const nameOf = (id: string) => {
      const d = documents.get(id);
      return d ? `${d.type} ${d.name}` : id;
    };

    for (const id of order) {
      const doc = documents.get(id)!;
      const result = (status: AssetImportStatus, explanation: string) => {
        results.set(id, { id, name: doc.name, type: doc.type, status, explanation });
        // A failed asset that is already on this stage (e.g. not replaced) still serves its dependents.
        if (status === 'FAILURE' && !existing.has(id)) failed.add(id);
      };
      const warnings: string[] = [];
      const notes: string[] = [];
      const current = existing.get(id);

      const brokenDependency = doc.references.find((r) => r.kind === 'REQUIRED' && failed.has(r.id));
      if (brokenDependency) {
        result('FAILURE', `depends on ${nameOf(brokenDependency.id)}, which failed`);
        continue;
      }
      const missing = doc.references.find((r) => r.kind === 'REQUIRED' && !documents.has(r.id) && !onTarget.has(r.id));
      if (missing) {
        result('FAILURE', `requires asset ${missing.id}, which is neither in the archive nor on this stage`);
        continue;
      }
      if (current && current.type !== doc.type) {
        result('FAILURE', `a ${current.type} with the same id exists on this stage`);
        continue;
      }
      if (current && !mayReplace(doc.type)) {
        result('FAILURE', `already exists (overwrite is off for ${doc.type})`);
        continue;
      }
      const references = doc.references
        .filter((r) => {
          if (known.has(r.id)) return true;
          // An optional reference closing a cycle points at an asset applied later in this
          // import: link it once everything is in (optional references are not in checksums).
          if (documents.has(r.id) && !failed.has(r.id)) {
            deferred.push({ fromId: id, toId: r.id, kind: r.kind });
            return false;
          }
          notes.push(`optional reference to ${nameOf(r.id)} left out: not on this stage`);
          return false;
        })
        .map((r) => r.id);
      const secure = doc.type === 'ALIAS' && doc.spec.secure === true && doc.secretDigest !== null;
      if (secure && doc.plainSecret === null) {
        warnings.push(
          manifest.secrets
            ? 'secure value not imported: no passphrase given'
            : current?.sealedSecret
              ? 'secure value not in the archive (exported without a passphrase); the value on this stage was kept'
              : 'secure value not in the archive (exported without a passphrase); set it on this stage',
        );
      }
      try {
        const prepared = await this.assets.prepare(
          tx,
          id,
          {
            type: doc.type,
            name: doc.name,
            description: doc.description,
            team: doc.team,
            version: doc.version,
            spec: doc.plainSecret !== null ? { ...doc.spec, value: doc.plainSecret } : doc.spec,
            references,
          },
          current ?? null,
          async (ids) => ids.map((r) => known.get(r)).filter((a) => a !== undefined),
        );
        await this.assets.write(tx, prepared, actor.username, versioning.get(id) ?? { versionSetId: null, systemVersion: null }, current, async (key) =>
          keyOwners.get(key),
        );
        preImages.push({
          assetId: id,
          type: doc.type,
          name: doc.name,
          row: current ? { ...current } : null,
          references: current ? existingRefs.filter((r) => r.fromId === id).map((r) => ({ toId: r.toId, kind: r.kind })) : [],
        });
        if (current) keyOwners.delete(current.naturalKey);
        keyOwners.set(naturalKeyOf(prepared), id);
        known.set(id, { id, type: prepared.type, name: prepared.name });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        result('FAILURE', err.message);
        continue;
      }
      result(warnings.length ? 'WARNING' : current ? 'REPLACED' : 'SUCCESS', [current ? 'replaced' : 'created', ...warnings, ...notes].join('; '));
    }

    const linked = deferred.filter((d) => known.has(d.toId) && results.get(d.fromId)?.status !== 'FAILURE');
    if (linked.length) await tx.getRepository(AssetReferenceEntity).insert(linked);
    for (const d of deferred.filter((x) => !linked.includes(x) && results.get(x.fromId)?.status !== 'FAILURE')) {
      results.get(d.fromId)!.explanation += `; optional reference to ${nameOf(d.toId)} left out: it failed`;
    }

    const assets = order.map((id) => results.get(id)!);
    const report = tx.getRepository(ImportReportEntity).create({
      createdBy: actor.username,
      sourceStage: manifest.sourceStage,
      status: overallStatus(assets),
      options: { overwrite: options.overwrite, types: options.types ?? [], fixMissingVersions: options.fixMissingVersions, productVersion: manifest.productVersion },
      types: summarise(assets, existing),
      assets,
    });
    const saved = await tx.getRepository(ImportReportEntity).save(report);
    if (options.promotion && preImages.length) {
      await tx.getRepository(RollbackEntity).save({
        name: options.promotion.name,
        description: options.promotion.description,
        promotionId: options.promotion.id,
        sourceStage: manifest.sourceStage,
        promotedBy: options.promotion.promotedBy,
        status: 'AVAILABLE',
        importReportId: saved.id,
        preImages,
        report: preImages.map((p) => ({ type: p.type, name: p.name, status: p.row ? 'REPLACED' : 'CREATED', comment: '' })),
      });
    }
    return saved;
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
      ? await tx.getRepository(AssetEntity).find({ select: { id: true, versionSetId: true, systemVersion: true }, where: { versionSetId: In([...bySet.keys()]) } })
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

function overallStatus(assets: readonly AssetImportResult[]): ImportStatus {
  const failures = assets.filter((a) => a.status === 'FAILURE').length;
  if (failures === 0) return 'SUCCESS';
  return failures === assets.length ? 'FAILURE' : 'PARTIAL_SUCCESS';
}

function summarise(assets: readonly AssetImportResult[], existing: ReadonlyMap<string, AssetEntity>): TypeSummary[] {
  const byType = new Map<string, TypeSummary>();
  for (const a of assets) {
    const s = byType.get(a.type) ?? { type: a.type, successful: 0, unsuccessful: 0, replaced: 0, warnings: 0 };
    if (a.status === 'FAILURE') s.unsuccessful++;
    else {
      s.successful++;
      if (existing.has(a.id)) s.replaced++;
      if (a.status === 'WARNING') s.warnings++;
    }
    byType.set(a.type, s);
  }
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}
