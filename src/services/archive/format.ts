/**
 * The archive format, the wire format between stages: a ZIP holding `manifest.json` and one JSON
 * document per asset at `assets/<id>.json`. Secure values travel sealed with a key derived from
 * a passphrase given at export (scrypt), through the same AES-256-GCM helper as secrets at rest.
 * A promotion's one-time passphrase is random (192 bits): its key comes from HKDF instead, since
 * stretching a key nobody can guess protects nothing and cost two scrypt runs per promotion.
 */
import { hkdf, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { UUID_PATTERN } from '../../db/ids.js';
import { assetChecksum } from '../../domain/checksum.js';
import { STRICT_SEMVER } from '../../domain/versions.js';
import { textProblem } from '../../domain/input-rules.js';
import { badInput } from '../../errors.js';
import { SecretBox } from '../../secrets.js';

export const FORMAT_VERSION = 1;
export const MANIFEST_PATH = 'manifest.json';
export const documentPath = (id: string) => `assets/${id}.json`;
export const DOCUMENT_PATH = new RegExp(`^assets/(${UUID_PATTERN.source.slice(1, -1)})\\.json$`);

const uuid = z.string().regex(UUID_PATTERN, 'must be a UUID');
/**
 * Any other text of an archive: what PostgreSQL cannot store (NUL, a lone surrogate) refuses the
 * archive here, as bad input, instead of failing the import's transaction later.
 */
const text = () =>
  z.string().superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
/** Largest value of an `int` column (system versions). */
const MAX_INT = 2_147_483_647;

export const manifestSchema = z.object({
  formatVersion: z.number().int().positive(),
  productVersion: z.string().regex(STRICT_SEMVER, 'must be a semantic version (1.2.3 or 1.2.3-rc.1)'),
  sourceStage: text().max(40),
  exportedAt: text().max(100),
  /** Present when secure values were sealed with a passphrase. */
  secrets: z
    .strictObject({
      kdf: z.enum(['scrypt', 'hkdf-sha256']),
      salt: text().min(16),
      /** A known text sealed with the passphrase key, to tell a wrong passphrase at once. */
      check: text(),
    })
    .nullable(),
  entries: z.array(
    z.strictObject({
      type: text().max(40),
      id: uuid,
      name: text(),
      checksum: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
    }),
  ),
  /**
   * Aliases a promotion could not send: the source has no value for the target stage. The
   * target keeps its own, or refuses them (and what requires them) with this reason.
   */
  unavailable: z
    .array(z.strictObject({ id: uuid, type: z.literal('ALIAS'), name: text().max(200), reason: text().max(500) }))
    .default([]),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const documentSchema = z.strictObject({
  id: uuid,
  type: text().max(40),
  name: text(),
  description: text(),
  team: text().nullable(),
  version: text().nullable(),
  spec: z.record(z.string(), z.unknown()),
  /** Type and name of the referenced asset (for reports naming it); not part of the checksum. */
  references: z.array(z.strictObject({ id: uuid, kind: z.enum(['REQUIRED', 'OPTIONAL']), type: text().max(40).optional(), name: text().max(200).optional() })),
  versionSetId: uuid.nullable(),
  systemVersion: z.number().int().positive().max(MAX_INT).nullable(),
  /** Slow salted digest of the secure value (part of the checksum; reveals nothing usable). */
  secretDigest: text().nullable(),
  /** The secure value sealed with the passphrase key; null when exported without a passphrase. */
  secret: text().nullable(),
});
export type AssetDocument = z.infer<typeof documentSchema>;

/**
 * The checksum of a document's content, as its manifest entry carries it: required references
 * count, optional ones do not (see assetChecksum), and the secure value counts by `secretDigest`.
 */
export function documentChecksum(
  doc: Pick<AssetDocument, 'type' | 'name' | 'description' | 'team' | 'version' | 'spec' | 'references'>,
  secretDigest: string | null,
): string {
  return assetChecksum({
    type: doc.type,
    name: doc.name,
    description: doc.description,
    team: doc.team,
    version: doc.version,
    spec: doc.spec,
    references: doc.references.filter((r) => r.kind === 'REQUIRED').map((r) => r.id),
    secretDigest,
  });
}

const CHECK_TEXT = 'stagecraft-archive';
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

const hkdfAsync = promisify(hkdf);

export type PassphraseKdf = NonNullable<Manifest['secrets']>['kdf'];

/** A passphrase made of this many random bytes or more may be keyed with HKDF (see the top). */
export const RANDOM_PASSPHRASE_BYTES = 24;

async function passphraseBox(passphrase: string, salt: string, kdf: PassphraseKdf): Promise<SecretBox> {
  const saltBytes = Buffer.from(salt, 'base64');
  const key =
    kdf === 'hkdf-sha256'
      ? Buffer.from(await hkdfAsync('sha256', passphrase, saltBytes, 'stagecraft-archive', 32))
      : await scryptAsync(passphrase, saltBytes, 32, { N: 32768, maxmem: 64 * 1024 * 1024 });
  return new SecretBox(new Map([[1, key]]));
}

/**
 * For export: a fresh salt, the key, and the check value for the manifest. `hkdf-sha256` only for
 * a passphrase of RANDOM_PASSPHRASE_BYTES random bytes (a promotion's); people's passphrases get scrypt.
 */
export async function newPassphraseKey(passphrase: string, kdf: PassphraseKdf = 'scrypt'): Promise<{ box: SecretBox; secrets: NonNullable<Manifest['secrets']> }> {
  const salt = randomBytes(16).toString('base64');
  const box = await passphraseBox(passphrase, salt, kdf);
  return { box, secrets: { kdf, salt, check: box.seal(CHECK_TEXT, 'archive:check') } };
}

/** For import: the key, or BAD_USER_INPUT when the passphrase does not open the check value. */
export async function openPassphraseKey(passphrase: string, secrets: NonNullable<Manifest['secrets']>): Promise<SecretBox> {
  const box = await passphraseBox(passphrase, secrets.salt, secrets.kdf);
  try {
    if (box.open(secrets.check, 'archive:check') === CHECK_TEXT) return box;
  } catch {
    /* wrong passphrase */
  }
  throw badInput('wrong passphrase for this archive', { field: 'passphrase' });
}

export const secretContext = (id: string) => `archive:${id}`;
