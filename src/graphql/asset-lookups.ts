/**
 * The asset lookups of one request — by id, references from and to an asset, the TEAM asset of
 * a name, the versions of a version set — coalesced into ONE statement per round of the
 * executor: every lookup the DataLoaders dispatch in the same tick travels in one `UNION ALL`,
 * each branch yielding the lookup it answers, its key, the reference kind and the asset row
 * (joined in, so a reference never needs a second statement for its target).
 *
 * The portal query (a page of APIs with team, dependencies, dependents and versions) thus costs
 * the token lookup, the page and one statement for everything hanging off the page.
 */
import type { DataSource } from 'typeorm';
import type { ReferenceKind } from '../domain/dependencies.js';
import { listedAsset, listedAssetColumns, type ListedAsset } from '../services/asset-rows.js';

export type LookupKind = 'id' | 'from' | 'to' | 'team' | 'set';

export interface LookupRow {
  kind: LookupKind;
  key: string;
  /** For `from`/`to`: the reference's kind; null otherwise. */
  referenceKind: ReferenceKind | null;
  asset: ListedAsset;
}

/** Each lookup's branch, `$n` being its array of keys: [key, reference kind, asset id, FROM … WHERE …]. */
const BRANCHES: Record<LookupKind, (param: string) => [string, string, string, string]> = {
  id: (p) => ['a.id::text', 'NULL::varchar', 'a.id', `assets a WHERE a.id = ANY(${p}::uuid[])`],
  from: (p) => ['r.from_id::text', 'r.kind', 'r.to_id', `asset_references r WHERE r.from_id = ANY(${p}::uuid[])`],
  to: (p) => ['r.to_id::text', 'r.kind', 'r.from_id', `asset_references r WHERE r.to_id = ANY(${p}::uuid[])`],
  team: (p) => ['a.name::text', 'NULL::varchar', 'a.id', `assets a WHERE a.type = 'TEAM' AND a.name = ANY(${p}::text[])`],
  set: (p) => ['a.version_set_id::text', 'NULL::varchar', 'a.id', `assets a WHERE a.version_set_id = ANY(${p}::uuid[])`],
};

interface Pending {
  keys: Map<LookupKind, Set<string>>;
  result: Promise<LookupRow[]>;
}

export class AssetLookups {
  private pending: Pending | null = null;

  constructor(private readonly db: DataSource) {}

  /**
   * The rows answering `keys` of one kind, from the statement of the current tick: lookups asked
   * before that statement leaves (on the next tick) share it. Rows of other lookups are filtered out.
   */
  async find(kind: LookupKind, keys: readonly string[]): Promise<LookupRow[]> {
    let pending = this.pending;
    if (!pending) {
      const keysByKind = new Map<LookupKind, Set<string>>();
      let release!: () => void;
      const ready = new Promise<void>((resolve) => (release = resolve));
      pending = this.pending = { keys: keysByKind, result: ready.then(() => this.run(keysByKind)) };
      // DataLoaders dispatch on process.nextTick: ours goes behind every batch already queued.
      process.nextTick(() => {
        this.pending = null;
        release();
      });
    }
    let set = pending.keys.get(kind);
    if (!set) pending.keys.set(kind, (set = new Set()));
    for (const key of keys) set.add(key);
    const wanted = new Set(keys);
    return (await pending.result).filter((row) => row.kind === kind && wanted.has(row.key));
  }

  private async run(keysByKind: Map<LookupKind, Set<string>>): Promise<LookupRow[]> {
    const params: string[][] = [];
    const branches: string[] = [];
    for (const [kind, keys] of keysByKind) {
      params.push([...keys]);
      const [key, referenceKind, assetId, from] = BRANCHES[kind](`$${params.length}`);
      branches.push(`SELECT '${kind}'::text AS lookup, ${key} AS key, ${referenceKind} AS ref_kind, ${assetId} AS asset_id FROM ${from}`);
    }
    const raw: Record<string, unknown>[] = await this.db.query(
      `SELECT x.lookup, x.key, x.ref_kind, ${listedAssetColumns('a')} FROM (${branches.join(' UNION ALL ')}) x JOIN assets a ON a.id = x.asset_id`,
      params,
    );
    // One object per asset, even when several lookups return it (its GraphQL view is then shaped once).
    const assets = new Map<string, ListedAsset>();
    return raw.map((r) => {
      const id = r.id as string;
      let asset = assets.get(id);
      if (!asset) assets.set(id, (asset = listedAsset(r)));
      return { kind: r.lookup as LookupKind, key: r.key as string, referenceKind: (r.ref_kind as ReferenceKind | null) ?? null, asset };
    });
  }
}
