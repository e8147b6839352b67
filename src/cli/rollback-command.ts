/**
 * `stagecraft rollback`: undoes a promotion's import on a stage, restoring what that import
 * replaced and removing what it created — by the rollback's id on the (target) server, or by
 * promotion and stage on the source server, which asks the target with its stored credentials.
 */
import { EXIT, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { rawKey } from '../graphql/node-id.js';
import { graphqlRequest, unexpectedResponse } from './graphql.js';
import { connectionHelp, connectionOptions, resolveConnection } from './http.js';

export const rollbackUsage =
  'usage: stagecraft rollback (ROLLBACK_ID | --promotion ID --stage STAGE) --server URL --token TOKEN\n' +
  '                           [--force] [--wait] [--json]';

const rollbackHelp = `${rollbackUsage}

Rolls back one import a promotion made: everything it replaced is restored and everything it
created is removed, in one transaction on the stage that imported it.

  ROLLBACK_ID          a rollback recorded on --server (the target stage; see Query.rollbacks)
  --promotion ID --stage STAGE
                       the rollback of promotion ID on STAGE, asked of STAGE by --server (the
                       stage the promotion ran from)
  --force              roll back even when later promotions changed the same assets
                       (they are undone with it); refused with CONFLICT otherwise
  --wait               accepted for pipelines that pass it to every verb: a rollback is one
                       transaction and this command always returns when it is done
  --json               print the rollback (status, times, report) as JSON
${connectionHelp}

Exit status: 0 rolled back, 1 the server answered but the rollback is not ROLLED_BACK, 2 bad
command line, 3 the server refused (unknown rollback, already rolled back, CONFLICT with later
promotions, a stage unreachable …) or could not be reached.
`;

const rollbackOptions = {
  ...connectionOptions,
  promotion: { type: 'string' },
  stage: { type: 'string' },
  force: { type: 'boolean' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FIELDS = 'id name description promotionId sourceStage promotedBy promotionTime rollbackTime status report { type name status }';
const BY_ID = `mutation StagecraftRollback($id: ID!, $force: Boolean!) { rollback(id: $id, force: $force) { ${FIELDS} } }`;
const BY_PROMOTION = `mutation StagecraftRollbackPromotion($promotionId: ID!, $stage: String!, $force: Boolean!) {
  rollbackPromotion(promotionId: $promotionId, stage: $stage, force: $force) { ${FIELDS} }
}`;

export interface Rollback {
  id: string;
  name: string;
  promotionId: string;
  sourceStage: string;
  promotedBy: string;
  promotionTime: string;
  rollbackTime: string | null;
  status: string;
  report: { type: string; name: string; status: string }[];
}

export async function rollbackCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, rollbackOptions, rollbackUsage, true);
  if (values.help) {
    io.stdout.write(rollbackHelp);
    return EXIT.OK;
  }
  const promotionId = values.promotion?.trim();
  const stage = values.stage?.trim();
  const byPromotion = values.promotion !== undefined || values.stage !== undefined;
  if (positionals.length > 1) throw usageError(`one ROLLBACK_ID, not ${positionals.length}`, rollbackUsage);
  if (positionals.length && byPromotion) throw usageError('give a ROLLBACK_ID or --promotion and --stage, not both', rollbackUsage);
  if (!positionals.length && !byPromotion) throw usageError('choose what to roll back: ROLLBACK_ID, or --promotion ID --stage STAGE', rollbackUsage);
  if (byPromotion && (!promotionId || !stage)) throw usageError('--promotion ID and --stage STAGE go together', rollbackUsage);
  const rollbackId = positionals[0]?.trim();
  if (!byPromotion && !rollbackId) throw usageError('the ROLLBACK_ID must not be empty', rollbackUsage);
  const conn = resolveConnection(values, io, rollbackUsage);
  const force = Boolean(values.force);

  const rollback = byPromotion
    ? (await graphqlRequest<{ rollbackPromotion: Rollback }>(conn, BY_PROMOTION, { promotionId, stage, force })).rollbackPromotion
    : (await graphqlRequest<{ rollback: Rollback }>(conn, BY_ID, { id: rollbackId, force })).rollback;
  if (!rollback || typeof rollback.status !== 'string' || !Array.isArray(rollback.report)) throw unexpectedResponse('a rollback');
  rollback.id = rawKey(String(rollback.id)); // its UUID, not the server's global id
  io.stdout.write(values.json ? `${JSON.stringify(rollback, null, 2)}\n` : formatRollback(rollback));
  return rollback.status === 'ROLLED_BACK' ? EXIT.OK : EXIT.INCOMPLETE;
}

/** Status, name and id, where it came from, then one line per asset (RESTORED / REMOVED). */
export function formatRollback(r: Rollback): string {
  const lines = [
    `rollback ${printable(r.status)}: ${printable(r.name)} (${printable(r.id)})`,
    `  promotion ${printable(r.promotionId)} from stage ${printable(r.sourceStage)} by ${printable(r.promotedBy)} at ${printable(r.promotionTime)}`,
  ];
  if (r.rollbackTime) lines.push(`  rolled back at ${printable(r.rollbackTime)}`);
  const statusWidth = Math.max(0, ...r.report.map((e) => printable(e.status).length));
  const typeWidth = Math.max(0, ...r.report.map((e) => printable(e.type).length));
  for (const e of r.report) lines.push(`  ${printable(e.status).padEnd(statusWidth)}  ${printable(e.type).padEnd(typeWidth)}  ${printable(e.name)}`);
  return `${lines.join('\n')}\n`;
}
