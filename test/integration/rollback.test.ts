/**
 * Rollbacks on three real instances: promote, change, repromote, roll back, checking the
 * target's export checksum for checksum at each step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawKey } from '../../src/graphql/node-id.js';
import { checksumsOf, exportArchive } from '../support/archive.js';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let prod: TestServer;
let devToken: string;
let qaToken: string;
let petstoreId: string;
let closure: string[];

const PROMOTE = `mutation($input: PromoteInput!) { promote(input: $input) { id } }`;

async function promoteAndWait(name: string, targetStages: string[], extra: Record<string, unknown> = {}) {
  const res = await dev.gql(PROMOTE, { input: { name, assetIds: [petstoreId], targetStages, ...extra } }, devToken);
  expect(res.errors).toBeUndefined();
  const id = res.data!.promote.id;
  await take(dev.wsClient(devToken), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id }, 10_000, 60_000);
  const promotion = (await dev.gql('query($id: ID!) { promotion(id: $id) { status stages { stageName status reason } } }', { id }, devToken)).data!.promotion;
  expect(promotion.status, JSON.stringify(promotion)).toBe('SUCCESS');
  return id as string;
}

/** The target's state of the promoted assets: id → checksum (missing ones absent). */
async function qaState(): Promise<Record<string, string>> {
  const res = await qa.gql('query($ids: [ID!]!) { assetsByIds(ids: $ids) { assetId checksum } }', { ids: closure }, qaToken);
  return Object.fromEntries(res.data!.assetsByIds.map((a: any) => [a.assetId, a.checksum]));
}

/** The Dev/QA/Prod grid cell states of the Petstore API. */
async function grid(): Promise<Record<string, string>> {
  const res = await dev.gql('query($id: ID!) { assetMatrix(assetIds: [$id], stages: ["dev", "qa", "prod"]) { cells { stageName state } } }', { id: petstoreId }, devToken);
  return Object.fromEntries(res.data!.assetMatrix[0].cells.map((c: any) => [c.stageName, c.state]));
}

beforeAll(async () => {
  [dev, qa, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  [devToken, qaToken] = await Promise.all([dev.adminToken(), qa.adminToken()]);
  petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken)).data!.assets.edges[0].node.assetId;
  closure = (await dev.gql('query($id: ID!) { dependencyClosure(assetIds: [$id]) { assetId } }', { id: petstoreId }, devToken)).data!.dependencyClosure.map((a: any) => a.assetId);
  for (const [name, server] of [['qa', qa], ['prod', prod]] as const) {
    await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name, url: server.url, username: 'admin', password: ADMIN_PASSWORD } }, devToken);
  }
});
afterAll(() => Promise.all([dev?.stop(), qa?.stop(), prod?.stop()]));

