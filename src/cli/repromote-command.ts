/**
 * `stagecraft repromote`: promotes the assets of an earlier promotion again, with their current
 * contents, under a new name to the chosen stages (webMethods' "repromote"). Follows it like
 * `promote --wait`.
 */
import { EXIT, parseCommandArgs, usageError, type CliIO } from './command.js';
import { graphqlRequest } from './graphql.js';
import { connectionHelp, connectionOptions, resolveConnection } from './http.js';
import { promotionOptions, startedPromotion, type Promotion } from './promote-command.js';
import { list } from './selection.js';

export const repromoteUsage =
  'usage: stagecraft repromote PROMOTION_ID --server URL --token TOKEN --name NAME --to STAGE[,STAGE...]\n' +
  '                            [--description D] [--overwrite-assets] [--overwrite-aliases] [--fix-missing-versions]\n' +
  '                            [--wait] [--json]';

const repromoteHelp = `${repromoteUsage}

Promotes the same assets as the promotion PROMOTION_ID (with their current contents on the
server's stage and the same optional-dependency choice) again, as a new promotion NAME, to the
--to stages. The overwrite and version flags are this run's own, not the earlier promotion's.

  --wait     follow the progress (a bar per stage on a terminal, one line per event otherwise),
             then print each stage's result
  --json     print the queued promotion or (with --wait) the finished one as JSON
Without --wait, the new promotion's id is printed and it runs on the server.
${connectionHelp}

Exit status: 0 done (every stage succeeded with --wait), 1 a stage failed (--wait), 2 bad command
line, 3 the server refused the request (unknown promotion or stage, a stage busy …) or could not
be reached.
`;

const repromoteOptions = {
  ...connectionOptions,
  name: { type: 'string' },
  description: { type: 'string' },
  to: { type: 'string', multiple: true },
  'overwrite-assets': { type: 'boolean' },
  'overwrite-aliases': { type: 'boolean' },
  'fix-missing-versions': { type: 'boolean' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const REPROMOTE = `mutation StagecraftRepromote($promotionId: ID!, $name: String!, $description: String, $targetStages: [String!]!,
    $overwriteAssets: Boolean, $overwriteAliases: Boolean, $fixMissingVersions: Boolean) {
  repromote(promotionId: $promotionId, name: $name, description: $description, targetStages: $targetStages,
      overwriteAssets: $overwriteAssets, overwriteAliases: $overwriteAliases, fixMissingVersions: $fixMissingVersions) {
    id name status targetStages stages { stageName status reason code } }
}`;

export async function repromoteCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, repromoteOptions, repromoteUsage, true);
  if (values.help) {
    io.stdout.write(repromoteHelp);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usageError(positionals.length ? `one PROMOTION_ID, not ${positionals.length}` : 'missing the PROMOTION_ID to repromote', repromoteUsage);
  const promotionId = positionals[0]!.trim();
  if (!promotionId) throw usageError('the PROMOTION_ID must not be empty', repromoteUsage);
  const name = values.name?.trim();
  if (!name) throw usageError('missing --name NAME (the new promotion is listed under it)', repromoteUsage);
  const targetStages = list(values.to);
  if (!targetStages.length) throw usageError('choose the target stages: --to STAGE[,STAGE...]', repromoteUsage);
  const conn = resolveConnection(values, io, repromoteUsage);
  const { repromote } = await graphqlRequest<{ repromote: Promotion }>(conn, REPROMOTE, {
    promotionId,
    name,
    description: values.description ?? null,
    targetStages,
    ...promotionOptions(values),
  });
  return startedPromotion(conn, repromote, io, Boolean(values.wait), Boolean(values.json));
}
