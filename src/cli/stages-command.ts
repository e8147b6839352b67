/**
 * `stagecraft stages list` and `stagecraft stages test NAME`: the stages a server promotes to,
 * and whether it can reach one (signs in, has MANAGE_PROMOTIONS, runs a version no older).
 */
import { EXIT, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { graphqlRequest, unexpectedResponse } from './graphql.js';
import { connectionHelp, connectionOptions, resolveConnection } from './http.js';

export const stagesUsage = 'usage: stagecraft stages list --server URL --token TOKEN [--json]\n       stagecraft stages test NAME --server URL --token TOKEN [--json]';

const stagesHelp = `${stagesUsage}

  list       the stages registered on --server (name, URL, user, description)
  test NAME  reach stage NAME the way a promotion would: sign in with its stored credentials,
             check MANAGE_PROMOTIONS and that it runs this version or newer; print the outcome
             and the round trip
  --json     print the stages, or the test result, as JSON
${connectionHelp}

Exit status: 0 listed / the stage is usable, 1 the test failed (unreachable, refused sign-in,
missing privilege, older version), 2 bad command line, 3 the server refused the request (unknown
stage, missing privilege) or could not be reached.
`;

const stagesOptions = {
  ...connectionOptions,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface StageRow {
  name: string;
  url: string;
  username: string;
  description: string;
}

interface StageTestResult {
  ok: boolean;
  message: string;
  remoteStage: string | null;
  productVersion: string | null;
  latencyMs: number | null;
}

const LIST = 'query StagecraftStages { stages { name url username description } }';
const TEST = `mutation StagecraftTestStage($name: String!) { testStage(name: $name) { ok message remoteStage productVersion latencyMs } }`;

export async function stagesCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, stagesOptions, stagesUsage, true);
  if (values.help) {
    io.stdout.write(stagesHelp);
    return EXIT.OK;
  }
  const [verb, ...rest] = positionals;
  if (verb === 'list') {
    if (rest.length) throw usageError(`stages list takes no arguments (got "${rest[0]}")`, stagesUsage);
    const conn = resolveConnection(values, io, stagesUsage);
    const { stages } = await graphqlRequest<{ stages: StageRow[] }>(conn, LIST);
    if (!Array.isArray(stages)) throw unexpectedResponse('a list of stages');
    io.stdout.write(values.json ? `${JSON.stringify(stages, null, 2)}\n` : formatStages(stages));
    return EXIT.OK;
  }
  if (verb === 'test') {
    if (rest.length !== 1 || !rest[0]!.trim()) throw usageError(rest.length > 1 ? `one stage NAME, not ${rest.length}` : 'missing the stage NAME to test', stagesUsage);
    const conn = resolveConnection(values, io, stagesUsage);
    const { testStage } = await graphqlRequest<{ testStage: StageTestResult }>(conn, TEST, { name: rest[0]!.trim() });
    if (!testStage || typeof testStage.ok !== 'boolean') throw unexpectedResponse('a stage test result');
    io.stdout.write(values.json ? `${JSON.stringify(testStage, null, 2)}\n` : `stage ${printable(rest[0]!.trim())}: ${testStage.ok ? 'ok' : 'FAILED'}: ${printable(testStage.message)}\n`);
    return testStage.ok ? EXIT.OK : EXIT.INCOMPLETE;
  }
  throw usageError(verb === undefined ? 'missing the subcommand: list or test' : `unknown subcommand "${printable(verb)}": list or test`, stagesUsage);
}

/** A header and one aligned row per stage; "no stages" when there are none. */
export function formatStages(stages: StageRow[]): string {
  if (!stages.length) return 'no stages registered\n';
  const header = ['name', 'url', 'user', 'description'];
  const rows = stages.map((s) => [s.name, s.url, s.username, s.description].map((c) => printable(c ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[row(header), ...rows.map(row)].join('\n')}\n`;
}
