/** Promotions as a client drives them: plan, promote and wait, and stages registered between servers. */
import { expect } from 'vitest';
import { ADMIN_PASSWORD, take, type TestServer } from './server.js';

const PROMOTE = 'mutation($input: PromoteInput!) { promote(input: $input) { id } }';
const PROMOTION = `query($id: ID!) { promotion(id: $id) { id name status
  stages { stageName status reason code importReportId report { assetId type name status comment } } } }`;
const PLAN = `query($input: PromoteInput!) { promotionPlan(input: $input) {
  stages { stageName error errorCode items { assetId type name action reason status comment aliasValue } } } }`;

/** Registers `target` as stage `name` on `on`, signed in as the target's admin. */
export async function registerStage(on: TestServer, name: string, target: TestServer): Promise<void> {
  const res = await on.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name, url: target.url, username: 'admin', password: ADMIN_PASSWORD } }, await on.adminToken());
  expect(res.errors).toBeUndefined();
}

/** Follows the promotion's progress to COMPLETED, then reads it. */
export async function waitForPromotion(server: TestServer, id: string): Promise<any> {
  const token = await server.adminToken();
  // the server ends the subscription after COMPLETED
  const events = await take(server.wsClient(token), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id }, 100_000, 60_000);
  expect(events.at(-1)?.data?.promotionProgress?.phase).toBe('COMPLETED');
  const res = await server.gql(PROMOTION, { id }, token);
  expect(res.data!.promotion.status).not.toMatch(/QUEUED|RUNNING/);
  return res.data!.promotion;
}

/** Promotes and waits for the result. */
export async function promoteAndWait(server: TestServer, input: Record<string, unknown>): Promise<any> {
  const res = await server.gql(PROMOTE, { input }, await server.adminToken());
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return waitForPromotion(server, res.data!.promote.id);
}

/** The promotion plan, per stage. */
export async function planOf(server: TestServer, input: Record<string, unknown>): Promise<any[]> {
  const res = await server.gql(PLAN, { input: { name: 'plan', ...input } }, await server.adminToken());
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.promotionPlan.stages;
}

/** Plan action → report status (DESIGN §2: the plan predicts the report exactly). */
export const STATUS_OF_ACTION: Record<string, string[]> = {
  CREATE: ['CREATED', 'WARNING'],
  UPDATE: ['REPLACED', 'WARNING'],
  UNCHANGED: ['UNCHANGED'],
  REFUSED: ['FAILURE'],
};

/** Asserts that every planned item is reported with the status (and comment) the plan gave. */
export function expectPlanMatchesReport(planStage: any, reportStage: any): void {
  const reported = new Map<string, any>(reportStage.report.map((a: any) => [a.assetId, a]));
  expect(planStage.items.map((i: any) => i.assetId).sort()).toEqual([...reported.keys()].sort());
  for (const item of planStage.items) {
    const a = reported.get(item.assetId);
    expect(STATUS_OF_ACTION[item.action], `${item.type} ${item.name}`).toContain(a.status);
    expect(a.status, `${item.type} ${item.name}`).toBe(item.status);
    expect(a.comment, `${item.type} ${item.name}`).toBe(item.comment);
    if (item.action === 'REFUSED') expect(a.comment).toBe(item.reason);
  }
}
