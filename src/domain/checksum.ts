/**
 * Content checksums over a normalised form: keys sorted at every level, spec defaults filled in
 * (by normaliseSpec before this), references sorted. So re-saving the same content, in any key
 * order, never shows as a change.
 */
import { hash } from 'node:crypto';

/** JSON with object keys sorted at every depth; `undefined` members are dropped like JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  // Plain loops and string appends: this runs over every spec of every imported asset.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort: UTF-16 code unit order, as `<` compares.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

export interface ChecksumInput {
  type: string;
  name: string;
  description: string;
  team: string | null;
  version: string | null;
  spec: Record<string, unknown>;
  /**
   * Ids of the REQUIRED references only. Optional ones (an API's applications, a package's
   * subscriptions) travel only when chosen, so they are relationships on a stage, not content:
   * leaving them out of a promotion must not make the asset look changed.
   */
  references: readonly string[];
  /** A digest standing in for a secure value (never the value itself). */
  secretDigest?: string | null;
}

export function assetChecksum(input: ChecksumInput): string {
  const normalised = { ...input, references: [...input.references].sort(), secretDigest: input.secretDigest ?? null };
  // One-shot: a Hash object per asset cost more than hashing its few hundred bytes.
  return hash('sha256', canonicalJson(normalised), 'hex');
}
