import { describe, expect, it } from 'vitest';
import { manifestSchema, newPassphraseKey, openPassphraseKey } from '../../src/services/archive/format.js';

describe('archive passphrase keys', () => {
  it('people’s passphrases are stretched with scrypt by default', async () => {
    const { secrets } = await newPassphraseKey('correct horse battery');
    expect(secrets.kdf).toBe('scrypt');
  });

  it('a random one-time passphrase (a promotion’s) is keyed with HKDF: opens with itself, refuses another', async () => {
    const passphrase = 'Qm9tYmF5LVJhbmRvbS1QYXNzcGhyYXNlLTI0Qg';
    const { box, secrets } = await newPassphraseKey(passphrase, 'hkdf-sha256');
    expect(secrets.kdf).toBe('hkdf-sha256');
    const sealed = box.seal('s3cret', 'archive:x');
    const opened = await openPassphraseKey(passphrase, secrets);
    expect(opened.open(sealed, 'archive:x')).toBe('s3cret');
    await expect(openPassphraseKey(`${passphrase}x`, secrets)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // The same passphrase and salt under the other KDF is another key.
    await expect(openPassphraseKey(passphrase, { ...secrets, kdf: 'scrypt' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('a manifest names one of the two KDFs, nothing else', () => {
    const base = { formatVersion: 1, productVersion: '0.1.0', sourceStage: 'dev', exportedAt: 'now', entries: [], unavailable: [] };
    const secrets = { salt: 'c2FsdHNhbHRzYWx0c2FsdA==', check: 'x' };
    expect(manifestSchema.safeParse({ ...base, secrets: { ...secrets, kdf: 'hkdf-sha256' } }).success).toBe(true);
    expect(manifestSchema.safeParse({ ...base, secrets: { ...secrets, kdf: 'none' } }).success).toBe(false);
  });
});
