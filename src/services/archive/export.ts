/**
 * Export: the selection (ids or a search filter) plus its dependencies, written as a streamed
 * ZIP. Assets are read in batches in apply order and the ZIP is produced as it is consumed, so
 * memory stays flat however large the archive (the manifest, ~100 bytes per asset, is the only
 * thing that grows, and it is written last).
 */
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { groupBy } from '../../db/group-by.js';
import yazl from 'yazl';
import type { OptionalChoice } from '../../domain/dependencies.js';
import { AssetEntity } from '../../entities/asset.js';
import { badInput } from '../../errors.js';
import type { SecretBox } from '../../secrets.js';
import { productVersion } from '../../version.js';
import { secureValueDigest, type AssetFilter, type AssetService } from '../assets.js';
import { aliasShipments, type AliasRow, type AliasShipment } from '../../domain/aliases.js';
import { noAliasValue } from '../../domain/promotion-decision.js';
import { StoredZipWriter } from './zip-writer.js';
import { documentChecksum, documentPath, FORMAT_VERSION, MANIFEST_PATH, newPassphraseKey, secretContext, type AssetDocument, type Manifest } from './format.js';

export interface ExportSelection {
  assetIds?: readonly string[] | null;
  filter?: AssetFilter | null;
  optional?: OptionalChoice | null;
  optionalIds?: readonly string[] | null;
  /** Seals secure values into the archive; without it they are left out. */
  passphrase?: string | null;
  /** The passphrase is RANDOM_PASSPHRASE_BYTES random bytes made for this transfer (a promotion's): keyed with HKDF. */
  randomPassphrase?: boolean;
  /**
   * Promotion to this stage: aliases travel down the chain (DESIGN §2, domain/aliases
   * `aliasShipments`); one with no value for the stage is listed as unavailable in the manifest.
   */
  aliasStage?: string | null;
  /** Sees each document as it is written (a plan shows the alias values that would be sent). */
  onDocument?: (doc: AssetDocument) => void;
  /**
   * False: entries are stored, not deflated (a promotion's transfer between instances: deflating
   * 10,000 small documents one stream each cost more than the bytes it saved on the wire).
   */
  compress?: boolean;
}

type PassphraseKey = Awaited<ReturnType<typeof newPassphraseKey>>;

/** One document of an export, or an alias the source could not send to the target stage. */
export type ExportItem = { doc: AssetDocument; checksum: string; updatedAt: Date } | { unavailable: Manifest['unavailable'][number] };

const aliasRow = (r: Pick<AssetEntity, 'id' | 'name' | 'spec'>): AliasRow => ({ id: r.id, name: r.name, stage: (r.spec.stage as string | null) ?? null });

const BATCH = 1000;

/** What a document is made of: an asset row as SELECT_SOURCES reads it. */
type ExportSource = Pick<AssetEntity, 'id' | 'type' | 'name' | 'description' | 'team' | 'version' | 'spec' | 'sealedSecret' | 'secretDigest' | 'checksum' | 'versionSetId' | 'systemVersion' | 'updatedAt'>;

interface RawSource {
  id: string;
  type: AssetEntity['type'];
  name: string;
  description: string;
  team: string | null;
  version: string | null;
  spec: Record<string, unknown>;
  sealed_secret: string | null;
  secret_digest: string | null;
  checksum: string;
  version_set_id: string | null;
  system_version: number | null;
  updated_at: Date;
}

const SELECT_SOURCES = `SELECT id, type, name, description, team, version, spec, sealed_secret, secret_digest, checksum, version_set_id, system_version, updated_at
  FROM assets WHERE id = ANY($1::uuid[])`;

const sourceOf = (r: RawSource): ExportSource => ({
  id: r.id,
  type: r.type,
  name: r.name,
  description: r.description,
  team: r.team,
  version: r.version,
  spec: r.spec,
  sealedSecret: r.sealed_secret,
  secretDigest: r.secret_digest,
  checksum: r.checksum,
  versionSetId: r.version_set_id,
  systemVersion: r.system_version,
  updatedAt: r.updated_at,
});

/** A reference of a batch's asset with its target's type and name (null if the target vanished). */
interface RawReference {
  from_id: string;
  to_id: string;
  kind: 'REQUIRED' | 'OPTIONAL';
  type: string | null;
  name: string | null;
}

/*
 * A batch's references, and separately the type and name of the targets the export has not read
 * yet: most targets are assets of the same or an earlier batch, so joining every reference to
 * its target (a hash of the whole assets table) read again what is already in memory.
 */
