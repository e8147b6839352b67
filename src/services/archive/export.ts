/**
 * Export: the selection (ids or a search filter) plus its dependencies, written as a streamed
 * ZIP. Assets are read in batches in apply order and the ZIP is produced as it is consumed, so
 * memory stays flat however large the archive (the manifest, ~100 bytes per asset, is the only
 * thing that grows, and it is written last).
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { In, type DataSource } from 'typeorm';
import yazl from 'yazl';
import type { OptionalChoice } from '../../domain/dependencies.js';
import { AssetReferenceEntity } from '../../entities/asset-reference.js';
import { AssetEntity } from '../../entities/asset.js';
import { badInput } from '../../errors.js';
import type { SecretBox } from '../../secrets.js';
import { productVersion } from '../../version.js';
import type { AssetFilter, AssetService } from '../assets.js';
import { documentPath, FORMAT_VERSION, MANIFEST_PATH, newPassphraseKey, secretContext, type AssetDocument, type Manifest } from './format.js';

export interface ExportSelection {
  assetIds?: readonly string[] | null;
  filter?: AssetFilter | null;
  optional?: OptionalChoice | null;
  optionalIds?: readonly string[] | null;
  /** Seals secure values into the archive; without it they are left out. */
  passphrase?: string | null;
}

const BATCH = 200;
/** How much finished ZIP output may wait for the consumer before we stop reading the database. */
const HIGH_WATER = 1024 * 1024;

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
    const roots = selection.assetIds?.length ? [...selection.assetIds] : selection.filter ? await this.assets.idsMatching(selection.filter) : [];
    if (!selection.assetIds?.length && !selection.filter) throw badInput('give assetIds or a filter', { field: 'assetIds' });
    if (selection.passphrase !== undefined && selection.passphrase !== null && selection.passphrase.length < 8) {
      throw badInput('passphrase must be at least 8 characters', { field: 'passphrase' });
    }
    const ids = await this.assets.closureIds(roots, selection.optional ?? 'NONE', selection.optionalIds ?? []);
    const key = selection.passphrase ? await newPassphraseKey(selection.passphrase) : null;
    const zip = new yazl.ZipFile();
    void this.write(zip, ids, key).catch((err: unknown) => output(zip).destroy(err as Error));
    return { ids, stream: output(zip) };
  }

  private async write(
    zip: yazl.ZipFile,
    ids: string[],
    key: Awaited<ReturnType<typeof newPassphraseKey>> | null,
  ): Promise<void> {
    const entries: Manifest['entries'] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const rows = new Map((await this.db.getRepository(AssetEntity).findBy({ id: In(batch) })).map((r) => [r.id, r]));
      const refs = await this.db.getRepository(AssetReferenceEntity).findBy({ fromId: In(batch) });
      for (const id of batch) {
        const asset = rows.get(id);
        if (!asset) continue; // deleted meanwhile
        const document: AssetDocument = {
          id: asset.id,
          type: asset.type,
          name: asset.name,
          description: asset.description,
          team: asset.team,
          version: asset.version,
          spec: asset.spec,
          references: refs
            .filter((r) => r.fromId === id)
            .map((r) => ({ id: r.toId, kind: r.kind }))
            .sort((a, b) => (a.id < b.id ? -1 : 1)),
          versionSetId: asset.versionSetId,
          systemVersion: asset.systemVersion,
          secretDigest: asset.secretDigest,
          secret:
            key && asset.sealedSecret ? key.box.seal(this.secrets.open(asset.sealedSecret, `asset:${asset.id}`), secretContext(asset.id)) : null,
        };
        zip.addBuffer(Buffer.from(JSON.stringify(document)), documentPath(asset.id), { mtime: asset.updatedAt });
        entries.push({ type: asset.type, id: asset.id, name: asset.name, checksum: asset.checksum });
      }
      // Backpressure: let the consumer take what is ready before reading the next batch.
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
}
