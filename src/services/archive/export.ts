/**
 * Export: the selection (ids or a search filter) plus its dependencies, written as a streamed
 * ZIP. Assets are read in batches in apply order and the ZIP is produced as it is consumed, so
 * memory stays flat however large the archive (the manifest, ~100 bytes per asset, is the only
 * thing that grows, and it is written last).
 */
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import { In, type DataSource } from 'typeorm';
import yazl from 'yazl';
import type { OptionalChoice } from '../../domain/dependencies.js';
import { AssetReferenceEntity } from '../../entities/asset-reference.js';
import { AssetEntity } from '../../entities/asset.js';
import { badInput } from '../../errors.js';
import type { SecretBox } from '../../secrets.js';
import { productVersion } from '../../version.js';
import { secureValueDigest, type AssetFilter, type AssetService } from '../assets.js';
import { chooseAlias } from '../../domain/aliases.js';
import { assetChecksum } from '../../domain/checksum.js';
import { documentPath, FORMAT_VERSION, MANIFEST_PATH, newPassphraseKey, secretContext, type AssetDocument, type Manifest } from './format.js';

export interface ExportSelection {
  assetIds?: readonly string[] | null;
  filter?: AssetFilter | null;
  optional?: OptionalChoice | null;
  optionalIds?: readonly string[] | null;
  /** Seals secure values into the archive; without it they are left out. */
  passphrase?: string | null;
  /**
   * Promotion to this stage: each alias travels with the content of its variant for the stage
   * (bound to it, else unbound), under the id the other assets reference (DESIGN §2).
   */
  aliasStage?: string | null;
}

const BATCH = 200;
/** How much finished ZIP output may wait for the consumer before we stop reading the database. */
const HIGH_WATER = 1024 * 1024;
/** How many entries may wait in yazl's queue. */
const PENDING = 64;

/** yazl's output is a PassThrough; its typings say only NodeJS.ReadableStream. */
const output = (zip: yazl.ZipFile) => zip.outputStream as unknown as Readable;

export interface PreparedExport {
  ids: string[];
  /** The ZIP, produced as it is read. */
  stream: Readable;
}

export class ArchiveExporter {
  constructor(
    private readonly db: DataSource,
    private readonly assets: AssetService,
    private readonly secrets: SecretBox,
    private readonly stage: string,
  ) {}

  /** Validates the selection (throwing before any byte is sent) and starts the ZIP stream. */
  async export(selection: ExportSelection): Promise<PreparedExport> {
    if (selection.passphrase !== undefined && selection.passphrase !== null && selection.passphrase.length < 8) {
      throw badInput('passphrase must be at least 8 characters', { field: 'passphrase' });
    }
    const ids = await this.selectionIds(selection);
    const key = selection.passphrase ? await newPassphraseKey(selection.passphrase) : null;
    const zip = new yazl.ZipFile();
    void this.write(zip, ids, key, selection.aliasStage ?? null).catch((err: unknown) => output(zip).destroy(err as Error));
    return { ids, stream: output(zip) };
  }

  /** The selection's asset ids in apply order; NOT_FOUND/BAD_USER_INPUT before anything is sent. */
  async selectionIds(selection: ExportSelection): Promise<string[]> {
    if (!selection.assetIds?.length && !selection.filter) throw badInput('give assetIds or a filter', { field: 'assetIds' });
    const roots = selection.assetIds?.length ? [...selection.assetIds] : await this.assets.idsMatching(selection.filter!);
    return this.assets.closureIds(roots, selection.optional ?? 'NONE', selection.optionalIds ?? []);
  }

