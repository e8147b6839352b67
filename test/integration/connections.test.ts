/**
 * Connections by the Relay spec: forward and backward paging with full PageInfo, orderBy (names
 * case-insensitively, times newest first), from/to on the histories, also through a remote stage;
 * forged cursors and out-of-bounds sizes are BAD_USER_INPUT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { promoteAndWait, registerStage, waitForPromotion } from '../support/promotion.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let token: string;
const NAMES = ['alpha', 'Bravo', 'charlie', 'Delta', 'echo', 'Foxtrot', 'golf'];

const ASSETS = `query($first: Int, $after: String, $last: Int, $before: String, $order: AssetOrder) {
  assets(filter: { keyword: "pager-*" }, first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name type } } } }`;

async function page(variables: Record<string, unknown>) {
  const res = await dev.gql(ASSETS, variables, token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.assets;
}

/** Every name, page by page, forward (first/after) or backward (last/before). */
async function walk(size: number, backward: boolean, order?: Record<string, string>): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    expect(pages).toBeLessThan(10);
    const p = await page(backward ? { last: size, before: cursor, order } : { first: size, after: cursor, order });
    expect(p.totalCount).toBe(NAMES.length + 1);
    const got = p.edges.map((e: any) => e.node.name);
    names.splice(backward ? 0 : names.length, 0, ...got);
    expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
    expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
    // the side paged from has rows exactly when a cursor was given
    expect(backward ? p.pageInfo.hasNextPage : p.pageInfo.hasPreviousPage).toBe(cursor !== null);
    const more = backward ? p.pageInfo.hasPreviousPage : p.pageInfo.hasNextPage;
    if (!more) return names;
    cursor = backward ? p.pageInfo.startCursor : p.pageInfo.endCursor;
  }
}

beforeAll(async () => {
  [dev, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  token = await dev.adminToken();
  for (const name of NAMES) {
    const res = await dev.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: { type: 'POLICY', name: `pager-${name}`, spec: { kind: 'CORS', config: { allowOrigins: [`https://${name}.example`] } } } }, token);
    expect(res.errors).toBeUndefined();
  }
  await dev.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: { type: 'GROUP', name: 'pager-zulu group' } }, token);
  await registerStage(dev, 'qa', qa);
  await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name: 'down', url: `http://127.0.0.1:${await freePort()}`, username: 'admin', password: ADMIN_PASSWORD } }, token);
});
afterAll(() => Promise.all([dev?.stop(), qa?.stop()]));

