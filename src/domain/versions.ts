/**
 * Version rules: comparing product versions (an archive from a newer product is refused) and
 * linking API version chains on import (DESIGN §2, fixMissingVersions).
 */

/** A strict semantic version (semver.org 2.0.0): 1.2.3, 1.2.3-rc.1, 1.2.3+build.5. Nothing else. */
export const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Compares dotted numeric versions (1.2.10 > 1.2.9); a pre-release suffix sorts before the release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { parts: core.split('.').map((p) => Number.parseInt(p, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export interface IncomingVersion {
  id: string;
  systemVersion: number;
}

/**
 * Which chain each incoming API version joins on the target. `present` are the system versions
 * of the same version set already on the target (and staying). With `fix`, everything joins the
 * set's chain, gaps or not (promote 1,2,4,5 → 2 links to 4). Without it, a version whose
 * predecessor is missing starts a new chain, and its successors follow it.
 * Returns, per incoming id, the chain key: 'main' for the set's own chain, or the id of the
 * version that starts a split chain.
 */
export function linkVersions(present: readonly number[], incoming: readonly IncomingVersion[], fix: boolean): Map<string, string> {
  const chains = new Map<string, string>();
  const chainOfNumber = new Map<number, string>(present.map((n) => [n, 'main']));
  const sorted = [...incoming].sort((a, b) => a.systemVersion - b.systemVersion);
  const lowest = Math.min(...present, ...sorted.map((v) => v.systemVersion));
  for (const version of sorted) {
    const previous = chainOfNumber.get(version.systemVersion - 1);
    // The lowest version known anywhere starts the set's own chain; a gap starts a new one.
    const chain = fix || version.systemVersion === lowest ? 'main' : (previous ?? version.id);
    chains.set(version.id, chain);
    chainOfNumber.set(version.systemVersion, chain);
  }
  return chains;
}
