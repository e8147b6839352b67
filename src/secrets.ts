/**
 * The one AES-256-GCM helper for secure strings at rest (alias values, stage passwords …).
 *
 * Sealed form: `sc1:<keyVersion>:<base64url(iv ‖ tag ‖ ciphertext)>`. The key version lets keys
 * rotate: new values use the newest key, old values still open with theirs. An optional context
 * string is bound in as additional authenticated data, so a value copied into another row or
 * field fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'sc1';

export class SecretError extends Error {}

export class SecretBox {
  private readonly current: number;

  constructor(private readonly keys: ReadonlyMap<number, Buffer>) {
    if (keys.size === 0) throw new SecretError('no secret keys');
    for (const [version, key] of keys) {
      if (key.length !== KEY_BYTES) throw new SecretError(`secret key version ${version} is not 32 bytes`);
    }
    this.current = Math.max(...keys.keys());
  }

  get keyVersion(): number {
    return this.current;
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}:${this.current}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string, context = ''): string {
    const [prefix, versionText, payload] = sealed.split(':');
    const key = this.keys.get(Number(versionText));
    if (prefix !== PREFIX || payload === undefined) throw new SecretError('not a sealed secret');
    if (!key) throw new SecretError(`unknown secret key version ${versionText}`);
    const raw = Buffer.from(payload, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretError('sealed secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError('sealed secret failed authentication (tampered, or wrong key or context)');
    }
  }
}

/** Parses `base64` (version 1) or `2:base64,1:base64`. */
export function parseKeyList(text: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const item of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const match = /^(?:(\d+):)?([A-Za-z0-9+/=_-]+)$/.exec(item);
    if (!match) throw new SecretError('secret key list is malformed');
    const key = Buffer.from(match[2]!, 'base64');
    if (key.length !== KEY_BYTES) throw new SecretError('each secret key must be 32 bytes, base64-encoded');
    keys.set(Number(match[1] ?? 1), key);
  }
  if (keys.size === 0) throw new SecretError('secret key list is empty');
  return keys;
}

export const SECRET_KEY_FILE = 'secret.key';

/**
 * Keys from STAGECRAFT_SECRET_KEY when set, else from `<dataDir>/secret.key`, which is created
 * with one random key (mode 0600) on first start. Replicas sharing a database must share keys.
 */
export async function loadSecretBox(dataDir: string, envKeys: string | undefined): Promise<SecretBox> {
  if (envKeys) return new SecretBox(parseKeyList(envKeys));
  const file = path.join(dataDir, SECRET_KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `1:${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return new SecretBox(parseKeyList(await readFile(file, 'utf8')));
}