describe('rollbacks', () => {
  it('restore exactly the earlier state, refuse while a later promotion builds on it, and show from the source', async () => {
    const empty = await qaState();
    expect(empty).toEqual({});
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'MISSING', prod: 'MISSING' });

    const first = await promoteAndWait('Petstore v1', ['qa', 'prod']);
    const afterFirst = await qaState();
    expect(Object.keys(afterFirst).sort()).toEqual([...closure].sort());
    const exportAfterFirst = await checksumsOf(await exportArchive(qa, qaToken, { assetIds: [petstoreId] }));
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'IN_SYNC', prod: 'IN_SYNC' });

    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "Petstore, second edition" }) { id } }', { id: petstoreId }, devToken);
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'DRIFTED', prod: 'DRIFTED' });
    const second = await promoteAndWait('Petstore v2', ['qa'], { overwriteAssets: true, overwriteAliases: true });
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'IN_SYNC', prod: 'DRIFTED' });
    const afterSecond = await qaState();
    expect(afterSecond[petstoreId]).not.toBe(afterFirst[petstoreId]);

    // the target lists both, alphabetically, with what each did
    const list = await qa.gql('{ rollbacks { totalCount edges { node { id name sourceStage promotedBy status report { type name status } } } } }', {}, qaToken);
    expect(list.data!.rollbacks.edges.map((e: any) => e.node.name)).toEqual(['Petstore v1', 'Petstore v2']);
    const [r1, r2] = list.data!.rollbacks.edges.map((e: any) => e.node);
    // who promoted on dev, via the stage-credentials user who signed in here
    expect(r1).toMatchObject({ sourceStage: 'dev', promotedBy: 'admin via admin', status: 'AVAILABLE' });
    expect(r1.report.every((e: any) => e.status === 'CREATED')).toBe(true);
    expect(r2.report.every((e: any) => e.status === 'REPLACED')).toBe(true);

    // the source sees the target's rollback record
    const fromSource = await dev.gql('query($id: ID!) { promotion(id: $id) { stages { stageName rollback { id status } } } }', { id: first }, devToken);
    expect(fromSource.data!.promotion.stages.find((s: any) => s.stageName === 'qa').rollback).toEqual({ id: r1.id, status: 'AVAILABLE' });

    // rolling back the first while the second built on it is refused, naming it; nothing changes
    const refused = await qa.gql('mutation($id: ID!) { rollback(id: $id) { status } }', { id: r1.id }, qaToken);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', rollbacks: [{ id: rawKey(r2.id), name: 'Petstore v2' }] });
    expect(await qaState()).toEqual(afterSecond);

    // roll back the second from the source, with the stage's credentials, following progress on the target
    const progress = take(qa.wsClient(qaToken), 'subscription($id: ID!) { rollbackProgress(rollbackId: $id) { phase completed total } }', { id: r2.id }, 1000, 30_000);
    const viaSource = await dev.gql('mutation($p: ID!) { rollbackPromotion(promotionId: $p, stage: "qa") { status rollbackTime report { name status } } }', { p: second }, devToken);
    expect(viaSource.errors).toBeUndefined();
    expect(viaSource.data!.rollbackPromotion.status).toBe('ROLLED_BACK');
    expect(viaSource.data!.rollbackPromotion.report.every((e: any) => e.status === 'RESTORED')).toBe(true);
    const phases = (await progress).map((e: any) => e.data.rollbackProgress.phase);
    expect(phases[0]).toBe('STARTED');
    expect(phases.at(-1)).toBe('SUCCEEDED');
    expect(await qaState()).toEqual(afterFirst);
    expect(await checksumsOf(await exportArchive(qa, qaToken, { assetIds: [petstoreId] }))).toEqual(exportAfterFirst);
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'DRIFTED', prod: 'DRIFTED' }); // qa is back to v1, like prod

    // now the first can go, and qa is as before any promotion; prod is untouched
    const again = await qa.gql('mutation($id: ID!) { rollback(id: $id) { status report { status } } }', { id: r2.id }, qaToken);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const undo = await qa.gql('mutation($id: ID!) { rollback(id: $id) { status report { status } } }', { id: r1.id }, qaToken);
    expect(undo.data!.rollback.report.every((e: any) => e.status === 'REMOVED')).toBe(true);
    expect(await qaState()).toEqual(empty);
    expect(await grid()).toEqual({ dev: 'IN_SYNC', qa: 'MISSING', prod: 'DRIFTED' });
    const prodToken = await prod.adminToken();
    expect((await prod.gql('query($ids: [ID!]!) { assetsByIds(ids: $ids) { id } }', { ids: closure }, prodToken)).data!.assetsByIds).toHaveLength(closure.length);

    expect((await qa.gql('mutation($id: ID!) { deleteRollback(id: $id) }', { id: r1.id }, qaToken)).data).toEqual({ deleteRollback: true });
    expect((await qa.gql('query($id: ID!) { rollback(id: $id) { id } }', { id: r1.id }, qaToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('can be forced past later promotions', async () => {
    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "third" }) { id } }', { id: petstoreId }, devToken);
    await promoteAndWait('Petstore v3', ['prod'], { overwriteAssets: true, overwriteAliases: true });
    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "fourth" }) { id } }', { id: petstoreId }, devToken);
    await promoteAndWait('Petstore v4', ['prod'], { overwriteAssets: true, overwriteAliases: true });
    const prodToken = await prod.adminToken();
    const v3 = (await prod.gql('{ rollbacks(filter: { text: "v3" }) { edges { node { id } } } }', {}, prodToken)).data!.rollbacks.edges[0].node.id;
    expect((await prod.gql('mutation($id: ID!) { rollback(id: $id) { status } }', { id: v3 }, prodToken)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const forced = await prod.gql('mutation($id: ID!) { rollback(id: $id, force: true) { status } }', { id: v3 }, prodToken);
    expect(forced.data!.rollback.status).toBe('ROLLED_BACK');
    const api = await prod.gql('query($id: ID!) { asset(id: $id) { description } }', { id: petstoreId }, prodToken);
    expect(api.data!.asset.description).toBe('This is a sample server Petstore server.');
  });
});