const SELECT_REFERENCES = `SELECT from_id, to_id, kind FROM asset_references WHERE from_id = ANY($1::uuid[])`;
const SELECT_TARGETS = `SELECT id, type, name FROM assets WHERE id = ANY($1::uuid[])`;
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
    const key = selection.passphrase ? await newPassphraseKey(selection.passphrase, selection.randomPassphrase ? 'hkdf-sha256' : 'scrypt') : null;
    const sink = selection.compress === false ? storedSink() : deflatedSink();
    void this.write(sink, ids, key, selection.aliasStage ?? null, selection.onDocument).catch((err: unknown) => sink.stream.destroy(err as Error));
    return { ids, stream: sink.stream };
  }

  /** The selection's asset ids in apply order; NOT_FOUND/BAD_USER_INPUT before anything is sent. */
  async selectionIds(selection: ExportSelection): Promise<string[]> {
    if (!selection.assetIds?.length && !selection.filter) throw badInput('give assetIds or a filter', { field: 'assetIds' });
    const roots = selection.assetIds?.length ? [...selection.assetIds] : await this.assets.idsMatching(selection.filter!);
    return this.assets.closureIds(roots, selection.optional ?? 'NONE', selection.optionalIds ?? []);
  }

  /**
   * The archive documents of `ids`, read in batches, each with the checksum of exactly its
   * content. For a promotion (`aliasStage`), aliases travel down the chain (domain/aliases
   * `aliasShipments`): an alias the source has no value for comes out as `unavailable`.
   */
  async *documents(ids: readonly string[], key: PassphraseKey | null, aliasStage: string | null): AsyncGenerator<ExportItem> {
    const shipments = aliasStage ? await this.aliasPlan(ids, aliasStage) : null;
    const order = shipments ? [...shipments.extras, ...ids.filter((id) => !shipments.byId.has(id) || shipments.byId.get(id)!.kind !== 'SKIP')] : [...ids];
    const sourceOfId = (id: string) => {
      const s = shipments?.byId.get(id);
      return s?.kind === 'SLOT' ? s.contentOf : id;
    };
    // Type and name of every asset read so far, by id: what references name their targets with.
    const named = new Map<string, { type: string; name: string }>();
    // Two statements per batch, one array parameter each (not a placeholder per id), and a third
    // for reference targets not read yet.
    const load = async (batch: string[]) => {
      const [rows, refs] = await Promise.all([
        this.db.query<RawSource[]>(SELECT_SOURCES, [[...new Set([...batch, ...batch.map(sourceOfId)])]]),
        this.db.query<Omit<RawReference, 'type' | 'name'>[]>(SELECT_REFERENCES, [batch]),
      ]);
      for (const r of rows) named.set(r.id, { type: r.type, name: r.name });
      const unread = [...new Set(refs.map((r) => r.to_id).filter((id) => !named.has(id)))];
      if (unread.length) for (const t of await this.db.query<{ id: string; type: string; name: string }[]>(SELECT_TARGETS, [unread])) named.set(t.id, t);
      const withTargets: RawReference[] = refs.map((r) => {
        const target = named.get(r.to_id);
        return { ...r, type: target?.type ?? null, name: target?.name ?? null };
      });
      return { rows: new Map(rows.map((r) => [r.id, sourceOf(r)])), refs: groupBy(withTargets, (r) => r.from_id) };
    };
    // The next batch is read while this one is turned into documents.
    let next = order.length ? load(order.slice(0, BATCH)) : null;
    for (let i = 0; i < order.length; i += BATCH) {
      const batch = order.slice(i, i + BATCH);
      const sources = batch.map(sourceOfId);
      const { rows, refs } = await next!;
      next = i + BATCH < order.length ? load(order.slice(i + BATCH, i + 2 * BATCH)) : null;
      // A consumer that stops early leaves the read ahead unawaited: not an unhandled rejection.
      next?.catch(() => undefined);
      for (const [n, id] of batch.entries()) {
        const s = shipments?.byId.get(id);
        if (s?.kind === 'UNAVAILABLE') {
          yield { unavailable: { id, type: 'ALIAS', name: s.name, reason: noAliasValue(s.name, aliasStage!, this.stage) } };
          continue;
        }
        const row = rows.get(id);
        const source = rows.get(sources[n]!);
        if (!row || !source) continue; // deleted meanwhile
        yield { ...(await this.document(row.id, source, refs.get(id) ?? [], key)), updatedAt: source.updatedAt };
      }
    }
  }

  private async write(sink: ZipSink, ids: string[], key: PassphraseKey | null, aliasStage: string | null, onDocument: ((doc: AssetDocument) => void) | undefined): Promise<void> {
    const entries: Manifest['entries'] = [];
    const unavailable: Manifest['unavailable'] = [];
    for await (const item of this.documents(ids, key, aliasStage)) {
      if ('unavailable' in item) {
        unavailable.push(item.unavailable);
        continue;
      }
      const { doc, checksum, updatedAt } = item;
      onDocument?.(doc);
      entries.push({ type: doc.type, id: doc.id, name: doc.name, checksum });
      await sink.add(Buffer.from(JSON.stringify(doc)), documentPath(doc.id), updatedAt);
    }
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      productVersion,
      sourceStage: this.stage,
      exportedAt: new Date().toISOString(),
      secrets: key?.secrets ?? null,
      entries,
      unavailable,
    };
    sink.end(Buffer.from(JSON.stringify(manifest, null, 2)), MANIFEST_PATH);
  }

  /** How each alias among `ids` travels to `stage` (aliases down a chain), keyed by id. */
  private async aliasPlan(ids: readonly string[], stage: string): Promise<{ byId: Map<string, AliasShipment | { kind: 'SKIP' }>; extras: string[] }> {
    const byId = new Map<string, AliasShipment | { kind: 'SKIP' }>();
    const selected: AliasRow[] = [];
    const aliases = (ids: readonly string[]) =>
      this.db.query<Pick<AssetEntity, 'id' | 'name' | 'spec'>[]>(`SELECT id, name, spec FROM assets WHERE type = 'ALIAS' AND id = ANY($1::uuid[])`, [ids]);
    selected.push(...(await aliases(ids)).map(aliasRow));
    if (!selected.length) return { byId, extras: [] };
    const referenced = new Set<string>();
    const aliasIds = selected.map((r) => r.id);
    // Only references from inside the closure count (an alias may be referenced by thousands).
    const refs = await this.db.query<{ to_id: string }[]>('SELECT DISTINCT to_id FROM asset_references WHERE to_id = ANY($1::uuid[]) AND from_id = ANY($2::uuid[])', [aliasIds, ids]);
    for (const r of refs) referenced.add(r.to_id);
    const names = [...new Set(selected.map((r) => r.name))];
    const variants = (
      await this.db.query<Pick<AssetEntity, 'id' | 'name' | 'spec'>[]>(`SELECT id, name, spec FROM assets WHERE type = 'ALIAS' AND name = ANY($1::varchar[])`, [names])
    ).map(aliasRow);
    for (const r of selected) byId.set(r.id, { kind: 'SKIP' });
    const extras: string[] = [];
    for (const s of aliasShipments(selected, variants, referenced, this.stage, stage)) {
      if (!byId.has(s.id)) extras.push(s.id);
      byId.set(s.id, s);
    }
    return { byId, extras };
  }

  /**
   * The archive document for asset `id` with the content of `source` (itself, or the alias
   * variant chosen for the target stage), and the checksum of exactly that content.
   */
  private async document(id: string, source: ExportSource, refs: readonly RawReference[], key: PassphraseKey | null): Promise<{ doc: AssetDocument; checksum: string }> {
    // Type and name ride along so the target's report can name a reference it does not hold.
    const references = refs
      .map((r) => ({ id: r.to_id, kind: r.kind, ...(r.type !== null && { type: r.type, name: r.name! }) }))
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
    const checksum = substituted ? documentChecksum(doc, secretDigest) : source.checksum;
    return { doc, checksum };
  }
}

