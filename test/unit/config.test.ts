import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig, redactConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has defaults for a fresh machine', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ port: 4000, stage: 'dev', dataDir: path.resolve('.stagecraft'), seed: false, graphiql: true, development: false });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('reads the environment', () => {
    const c = loadConfig([], {
      PORT: '5000',
      STAGECRAFT_STAGE: 'qa',
      STAGECRAFT_DATA_DIR: '/var/lib/sc',
      DATABASE_URL: 'postgres://u@h/db',
      STAGECRAFT_ADMIN_PASSWORD: 'long-enough',
      STAGECRAFT_GRAPHIQL: 'false',
      NODE_ENV: 'development',
    });
    expect(c).toMatchObject({ port: 5000, stage: 'qa', dataDir: '/var/lib/sc', databaseUrl: 'postgres://u@h/db', adminPassword: 'long-enough', graphiql: false, development: true });
  });

  it('lets flags win over env', () => {
    const c = loadConfig(['--port', '6000', '--stage', 'prod', '--data-dir', '/tmp/x', '--database-url', 'postgresql://a@b/c', '--seed', '--no-graphiql'], {
      PORT: '5000',
      STAGECRAFT_STAGE: 'qa',
      DATABASE_URL: 'postgres://u@h/db',
      STAGECRAFT_GRAPHIQL: 'true',
    });
    expect(c).toMatchObject({ port: 6000, stage: 'prod', dataDir: '/tmp/x', databaseUrl: 'postgresql://a@b/c', seed: true, graphiql: false });
  });

  it.each([
    [['--port', 'abc'], {}, '--port / PORT must be a number (got "abc")'],
    [[], { PORT: '70000' }, '--port / PORT must be between 0 and 65535 (got "70000")'],
    [['--stage', 'Prod!'], {}, '--stage / STAGECRAFT_STAGE must be lower-case letters, digits and dashes, starting with a letter (got "Prod!")'],
    [[], { DATABASE_URL: 'mysql://x' }, '--database-url / DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [[], { STAGECRAFT_ADMIN_PASSWORD: 'short' }, 'STAGECRAFT_ADMIN_PASSWORD must be at least 8 characters'],
    [['--bogus'], {}, "Unknown option '--bogus'"],
  ] as const)('refuses %j %j with one clear line', (argv, env, message) => {
    expect(() => loadConfig([...argv], env)).toThrow(ConfigError);
    try {
      loadConfig([...argv], env);
    } catch (err) {
      expect((err as Error).message).toContain(message);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a secret back in an error or a log', () => {
    expect(() => loadConfig([], { DATABASE_URL: 'mysql://user:hunter2@x' })).toThrow(/^((?!hunter2).)*$/);
    const redacted = redactConfig(loadConfig([], { STAGECRAFT_ADMIN_PASSWORD: 'hunter2-hunter2', DATABASE_URL: 'postgres://u:pw@h/db' }));
    expect(JSON.stringify(redacted)).not.toMatch(/hunter2|pw@/);
  });
});

describe('CORS allowlist (--cors-origin / STAGECRAFT_CORS_ORIGINS)', () => {
  it('is empty and without credentials by default', () => {
    expect(loadConfig([], {})).toMatchObject({ corsOrigins: [], corsCredentials: false });
  });

  it('takes repeated flags and comma lists, normalised to exact origins; flags win over env', () => {
    const c = loadConfig(['--cors-origin', 'https://Portal.Example.com/', '--cors-origin', 'http://localhost:3000, http://127.0.0.1:8080', '--cors-credentials'], {
      STAGECRAFT_CORS_ORIGINS: 'https://ignored.example',
    });
    expect(c.corsOrigins).toEqual(['https://portal.example.com', 'http://localhost:3000', 'http://127.0.0.1:8080']);
    expect(c.corsCredentials).toBe(true);
    expect(loadConfig([], { STAGECRAFT_CORS_ORIGINS: 'https://a.example,https://b.example', STAGECRAFT_CORS_CREDENTIALS: 'false' })).toMatchObject({
      corsOrigins: ['https://a.example', 'https://b.example'],
      corsCredentials: false,
    });
  });

  it.each([
    ['*', 'wildcards are not accepted'],
    ['https://*.example.com', 'wildcards are not accepted'],
    ['null', '"null" is not accepted'],
    ['portal.example.com', 'must list origins like'],
    ['ftp://portal.example.com', 'only http and https'],
    ['https://portal.example.com/app', 'is not an origin'],
    ['https://user:pw@portal.example.com', 'is not an origin'],
    ['https://portal.example.com?x=1', 'is not an origin'],
    ['https://portal.example.com:443', 'did you mean https://portal.example.com'],
    ['https://portal.example.com\u0000', 'is not an origin'],
  ])('refuses %j', (origin, message) => {
    expect(() => loadConfig(['--cors-origin', origin], {})).toThrow(ConfigError);
    expect(() => loadConfig([], { STAGECRAFT_CORS_ORIGINS: origin })).toThrow(message);
  });

  it('bounds the list', () => {
    const many = Array.from({ length: 101 }, (_, i) => `https://p${i}.example`).join(',');
    expect(() => loadConfig([], { STAGECRAFT_CORS_ORIGINS: many })).toThrow('at most 100 origins');
  });
});
