/**
 * One graph across stages: `stage(name)` walks into this instance or a remote one, remote
 * fields travel batched (one call per stage per request), an unreachable stage fails alone, and
 * the drift matrix compares every stage with this one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { rawKey } from '../../src/graphql/node-id.js';
import { RemoteStage } from '../../src/services/remote-stage.js';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let prod: TestServer;
let devToken: string;
let petstoreId: string;
let closure: string[];
let promotionId: string;

beforeAll(async () => {
  [dev, qa, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  devToken = await dev.adminToken();
  petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken)).data!.assets.edges[0].node.assetId;
  closure = (await dev.gql('query($id: ID!) { dependencyClosure(assetIds: [$id]) { assetId } }', { id: petstoreId }, devToken)).data!.dependencyClosure.map((a: any) => a.assetId);
  for (const [name, url] of [['qa', qa.url], ['prod', prod.url], ['down', `http://127.0.0.1:${await freePort()}`]]) {
    await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name, url, username: 'admin', password: ADMIN_PASSWORD } }, devToken);
  }
  const res = await dev.gql('mutation($i: PromoteInput!) { promote(input: $i) { id } }', { i: { name: 'Petstore to qa', assetIds: [petstoreId], targetStages: ['qa'] } }, devToken);
  promotionId = res.data!.promote.id;
  await take(dev.wsClient(devToken), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id: promotionId }, 10_000, 60_000);
});
afterAll(() => Promise.all([dev?.stop(), qa?.stop(), prod?.stop()]));

describe('stage(name)', () => {
  it('walks into a remote stage and into this one with the same shape', async () => {
    const query = `query($s: String!, $id: ID!) { stage(name: $s) { name isLocal
      assets(first: 50, filter: { types: [API, ALIAS] }) { totalCount edges { node { id name type ... on Alias { value } } } }
      asset(id: $id) { id name ... on ApiAsset { versions { version } routes { path } } dependencies { required { name } } }
      rollbacks { totalCount edges { node { name status } } } } }`;
    const remote = await dev.gql(query, { s: 'qa', id: petstoreId }, devToken);
    expect(remote.errors).toBeUndefined();
    expect(remote.data!.stage).toMatchObject({ name: 'qa', isLocal: false });
    // the API and its two aliases as qa holds them, and petstore-backend's variant for prod (inert on qa)
    expect(remote.data!.stage.assets.totalCount).toBe(4);
    expect(remote.data!.stage.assets.edges.filter((e: any) => e.node.name === 'petstore-backend').map((e: any) => e.node.value).sort()).toEqual([
      'http://petstore.prod.internal:8080',
      'http://petstore.qa.internal:8080',
    ]);
    expect(remote.data!.stage.asset.routes).toContainEqual({ path: '/pet/{petId}' });
    expect(remote.data!.stage.asset.versions).toEqual([{ version: '1.0.0' }]);
    expect(remote.data!.stage.rollbacks.edges).toEqual([{ node: { name: 'Petstore to qa', status: 'AVAILABLE' } }]);

    const local = await dev.gql(query, { s: 'dev', id: petstoreId }, devToken);
    expect(local.data!.stage).toMatchObject({ name: 'dev', isLocal: true });
    expect(local.data!.stage.assets.edges.find((e: any) => e.node.name === 'petstore-backend' && e.node.value === 'http://petstore.internal:8080')).toBeTruthy();
    expect(local.data!.stage.rollbacks.totalCount).toBe(0);
  });

  it('batches every remote field of a request into one call per stage', async () => {
    const fields = closure.map((id, i) => `a${i}: asset(id: "${id}") { assetId name checksum }`).join(' ');
    const query = `{ qa: stage(name: "qa") { ${fields} assets { totalCount } promotions { totalCount } rollbacks { totalCount } }
                     prod: stage(name: "prod") { ${fields} assets { totalCount } } }`;
    await dev.gql(query, {}, devToken); // signs in to both stages once
    const before = RemoteStage.requests;
    const res = await dev.gql(query, {}, devToken);
    expect(RemoteStage.requests - before).toBe(2);
    expect(res.errors?.filter((e) => e.extensions?.code !== 'NOT_FOUND')).toBeFalsy();
    expect(res.data!.qa.a0).toMatchObject({ assetId: closure[0] });
    expect(res.data!.prod.assets.totalCount).toBe(0);
  });

  it('gives an unreachable stage a field error of its own, and the rest of the answer', async () => {
    const res = await dev.gql('{ qa: stage(name: "qa") { assets { totalCount } } down: stage(name: "down") { name assets { totalCount } } }', {}, devToken);
    expect(res.data!.qa.assets.totalCount).toBe(closure.length + 1); // with the inert prod variant
    expect(res.data!.down).toEqual({ name: 'down', assets: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ path: ['down', 'assets'], extensions: { code: 'STAGE_UNREACHABLE' } });
  });
});

describe('assetMatrix', () => {
  const matrix = async () => {
    const res = await dev.gql(
      'query($ids: [ID!]) { assetMatrix(assetIds: $ids, stages: ["dev", "qa", "prod", "down"]) { assetId name cells { stageName state version checksum error lastPromotion { id name } } } }',
      { ids: [petstoreId] },
      devToken,
    );
    expect(res.errors).toBeUndefined();
    return Object.fromEntries(res.data!.assetMatrix[0].cells.map((c: any) => [c.stageName, c]));
  };

  it('shows IN_SYNC, MISSING and UNKNOWN per stage, then DRIFTED after a change here', async () => {
    const before = await matrix();
    expect(before.dev).toMatchObject({ state: 'IN_SYNC', version: '1.0.0' });
    expect(before.qa).toMatchObject({ state: 'IN_SYNC', version: '1.0.0', lastPromotion: { id: rawKey(promotionId), name: 'Petstore to qa' } });
    expect(before.prod).toMatchObject({ state: 'MISSING', checksum: null, lastPromotion: null });
    expect(before.down).toMatchObject({ state: 'UNKNOWN', error: expect.stringMatching(/STAGE_UNREACHABLE/) });

    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "drifted" }) { id } }', { id: petstoreId }, devToken);
    const after = await matrix();
    expect(after.dev.state).toBe('IN_SYNC');
    expect(after.qa.state).toBe('DRIFTED');
    expect(after.qa.checksum).toBe(before.qa.checksum);

    const filtered = await dev.gql('{ assetMatrix(filter: { keyword: "petstore*", types: [POLICY] }, stages: ["qa"]) { name cells { state } } }', {}, devToken);
    expect(filtered.data!.assetMatrix.map((r: any) => r.name).sort()).toEqual(['Petstore API Key', 'Petstore CORS', 'Petstore Rate Limit']);
    expect(filtered.data!.assetMatrix.every((r: any) => r.cells[0].state === 'IN_SYNC')).toBe(true);
  });
});
