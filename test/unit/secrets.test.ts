import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSecretBox, parseKeyList, SecretBox, SecretError } from '../../src/secrets.js';

const key = () => randomBytes(32);

describe('SecretBox', () => {
  const box = new SecretBox(new Map([[1, key()]]));

  it('round-trips and uses a fresh IV every time', () => {
    const a = box.seal('s3cret');
    const b = box.seal('s3cret');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(a).toMatch(/^sc1:1:/);
    expect(box.open(a)).toBe('s3cret');
    expect(box.open(b)).toBe('s3cret');
  });

  it('detects tampering with the ciphertext, IV or tag', () => {
    const sealed = box.seal('value');
    const [p, v, body] = sealed.split(':');
    const raw = Buffer.from(body!, 'base64url');
    for (const index of [0, 12, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[index]! ^= 1;
      expect(() => box.open(`${p}:${v}:${bad.toString('base64url')}`)).toThrow(SecretError);
    }
    expect(() => box.open(`${p}:${v}:${raw.subarray(0, 10).toString('base64url')}`)).toThrow(/truncated/);
    expect(() => box.open('plain text')).toThrow(SecretError);
  });

  it('binds a value to its context', () => {
    const sealed = box.seal('pw', 'stage:qa:password');
    expect(box.open(sealed, 'stage:qa:password')).toBe('pw');
    expect(() => box.open(sealed, 'stage:prod:password')).toThrow(SecretError);
  });

  it('seals with the newest key and still opens values sealed with older ones', () => {
    const k1 = key();
    const old = new SecretBox(new Map([[1, k1]])).seal('old');
    const rotated = new SecretBox(new Map([[1, k1], [2, key()]]));
    expect(rotated.seal('new')).toMatch(/^sc1:2:/);
    expect(rotated.open(old)).toBe('old');
    expect(() => new SecretBox(new Map([[2, key()]])).open(old)).toThrow(/unknown secret key version 1/);
  });

  it('wrong key fails authentication', () => {
    expect(() => new SecretBox(new Map([[1, key()]])).open(box.seal('x'))).toThrow(/failed authentication/);
  });
});

describe('keys', () => {
  it('creates the key file once, mode 0600, and reuses it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sc-secrets-'));
    const first = await loadSecretBox(dir, undefined);
    const file = path.join(dir, 'secret.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const content = await readFile(file, 'utf8');
    const second = await loadSecretBox(dir, undefined);
    expect(await readFile(file, 'utf8')).toBe(content);
    expect(second.open(first.seal('same key'))).toBe('same key');
  });

  it('takes keys from the environment, with versions', () => {
    const k1 = key().toString('base64');
    const k2 = key().toString('base64');
    expect([...parseKeyList(k1).keys()]).toEqual([1]);
    expect([...parseKeyList(`2:${k2},1:${k1}`).keys()].sort()).toEqual([1, 2]);
    expect(() => parseKeyList('1:c2hvcnQ=')).toThrow(/32 bytes/);
  });
});