/** Where the export writes its entries: a ZIP produced as `stream` is read. */
interface ZipSink {
  stream: Readable;
  /** Adds an entry; resolves once the output has room for more (the consumer's pace). */
  add(data: Buffer, path: string, mtime: Date): Promise<void>;
  /** Adds the last entry and ends the ZIP. */
  end(data: Buffer, path: string): void;
}

async function room(stream: Readable): Promise<void> {
  while (stream.readableLength > HIGH_WATER && !stream.destroyed) await once(stream, 'data');
}

/** Stored entries (a promotion's transfer): our own writer, linear in the entries. */
function storedSink(): ZipSink {
  const zip = new StoredZipWriter();
  return {
    stream: zip.output,
    add: (data, path, mtime) => {
      zip.add(path, data, mtime);
      return room(zip.output);
    },
    end: (data, path) => {
      zip.add(path, data, new Date());
      zip.end();
    },
  };
}

/** Deflated entries (yazl). */
function deflatedSink(): ZipSink {
  const zip = new yazl.ZipFile();
  const stream = output(zip);
  // yazl starts deflating an added buffer at once, so thousands of addBuffer calls would all be
  // in flight together. Entries added as streams are deflated one after another; we keep at
  // most PENDING of them queued and let the consumer take what is ready before reading on.
  let pending = 0;
  const drained = new EventEmitter();
  return {
    stream,
    add: async (data, path, mtime) => {
      const entry = Readable.from([data]);
      pending++;
      entry.once('end', () => {
        pending--;
        drained.emit('entry');
      });
      zip.addReadStream(entry, path, { mtime, size: data.length });
      while (pending > PENDING && !stream.destroyed) await once(drained, 'entry');
      await room(stream);
    },
    end: (data, path) => {
      zip.addBuffer(data, path);
      zip.end();
    },
  };
}
