/**
 * Secure fields of asset specs (alias values, a Kerberos password, a client secret …): which
 * they are, and how they leave the spec to be sealed as one secret per asset and come back. The
 * stored spec holds '' in their place, so no query, log or checksum input ever carries them;
 * the secret's digest stands for them in the checksum.
 */
import { aliasSecureAttributes, assetCatalog, type AliasKind, type AssetType, type Spec } from './asset-types.js';

/** The dotted paths of a spec's secure fields. */
export function securePaths(type: AssetType, spec: Spec): string[] {
  if (type !== 'ALIAS') return [...(assetCatalog[type].secure ?? [])];
  const paths = spec.secure === true ? ['value'] : [];
  if (spec.attributes && typeof spec.attributes === 'object') paths.push(...(aliasSecureAttributes[spec.kind as AliasKind] ?? []).map((a) => `attributes.${a}`));
  return paths;
}

export const hasSecureFields = (type: AssetType, spec: Spec): boolean => securePaths(type, spec).length > 0;

export type Secrets = Record<string, string>;

function read(spec: Spec, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), spec);
}

function write(spec: Spec, path: string, value: string): Spec {
  const [head, ...rest] = path.split('.');
  if (!rest.length) return { ...spec, [head!]: value };
  const inner = spec[head!];
  if (!inner || typeof inner !== 'object') return spec; // absent (e.g. an alias without attributes): nothing to put back
  return { ...spec, [head!]: write(inner as Spec, rest.join('.'), value) };
}

/**
 * Takes the secure values out of a normalised spec: the spec with '' in their place, and the
 * values to seal (null when there are none). A secure field left empty keeps its value from
 * `current` (the stored secrets), so re-saving a spec without re-typing a password keeps it.
 */
export function splitSecrets(type: AssetType, spec: Spec, current: Secrets | null): { spec: Spec; secrets: Secrets | null } {
  const secrets: Secrets = {};
  let blanked = spec;
  for (const path of securePaths(type, spec)) {
    const given = read(spec, path);
    if (typeof given === 'string' && given !== '') secrets[path] = given;
    else if (current?.[path]) secrets[path] = current[path];
    blanked = write(blanked, path, '');
  }
  return { spec: blanked, secrets: Object.keys(secrets).length ? secrets : null };
}

/** Puts opened secrets back into a spec (a stored one, to re-validate or re-import it). */
export function joinSecrets(spec: Spec, secrets: Secrets): Spec {
  let joined = spec;
  for (const [path, value] of Object.entries(secrets)) joined = write(joined, path, value);
  return joined;
}

/**
 * The one string sealed per asset. A secure alias holding only its value seals the value itself
 * (as it always has, so stored and exported values stay valid); anything else seals a JSON object
 * marked by a leading NUL, which no value can start with (text refuses NUL).
 */
const STRUCTURED = '\u0000';

export function encodeSecrets(secrets: Secrets): string {
  const paths = Object.keys(secrets).sort();
  if (paths.length === 1 && paths[0] === 'value') return secrets.value!;
  return STRUCTURED + JSON.stringify(Object.fromEntries(paths.map((p) => [p, secrets[p]])));
}

export function decodeSecrets(sealedPlain: string): Secrets {
  if (!sealedPlain.startsWith(STRUCTURED)) return { value: sealedPlain };
  const parsed: unknown = JSON.parse(sealedPlain.slice(1));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