  /**
   * The archive documents of `ids`, read in batches, each with the checksum of exactly its
   * content. Promotion plans read these without building a ZIP.
   */
  async *documents(
    ids: readonly string[],
    key: Awaited<ReturnType<typeof newPassphraseKey>> | null,
    aliasStage: string | null,
  ): AsyncGenerator<{ doc: AssetDocument; checksum: string; updatedAt: Date }> {
    const selected = new Set(ids);
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const rows = new Map((await this.db.getRepository(AssetEntity).findBy({ id: In(batch) })).map((r) => [r.id, r]));
      const refs = await this.db.getRepository(AssetReferenceEntity).findBy({ fromId: In(batch) });
      const variants = aliasStage ? await this.aliasVariants([...rows.values()]) : null;
      for (const id of batch) {
        const row = rows.get(id);
        if (!row) continue; // deleted meanwhile
        // A stage-bound variant whose unbound alias also travels goes as that alias's content
        // (below); sending it again under its own id would clash on the target.
        if (variants && row.type === 'ALIAS' && row.spec.stage && variants.some((v) => v.name === row.name && v.stage === null && selected.has(v.row.id))) continue;
        const chosen = variants && row.type === 'ALIAS' ? (chooseAlias(variants, row.name, aliasStage!)?.row ?? row) : row;
        yield { ...(await this.document(row.id, chosen, refs, key)), updatedAt: chosen.updatedAt };
      }
    }
  }

  private async write(
    zip: yazl.ZipFile,
    ids: string[],
    key: Awaited<ReturnType<typeof newPassphraseKey>> | null,
    aliasStage: string | null,
  ): Promise<void> {
    const entries: Manifest['entries'] = [];
    // yazl starts deflating an added buffer at once, so thousands of addBuffer calls would all be
    // in flight together. Entries added as streams are deflated one after another; we keep at
    // most PENDING of them queued and let the consumer take what is ready before reading on.
    let pending = 0;
    const drained = new EventEmitter();
    for await (const { doc, checksum, updatedAt } of this.documents(ids, key, aliasStage)) {
      const data = Buffer.from(JSON.stringify(doc));
      const entry = Readable.from([data]);
      pending++;
      entry.once('end', () => {
        pending--;
        drained.emit('entry');
      });
      zip.addReadStream(entry, documentPath(doc.id), { mtime: updatedAt, size: data.length });
      entries.push({ type: doc.type, id: doc.id, name: doc.name, checksum });
      while (pending > PENDING && !output(zip).destroyed) await once(drained, 'entry');
      while (output(zip).readableLength > HIGH_WATER && !output(zip).destroyed) await once(output(zip), 'data');
    }
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      productVersion,
      sourceStage: this.stage,
      exportedAt: new Date().toISOString(),
      secrets: key?.secrets ?? null,
      entries,
    };
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), MANIFEST_PATH);
    zip.end();
  }

  /** Every variant of the aliases among `rows`, for the per-stage choice. */
  private async aliasVariants(rows: AssetEntity[]): Promise<{ name: string; stage: string | null; row: AssetEntity }[]> {
    const names = [...new Set(rows.filter((r) => r.type === 'ALIAS').map((r) => r.name))];
    if (!names.length) return [];
    const all = await this.db.getRepository(AssetEntity).findBy({ type: 'ALIAS', name: In(names) });
    return all.map((row) => ({ name: row.name, stage: (row.spec.stage as string | null) ?? null, row }));
  }

  /**
   * The archive document for asset `id` with the content of `source` (itself, or the alias
   * variant chosen for the target stage), and the checksum of exactly that content.
   */
  private async document(
    id: string,
    source: AssetEntity,
    refs: AssetReferenceEntity[],
    key: Awaited<ReturnType<typeof newPassphraseKey>> | null,
  ): Promise<{ doc: AssetDocument; checksum: string }> {
    const references = refs
      .filter((r) => r.fromId === id)
      .map((r) => ({ id: r.toId, kind: r.kind }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const plain = source.sealedSecret ? this.secrets.open(source.sealedSecret, `asset:${source.id}`) : null;
    const substituted = source.id !== id;
    const secretDigest = substituted && plain !== null ? await secureValueDigest(plain, id) : source.secretDigest;
    const doc: AssetDocument = {
      id,
      type: source.type,
      name: source.name,
      description: source.description,
      team: source.team,
      version: source.version,
      spec: source.spec,
      references,
      versionSetId: source.versionSetId,
      systemVersion: source.systemVersion,
      secretDigest,
      secret: key && plain !== null ? key.box.seal(plain, secretContext(id)) : null,
    };
    const checksum = substituted
      ? assetChecksum({
          type: doc.type,
          name: doc.name,
          description: doc.description,
          team: doc.team,
          version: doc.version,
          spec: doc.spec,
          references: references.filter((r) => r.kind === 'REQUIRED').map((r) => r.id),
          secretDigest,
        })
      : source.checksum;
    return { doc, checksum };
  }
}
