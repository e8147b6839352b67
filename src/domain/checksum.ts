/**
 * Content checksums over a normalised form: keys sorted at every level, spec defaults filled in
 * (by normaliseSpec before this), references sorted. So re-saving the same content, in any key
 * order, never shows as a change.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth; `undefined` members are dropped like JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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
  return createHash('sha256').update(canonicalJson(normalised)).digest('hex');
}
