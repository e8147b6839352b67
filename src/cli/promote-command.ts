/**
 * `stagecraft promote`: plans or starts a promotion on a running server, for pipelines. Assets
 * are chosen as `export` chooses them (ids or a filter, src/cli/selection.ts); with --wait it
 * follows the progress (src/cli/promotion-progress.ts), then prints the per-stage result.
 */
import { EXIT, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { rawKey } from '../graphql/node-id.js';
import { graphqlRequest, unexpectedResponse } from './graphql.js';
import { connectionHelp, connectionOptions, resolveConnection, type Connection } from './http.js';
import { followProgress, ProgressView } from './promotion-progress.js';
import { assetIdsMatching, assetSelection, describeFilter, list, selectionHelp, selectionOptions, type AssetSelection } from './selection.js';

export const promoteUsage =
  'usage: stagecraft promote --server URL --token TOKEN --name NAME --to STAGE[,STAGE...]\n' +
  '                          (--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...)\n' +
  '                          [--description D] [--optional all|none|selected] [--optional-id ID]...\n' +
  '                          [--overwrite-assets] [--overwrite-aliases] [--fix-missing-versions]\n' +
  '                          [--idempotency-key K] [--plan | --wait] [--json]';

const promoteHelp = `${promoteUsage}

Promotes the chosen assets (and their required dependencies) from the server's stage to the
--to stages. ${selectionHelp}
A filter is matched on the server when the command runs; the ids it matched are promoted.

  --plan     print what each stage would get (CREATE, UPDATE, UNCHANGED, REFUSED); nothing is written
  --wait     follow the progress (a bar per stage on a terminal, one line per event otherwise),
             then print each stage's result
  --json     print the plan, the queued promotion or (with --wait) the finished one as JSON
  --idempotency-key K
             the same key and input return the same promotion instead of starting another
Without --plan or --wait, the promotion id is printed and the promotion runs on the server.
${connectionHelp}

Exit status: 0 done (every stage succeeded with --wait; nothing refused with --plan),
1 a stage failed (--wait), a stage has an error or a REFUSED asset (--plan), or the filter
matched no asset, 2 bad command line, 3 the server refused the request or could not be reached.
`;

const promoteOptions = {
  ...connectionOptions,
  ...selectionOptions,
  name: { type: 'string' },
  description: { type: 'string' },
  to: { type: 'string', multiple: true },
  'overwrite-assets': { type: 'boolean' },
  'overwrite-aliases': { type: 'boolean' },
  'fix-missing-versions': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  plan: { type: 'boolean' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface PromoteInput {
  name: string;
  description?: string;
  assetIds: string[];
  optional: 'ALL' | 'NONE' | 'SELECTED';
  optionalIds: string[];
  targetStages: string[];
  overwriteAssets: boolean;
  overwriteAliases: boolean;
  fixMissingVersions: boolean;
  idempotencyKey?: string;
}

/** The GraphQL PromoteInput from the command line, less the asset ids (a filter is resolved later). */
export function promoteInput(
  values: {
    name?: string;
    description?: string;
    to?: string[];
    'overwrite-assets'?: boolean;
    'overwrite-aliases'?: boolean;
    'fix-missing-versions'?: boolean;
    'idempotency-key'?: string;
    plan?: boolean;
  },
  selection: AssetSelection,
): Omit<PromoteInput, 'assetIds'> {
  // A plan writes nothing, so it needs no name; the server still wants one.
  const name = values.name?.trim() || (values.plan ? 'plan' : '');
  if (!name) throw usageError('missing --name NAME (the promotion is listed under it)', promoteUsage);
  const targetStages = list(values.to);
  if (!targetStages.length) throw usageError('choose the target stages: --to STAGE[,STAGE...]', promoteUsage);
  const idempotencyKey = values['idempotency-key']?.trim();
  if (values['idempotency-key'] !== undefined && !idempotencyKey) throw usageError('--idempotency-key must not be empty', promoteUsage);
  return {
    name,
    ...(values.description !== undefined ? { description: values.description } : {}),
    optional: selection.optional,
    optionalIds: selection.optionalIds,
    targetStages,
    ...promotionOptions(values),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
}

/** The overwrite and version flags promote and repromote share. */
export const promotionOptions = (values: { 'overwrite-assets'?: boolean; 'overwrite-aliases'?: boolean; 'fix-missing-versions'?: boolean }) => ({
  overwriteAssets: Boolean(values['overwrite-assets']),
  overwriteAliases: Boolean(values['overwrite-aliases']),
  fixMissingVersions: Boolean(values['fix-missing-versions']),
});

export async function promoteCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, promoteOptions, promoteUsage);
  if (values.help) {
    io.stdout.write(promoteHelp);
    return EXIT.OK;
  }
  if (values.plan && values.wait) throw usageError('--plan writes nothing, so there is nothing to --wait for; give one of them', promoteUsage);
  const conn = resolveConnection(values, io, promoteUsage);
  const selection = assetSelection(values, promoteUsage, 'promote');
  const rest = promoteInput(values, selection);
  let assetIds = selection.assetIds;
  if (!assetIds) {
    assetIds = await assetIdsMatching(conn, selection.filter!);
    if (!values.json) io.stderr.write(`${assetIds.length} asset${assetIds.length === 1 ? '' : 's'} match ${describeFilter(selection.filter!)}\n`);
  }
  const input: PromoteInput = { ...rest, assetIds };
  return values.plan ? plan(conn, input, io, Boolean(values.json)) : promote(conn, input, io, Boolean(values.wait), Boolean(values.json));
}

// ---------------------------------------------------------------------------------------------
// --plan

interface PlanItem {
  assetId: string;
  type: string;
  name: string;
  action: string;
  reason: string | null;
  aliasValue: string | null;
}
interface StagePlan {
  stageName: string;
  error: string | null;
  errorCode: string | null;
  items: PlanItem[];
}

const PLAN = `query StagecraftPromotionPlan($input: PromoteInput!) {
  promotionPlan(input: $input) { stages { stageName error errorCode items { assetId type name action reason aliasValue } } }
}`;

const ACTIONS = ['CREATE', 'UPDATE', 'UNCHANGED', 'REFUSED'];

async function plan(conn: Connection, input: PromoteInput, io: CliIO, json: boolean): Promise<number> {
  const { idempotencyKey: _key, ...planInput } = input;
  const data = await graphqlRequest<{ promotionPlan: { stages: StagePlan[] } }>(conn, PLAN, { input: planInput });
  const stages = data.promotionPlan?.stages;
  if (!Array.isArray(stages)) throw unexpectedResponse('a promotion plan');
  io.stdout.write(json ? `${JSON.stringify(data.promotionPlan, null, 2)}\n` : formatPlan(stages));
  const blocked = stages.some((s) => s.error !== null || s.items.some((i) => i.action === 'REFUSED'));
  return blocked ? EXIT.INCOMPLETE : EXIT.OK;
}

/** Per stage: a summary line, then one line per asset (action, type, name, id, alias value, reason). */
export function formatPlan(stages: StagePlan[]): string {
  const lines: string[] = [];
  const typeWidth = Math.max(4, ...stages.flatMap((s) => s.items.map((i) => printable(i.type).length)));
  const actionWidth = Math.max(...ACTIONS.map((a) => a.length), ...stages.flatMap((s) => s.items.map((i) => printable(i.action).length)));
  for (const [index, stage] of stages.entries()) {
    if (index) lines.push('');
    const name = printable(stage.stageName);
    if (stage.error !== null) {
      lines.push(`stage ${name}: cannot plan: ${stage.errorCode ? `${printable(stage.errorCode)}: ` : ''}${printable(stage.error)}`);
      continue;
    }
    const counts = countBy(stage.items.map((i) => i.action), ACTIONS);
    lines.push(`stage ${name}: ${stage.items.length ? counts : 'nothing to promote'}`);
    for (const item of stage.items) {
      const alias = item.aliasValue !== null ? ` value ${printable(item.aliasValue)}` : '';
      const reason = item.reason ? `: ${printable(item.reason)}` : '';
      lines.push(`  ${printable(item.action).padEnd(actionWidth)}  ${printable(item.type).padEnd(typeWidth)}  ${printable(item.name)} (${printable(item.assetId)})${alias}${reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "4 CREATE, 2 UNCHANGED": known keys in their order first, then any others. */
function countBy(keys: string[], order: string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const known = order.filter((k) => counts.has(k));
  const others = [...counts.keys()].filter((k) => !order.includes(k)).sort();
  return [...known, ...others].map((k) => `${counts.get(k)} ${printable(k)}`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// promote (and --wait)

interface AssetReport {
  assetId: string;
  type: string;
  name: string;
  status: string;
  comment: string;
}
interface StageResult {
  stageName: string;
  status: string;
  reason: string | null;
  code: string | null;
  importReportId?: string | null;
  report?: AssetReport[];
}
export interface Promotion {
  id: string;
  name: string;
  status: string;
  targetStages: string[];
  stages: StageResult[];
}

const PROMOTE = `mutation StagecraftPromote($input: PromoteInput!) {
  promote(input: $input) { id name status targetStages stages { stageName status reason code } }
}`;

const PROMOTION = `query StagecraftPromotion($id: ID!) {
  promotion(id: $id) { id name status targetStages
    stages { stageName status reason code importReportId report { assetId type name status comment } } }
}`;

async function promote(conn: Connection, input: PromoteInput, io: CliIO, wait: boolean, json: boolean): Promise<number> {
  const { promote: queued } = await graphqlRequest<{ promote: Promotion }>(conn, PROMOTE, { input });
  return startedPromotion(conn, queued, io, wait, json);
}

/**
 * A promotion the server has queued (promote, repromote): its id at once, or with --wait its
 * progress and then each stage's result. Exit 0 when every stage succeeded, else 1.
 */
export async function startedPromotion(conn: Connection, queued: Promotion | null | undefined, io: CliIO, wait: boolean, json: boolean): Promise<number> {
  if (!queued || typeof queued.id !== 'string' || !Array.isArray(queued.stages)) throw unexpectedResponse('a promotion');
  // Pipelines get the promotion's UUID (what every stage knows it by), not the server's global id.
  queued = { ...queued, id: rawKey(queued.id) };
  const stageNames = queued.stages.map((s) => s.stageName);
  if (!wait) {
    io.stdout.write(json ? `${JSON.stringify(queued, null, 2)}\n` : `${printable(queued.id)}\n`);
    if (!json) io.stderr.write(`promotion "${printable(queued.name)}" to ${stageNames.map(printable).join(', ')}: ${printable(queued.status)}\n`);
    return EXIT.OK;
  }

  io.stderr.write(`promotion "${printable(queued.name)}" (${printable(queued.id)}) to ${stageNames.map(printable).join(', ')}: ${printable(queued.status)}\n`);
  const view = new ProgressView(io, stageNames);
  try {
    await followProgress(conn, queued.id, {
      event: (e) => view.event(e),
      notice: (text) => view.notice(text),
    });
  } finally {
    view.finish();
  }
  const { promotion: answered } = await graphqlRequest<{ promotion: Promotion }>(conn, PROMOTION, { id: queued.id });
  if (!answered || !Array.isArray(answered.stages)) throw unexpectedResponse('the promotion');
  const promotion = { ...answered, id: rawKey(String(answered.id)) };
  io.stdout.write(json ? `${JSON.stringify(promotion, null, 2)}\n` : formatResult(promotion));
  return promotion.stages.length > 0 && promotion.stages.every((s) => s.status === 'SUCCESS') ? EXIT.OK : EXIT.INCOMPLETE;
}

const REPORT_STATUSES = ['CREATED', 'REPLACED', 'UNCHANGED', 'WARNING', 'FAILURE'];

/** Per stage: status, asset counts by status, code and reason; then every failed (or warned) asset. */
export function formatResult(promotion: Promotion): string {
  const lines = [`promotion ${printable(promotion.status)}: ${printable(promotion.name)} (${printable(promotion.id)})`];
  const header = ['stage', 'status', 'assets', 'result'];
  const rows = promotion.stages.map((s) => {
    const report = s.report ?? [];
    const assets = report.length ? `${report.length}: ${countBy(report.map((a) => a.status), REPORT_STATUSES)}` : '-';
    const result = `${s.code ? `${printable(s.code)}: ` : ''}${printable(s.reason ?? '')}`;
    return [printable(s.stageName), printable(s.status), assets, result];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  lines.push(row(header), ...rows.map(row));
  const notable = promotion.stages.flatMap((s) => (s.report ?? []).filter((a) => a.status === 'FAILURE' || a.status === 'WARNING').map((a) => ({ stage: s.stageName, ...a })));
  if (notable.length) {
    lines.push('');
    const stageWidth = Math.max(...notable.map((a) => printable(a.stage).length));
    const statusWidth = Math.max(...notable.map((a) => printable(a.status).length));
    for (const a of notable) {
      lines.push(`  ${printable(a.stage).padEnd(stageWidth)}  ${printable(a.status).padEnd(statusWidth)}  ${printable(a.type)} ${printable(a.name)} (${printable(a.assetId)}): ${printable(a.comment)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

