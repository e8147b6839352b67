/**
 * Aliases down a chain, and re-running is safe: three real instances (dev, qa, prod), aliases
 * with values for qa and prod defined on dev only; dev → qa → prod leaves each stage its own
 * value, a stage with no value is REFUSED in plan and run alike; promoting twice with every
 * overwrite setting changes nothing the second time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPlanMatchesReport, planOf, promoteAndWait, registerStage } from '../support/promotion.js';
import { startTestServer, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let prod: TestServer;
const ids: Record<string, string> = {};

async function create(server: TestServer, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { assetId } }', { i: input }, await server.adminToken());
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.createAsset.assetId;
}

const aliasFor = async (server: TestServer, name: string, stage: string) =>
  (await server.gql('query($n: String!, $s: String!) { aliasFor(name: $n, stage: $s) { assetId ... on Alias { value stage } } }', { n: name, s: stage }, await server.adminToken()));

/** The opened secure value of an alias, read from the stage's own store. */
async function secureValue(server: TestServer, id: string): Promise<string> {
  const [row] = await server.app.services.db.query('SELECT sealed_secret FROM assets WHERE id = $1', [id]);
  return server.app.services.secrets.open(row.sealed_secret, `asset:${id}`);
}

const rollbackCount = async (server: TestServer) => (await server.gql('{ rollbacks(first: 1) { totalCount } }', {}, await server.adminToken())).data!.rollbacks.totalCount as number;

