import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('serve --seed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { STAGECRAFT_SEED: 'true' } });
  });
  afterAll(() => server?.stop());

  it('loads the Swagger Petstore with its policies, stage-bound aliases, application, package, plan, subscription and team', async () => {
    const token = await server.adminToken();
    const res = await server.gql(
      `{ assets(first: 100, filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id name version team
          teamAsset { name groups { name } }
          dependencies { required { type name } optional { type name } }
          ... on ApiAsset { routes { method path } } } } } }`,
      {},
      token,
    );
    expect(res.errors).toBeUndefined();
    const [petstore] = res.data!.assets.edges.map((e: any) => e.node);
    expect(petstore).toMatchObject({ name: 'Swagger Petstore', version: '1.0.0', team: 'Pet Platform' });
    expect(petstore.routes).toContainEqual({ method: 'GET', path: '/pet/{petId}' });
    expect(petstore.teamAsset).toEqual({ name: 'Pet Platform', groups: [{ name: 'pet-developers' }] });
    expect(petstore.dependencies.required.map((d: any) => d.type).sort()).toEqual(['ALIAS', 'ALIAS', 'POLICY', 'POLICY', 'POLICY']);
    expect(petstore.dependencies.optional).toEqual([{ type: 'APPLICATION', name: 'Pet Shop Portal' }]);

    for (const [stage, value] of [['dev', 'http://petstore.dev.internal:8080'], ['prod', 'http://petstore.prod.internal:8080'], ['staging', 'http://petstore.internal:8080']]) {
      const alias = await server.gql('query($s: String!) { aliasFor(name: "petstore-backend", stage: $s) { value } }', { s: stage }, token);
      expect(alias.data!.aliasFor.value).toBe(value);
    }
    const others = await server.gql('{ assets(first: 100, filter: { types: [PACKAGE, PLAN, SUBSCRIPTION, APPLICATION] }) { edges { node { type name } } } }', {}, token);
    expect(others.data!.assets.edges.map((e: any) => e.node.type).sort()).toEqual(['APPLICATION', 'PACKAGE', 'PLAN', 'SUBSCRIPTION']);
  });
});

describe('stagecraft seed', () => {
  it('loads the demo catalog once and is idempotent', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-seed-'));
    try {
      const run = () =>
        spawnSync(process.execPath, [path.resolve('dist/cli.js'), 'seed'], {
          env: { ...process.env, DATABASE_URL: db.url, STAGECRAFT_DATA_DIR: dataDir, STAGECRAFT_ADMIN_PASSWORD: '', LOG_LEVEL: 'warn' },
          encoding: 'utf8',
        });
      const first = run();
      // seeding a fresh database creates the admin: its password is told (stderr) and saved (0600)
      const password = /Created user "admin" with password: (\S+)/.exec(first.stderr)?.[1];
      expect(password, first.stderr).toBeTruthy();
      const passwordFile = path.join(dataDir, 'initial-admin-password');
      expect((await readFile(passwordFile, 'utf8')).trim()).toBe(password);
      expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
      expect(first.stdout).toMatch(/demo catalog loaded: \d+ assets/);
      expect(first.status).toBe(0);
      const second = run();
      expect(second.stderr).toBe('');
      expect(second.stdout).toContain('demo catalog already present');
      expect(second.status).toBe(0);
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