describe('assets connection', () => {
  const sorted = [...NAMES.map((n) => `pager-${n}`), 'pager-zulu group'].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));

  it('pages forward and backward through the same case-insensitive order', async () => {
    expect(await walk(3, false)).toEqual(sorted);
    expect(await walk(3, true)).toEqual(sorted);
    expect(await walk(2, false, { field: 'NAME', direction: 'DESC' })).toEqual([...sorted].reverse());
    // an empty page still knows its place
    const empty = await page({ first: 0 });
    expect(empty.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('sorts by type, then name, and by the last change', async () => {
    expect(await walk(4, false, { field: 'TYPE', direction: 'ASC' })).toEqual(['pager-zulu group', ...sorted.filter((n) => n !== 'pager-zulu group')]);
    const found = await dev.gql('{ assets(filter: { keyword: "pager-charlie" }) { edges { node { id } } } }', {}, token);
    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "touched" }) { id } }', { id: found.data!.assets.edges[0].node.id }, token);
    const recent = await page({ first: 2, order: { field: 'UPDATED_AT', direction: 'DESC' } });
    const byType = await dev.gql('{ assets(filter: { keyword: "pager-*" }, orderBy: { field: TYPE, direction: DESC }, first: 1) { edges { node { id assetId type } } } }', {}, token);
    expect(byType.data!.assets.edges[0].node).toMatchObject({ type: 'POLICY', assetId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(recent.edges.map((e: any) => e.node.name)).toEqual(['pager-charlie', 'pager-zulu group']);
    expect(await walk(3, true, { field: 'UPDATED_AT', direction: 'DESC' })).toEqual(await walk(5, false, { field: 'UPDATED_AT', direction: 'DESC' }));
  });

  it('refuses forged or foreign cursors and sizes out of bounds', async () => {
    const first = await page({ first: 2 });
    const cursor: string = first.pageInfo.endCursor;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const refusals: Record<string, unknown>[] = [
      { first: 2, after: 'not a cursor' },
      { first: 2, after: forge([decoded[0], decoded[1], 'not-a-uuid']) },
      { first: 2, after: forge([...decoded, 'extra']) },
      { first: 2, after: forge([decoded[0], { $gt: '' }, decoded[2]]) },
      { first: 2, after: forge([decoded[0], 'x\u0000', decoded[2]]) },
      { first: 2, after: cursor, order: { field: 'UPDATED_AT', direction: 'ASC' } },
      { first: 2, after: cursor, order: { field: 'NAME', direction: 'DESC' } },
      { last: 2, before: forge(['assets:UPDATED_AT:ASC', '12 OR 1=1', decoded[2]]) },
      { first: 2, last: 2 },
      { first: 501 },
      { last: -1 },
      { first: 2, after: 'A'.repeat(10_000) },
    ];
    for (const variables of refusals) {
      const res = await dev.gql(ASSETS, variables, token);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
    // Another listing in the same order (NAME ascending) is another listing: its cursor is refused too.
    for (const listing of ['promotions', 'rollbacks']) {
      const res = await dev.gql(`query($after: String) { ${listing}(after: $after) { totalCount } }`, { after: cursor }, token);
      expect(res.errors?.[0]?.extensions?.code, listing).toBe('BAD_USER_INPUT');
    }
  });
});

describe('histories', () => {
  const PROMOTIONS = `query($order: PromotionOrder, $filter: PromotionFilter, $last: Int) { promotions(orderBy: $order, filter: $filter, last: $last) {
    totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { name createdAt } } } }`;
  const promotions = async (variables: Record<string, unknown>) => {
    const res = await dev.gql(PROMOTIONS, variables, token);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.promotions;
  };

  it('lists promotions newest first, by name case-insensitively, and within a time range', async () => {
    const created = ['b second', 'A first', 'c third', 'D fourth'];
    const asset = (await dev.gql('{ assets(filter: { keyword: "pager-golf" }) { edges { node { assetId } } } }', {}, token)).data!.assets.edges[0].node.assetId;
    for (const name of created) {
      const res = await dev.gql('mutation($i: PromoteInput!) { promote(input: $i) { id } }', { i: { name, assetIds: [asset], targetStages: ['down'] } }, token);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      await waitForPromotion(dev, res.data!.promote.id); // one promotion per stage at a time
    }
    const newest = await promotions({ order: { field: 'CREATED_AT', direction: 'DESC' } });
    // every node is a whole row: found again by its id
    const ids = (await dev.gql('{ promotions(last: 2) { edges { node { id name } } } }', {}, token)).data!.promotions.edges;
    for (const { node } of ids) expect((await dev.gql('query($id: ID!) { promotion(id: $id) { name } }', { id: node.id }, token)).data!.promotion.name).toBe(node.name);
    expect(newest.edges.map((e: any) => e.node.name)).toEqual([...created].reverse());
    expect((await promotions({ order: { field: 'NAME', direction: 'ASC' } })).edges.map((e: any) => e.node.name)).toEqual(['A first', 'b second', 'c third', 'D fourth']);
    expect((await promotions({})).edges.map((e: any) => e.node.name)).toEqual(['A first', 'b second', 'c third', 'D fourth']);

    const times = newest.edges.map((e: any) => e.node.createdAt).reverse();
    const ranged = await promotions({ order: { field: 'CREATED_AT', direction: 'ASC' }, filter: { from: times[1], to: times[3] } });
    expect(ranged.edges.map((e: any) => e.node.name)).toEqual(['A first', 'c third']);
    expect(ranged.totalCount).toBe(2);
    const lastTwo = await promotions({ order: { field: 'CREATED_AT', direction: 'ASC' }, last: 2 });
    expect(lastTwo.edges.map((e: any) => e.node.name)).toEqual(['c third', 'D fourth']);
    expect(lastTwo.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });

    const backwards = await dev.gql(PROMOTIONS, { filter: { from: times[3], to: times[0] } }, token);
    expect(backwards.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('lists a stage’s rollbacks newest first and by time range, also read through another stage', async () => {
    const { data } = await dev.gql('{ assets(filter: { keyword: "pager-alpha" }) { edges { node { assetId } } } }', {}, token);
    const assetId = data!.assets.edges[0].node.assetId;
    for (const name of ['rollback one', 'Rollback two']) {
      await dev.gql('mutation($id: ID!, $d: String) { updateAsset(id: $id, input: { description: $d }) { id } }', { id: assetId, d: name }, token);
      expect((await promoteAndWait(dev, { name, assetIds: [assetId], targetStages: ['qa'], overwriteAssets: true })).status).toBe('SUCCESS');
    }
    const query = `query($order: RollbackOrder, $filter: RollbackFilter) { stage(name: "qa") { rollbacks(orderBy: $order, filter: $filter, first: 5) { totalCount edges { node { name promotionTime } } } } }`;
    const newest = await dev.gql(query, { order: { field: 'PROMOTION_TIME', direction: 'DESC' } }, token);
    expect(newest.errors).toBeUndefined();
    expect(newest.data!.stage.rollbacks.edges.map((e: any) => e.node.name)).toEqual(['Rollback two', 'rollback one']);
    const since = newest.data!.stage.rollbacks.edges[0].node.promotionTime;
    const ranged = await dev.gql(query, { filter: { from: since } }, token);
    expect(ranged.data!.stage.rollbacks).toMatchObject({ totalCount: 1, edges: [{ node: { name: 'Rollback two' } }] });
    const local = await qa.gql('{ rollbacks(orderBy: { field: NAME, direction: DESC }) { edges { node { name } } } }', {}, await qa.adminToken());
    expect(local.data!.rollbacks.edges.map((e: any) => e.node.name)).toEqual(['Rollback two', 'rollback one']);
  });
});