beforeAll(async () => {
  [dev, qa, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  await registerStage(dev, 'qa', qa);
  await registerStage(qa, 'prod', prod);
  // Defined once, on dev: the unbound default, and values for dev, qa and prod.
  ids.backend = await create(dev, { type: 'ALIAS', name: 'orders-backend', spec: { kind: 'ENDPOINT', value: 'http://orders.default.internal' } });
  for (const stage of ['dev', 'qa', 'prod']) {
    ids[`backend-${stage}`] = await create(dev, { type: 'ALIAS', name: 'orders-backend', spec: { kind: 'ENDPOINT', value: `http://orders.${stage}.internal`, stage } });
  }
  // A secure alias with values for qa and prod only; the API uses the qa one's id.
  ids['password-qa'] = await create(dev, { type: 'ALIAS', name: 'orders-db-password', spec: { secure: true, kind: 'AUTHENTICATION', value: 'qa-secret', stage: 'qa' } });
  ids['password-prod'] = await create(dev, { type: 'ALIAS', name: 'orders-db-password', spec: { secure: true, kind: 'AUTHENTICATION', value: 'prod-secret', stage: 'prod' } });
  // A value for qa only: nothing for prod anywhere.
  ids['token-qa'] = await create(dev, { type: 'ALIAS', name: 'orders-token', spec: { value: 'qa-token', stage: 'qa' } });
  ids.policy = await create(dev, { type: 'POLICY', name: 'Orders CORS', spec: { kind: 'CORS', config: { allowOrigins: ['https://orders.example'] } } });
  ids.orders = await create(dev, { type: 'API', name: 'Orders', version: '1.0.0', spec: { basePath: '/orders' }, references: [ids.policy, ids.backend, ids['password-qa']] });
  ids.tokens = await create(dev, { type: 'API', name: 'Order Tokens', version: '1.0.0', spec: { basePath: '/tokens' }, references: [ids['token-qa']] });
});
afterAll(async () => {
  await Promise.all([dev?.stop(), qa?.stop(), prod?.stop()]);
});

describe('aliases down a chain', () => {
  it('dev → qa: qa gets its own values, prod’s travel along inert, dev’s stay home', async () => {
    const input = { name: 'orders to qa', assetIds: [ids.orders, ids.tokens], targetStages: ['qa'] };
    const [plan] = await planOf(dev, input);
    expect(plan.error).toBeNull();
    const promotion = await promoteAndWait(dev, input);
    expect(promotion.stages[0]).toMatchObject({ status: 'SUCCESS', reason: '8 assets promoted' });
    expectPlanMatchesReport(plan, promotion.stages[0]);

    expect((await aliasFor(qa, 'orders-backend', 'qa')).data!.aliasFor).toMatchObject({ assetId: ids.backend, value: 'http://orders.qa.internal', stage: 'qa' });
    expect((await aliasFor(qa, 'orders-backend', 'prod')).data!.aliasFor).toMatchObject({ assetId: ids['backend-prod'], value: 'http://orders.prod.internal' });
    expect((await aliasFor(qa, 'orders-token', 'qa')).data!.aliasFor).toMatchObject({ assetId: ids['token-qa'], value: 'qa-token' });
    expect(await secureValue(qa, ids['password-qa'])).toBe('qa-secret');
    // dev's own variant did not leave dev
    const devVariant = await qa.gql('query($id: ID!) { asset(id: $id) { id } }', { id: ids['backend-dev'] }, await qa.adminToken());
    expect(devVariant.data!.asset).toBeNull();
  });

  it('qa → prod with nobody editing aliases on qa: prod gets prod’s values; an alias with no prod value is REFUSED in plan and run alike', async () => {
    const input = { name: 'orders to prod', assetIds: [ids.orders, ids.tokens], targetStages: ['prod'] };
    const [plan] = await planOf(qa, input);
    const reason = 'no value of alias orders-token for stage prod: bind one for prod on qa';
    const byId = new Map(plan.items.map((i: any) => [i.assetId, i]));
    expect(byId.get(ids['token-qa'])).toMatchObject({ action: 'REFUSED', reason, status: 'FAILURE' });
    expect(byId.get(ids.tokens)).toMatchObject({ action: 'REFUSED', reason, status: 'FAILURE' });
    expect(byId.get(ids.orders)).toMatchObject({ action: 'CREATE' });
    expect(byId.get(ids.backend)).toMatchObject({ action: 'CREATE', aliasValue: 'http://orders.prod.internal' });
    expect(byId.get(ids['password-qa'])).toMatchObject({ action: 'CREATE', aliasValue: '(secure)' });
    expect(JSON.stringify(plan)).not.toMatch(/qa-secret|prod-secret/);

    const promotion = await promoteAndWait(qa, input);
    expect(promotion.stages[0]).toMatchObject({ status: 'FAILURE', code: 'IMPORT_FAILED', reason: '2 of 6 assets failed on prod' });
    expectPlanMatchesReport(plan, promotion.stages[0]);

    // prod holds prod's values, never qa's
    expect((await aliasFor(prod, 'orders-backend', 'prod')).data!.aliasFor).toMatchObject({ assetId: ids.backend, value: 'http://orders.prod.internal', stage: 'prod' });
    expect(await secureValue(prod, ids['password-qa'])).toBe('prod-secret');
    const onProd = await prod.gql('{ assets(first: 50, filter: { types: [ALIAS] }) { edges { node { name ... on Alias { value stage } } } } }', {}, await prod.adminToken());
    expect(JSON.stringify(onProd.data)).not.toMatch(/qa/);
    expect((await aliasFor(prod, 'orders-token', 'prod')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // bind the missing value on qa (as the reason says), and the same promotion goes through
    await create(qa, { type: 'ALIAS', name: 'orders-token', spec: { value: 'prod-token', stage: 'prod' } });
    const [again] = await planOf(qa, input);
    expect(again.items.filter((i: any) => i.action === 'REFUSED')).toEqual([]);
    const fixed = await promoteAndWait(qa, input);
    expect(fixed.stages[0].status).toBe('SUCCESS');
    expectPlanMatchesReport(again, fixed.stages[0]);
    expect((await aliasFor(prod, 'orders-token', 'prod')).data!.aliasFor).toMatchObject({ assetId: ids['token-qa'], value: 'prod-token' });
  });
});

describe('re-running is safe', () => {
  // the first setting also brings the API changed below; the others find it identical
  const settings = [
    { overwriteAssets: true, overwriteAliases: true },
    { overwriteAssets: true, overwriteAliases: false },
    { overwriteAssets: false, overwriteAliases: true },
    { overwriteAssets: false, overwriteAliases: false },
  ];

  it('promoting the same assets twice, with every overwrite setting: the second run is all UNCHANGED, SUCCESS, with no new rollback', async () => {
    const extra = await create(dev, { type: 'POLICY', name: 'Orders Rate Limit', spec: { kind: 'RATE_LIMIT', config: { requests: 5, perSeconds: 1 } } });
    await dev.gql('mutation($id: ID!, $r: [ID!]) { updateAsset(id: $id, input: { references: $r }) { id } }', { id: ids.orders, r: [ids.policy, ids.backend, ids['password-qa'], extra] }, await dev.adminToken());
    for (const [n, flags] of settings.entries()) {
      // something new each time, so the first run writes (and records a rollback)
      const fresh = await create(dev, { type: 'POLICY', name: `Fresh policy ${n}`, spec: { kind: 'CORS', config: { allowOrigins: [`https://${n}.example`] } } });
      const input = { assetIds: [ids.orders, ids.tokens, fresh], targetStages: ['qa'], ...flags };
      const before = await rollbackCount(qa);
      const first = await promoteAndWait(dev, { ...input, name: `first ${n}` });
      expect(first.status, JSON.stringify(first.stages)).toBe('SUCCESS');
      expect(await rollbackCount(qa)).toBe(before + 1);

      const [plan] = await planOf(dev, input);
      expect(plan.items.every((i: any) => i.action === 'UNCHANGED'), JSON.stringify(plan.items)).toBe(true);
      const second = await promoteAndWait(dev, { ...input, name: `second ${n}` });
      expect(second.status).toBe('SUCCESS');
      expect(second.stages[0].report.map((a: any) => a.status)).toEqual(Array(second.stages[0].report.length).fill('UNCHANGED'));
      expectPlanMatchesReport(plan, second.stages[0]);
      // nothing written: no rollback recorded for it
      expect(await rollbackCount(qa)).toBe(before + 1);
      const stored = await qa.gql('query($p: ID!) { rollbacks(filter: { promotionId: $p }) { totalCount } }', { p: second.id }, await qa.adminToken());
      expect(stored.data!.rollbacks.totalCount).toBe(0);
    }
  });
});
