/**
 * What `stagecraft --help` and `stagecraft <command> --help` print for the top level and the
 * server-side commands (serve, migrate, seed, schema, gateway); the pipeline commands keep their
 * help next to their flags in src/cli/.
 */

export const topLevelHelp = `Usage: stagecraft <command> [options]
       stagecraft <command> --help     (or: stagecraft help <command>)
       stagecraft --version

Commands:
  serve     [--port 4000] [--host 0.0.0.0] [--stage NAME] [--data-dir DIR] [--database-url URL] [--seed] [--no-graphiql]
            run the control plane (GraphQL, GraphiQL, jobs)
  migrate   [--data-dir DIR] [--database-url URL]   apply pending database migrations
  seed      [--data-dir DIR] [--database-url URL]   load the demo catalog (Swagger Petstore and friends)
  schema    [--subgraph | --possible-types]         print the GraphQL SDL (or the subgraph SDL, possibleTypes)
  gateway   --control-plane URL --group NAME --token TOKEN [--port 9080] [--host 0.0.0.0]
            run a gateway instance of the group (data plane); STAGECRAFT_GATEWAY_TOKEN for the token

Pipeline commands (talk to a running server with --server URL --token TOKEN; --help on each for details):
  export    (--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...) [--optional all|none|selected]
            [--optional-id ID]... [--passphrase P] [--output FILE [--json]]
            write a ZIP archive to stdout or FILE
  import    FILE [--overwrite none|all|custom] [--types API,POLICY] [--fix-missing-versions] [--passphrase P]
            [--dry-run] [--json]
            import an archive and print the report (--dry-run: the plan, nothing written)
  promote   --name NAME --to STAGE[,STAGE...] (--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...)
            [--description D] [--optional all|none|selected] [--optional-id ID]... [--overwrite-assets]
            [--overwrite-aliases] [--fix-missing-versions] [--idempotency-key K] [--plan | --wait] [--json]
            promote assets to other stages: print the plan, or start it (and follow it with --wait)
  repromote PROMOTION_ID --name NAME --to STAGE[,STAGE...] [--description D] [--overwrite-assets]
            [--overwrite-aliases] [--fix-missing-versions] [--wait] [--json]
            promote an earlier promotion's assets again, with their current contents
  rollback  (ROLLBACK_ID | --promotion ID --stage STAGE) [--force] [--wait] [--json]
            undo a promotion's import on a stage
  stages    list [--json] | test NAME [--json]
            the stages this server promotes to; whether one is reachable and usable
  whoami    [--json]                                print the signed-in user, role, privileges, stage, version
  ping      [--count N] [--json]                    is the server up and ready; version (with a token), latency

Exit status: 0 ok; 1 the operation failed (an import with failed assets, a promotion with a failed
stage, a plan with refusals, a stage test that failed, a filter that matched nothing, a server that
is up but not ready); 2 bad command line; 3 refused by the server or unreachable; 4 data directory
in use by another live Stagecraft process (serve refuses; migrate and seed use that process's
running PostgreSQL).

Environment: PORT, HOST, STAGECRAFT_STAGE, STAGECRAFT_DATA_DIR, DATABASE_URL, STAGECRAFT_ADMIN_PASSWORD,
STAGECRAFT_SECRET_KEY, STAGECRAFT_GRAPHIQL, STAGECRAFT_ALLOWED_HOSTS, STAGECRAFT_SESSION_TTL_MS,
STAGECRAFT_JOB_LEASE_MS, STAGECRAFT_STAGE_CHECK_MS, STAGECRAFT_CORS_ORIGINS, STAGECRAFT_CORS_CREDENTIALS,
STAGECRAFT_MAX_* (README "Limits"), LOG_LEVEL, NODE_ENV; for the pipeline
commands STAGECRAFT_SERVER, STAGECRAFT_TOKEN, STAGECRAFT_ARCHIVE_PASSPHRASE. Flags win over env.
`;

const databaseFlags = `  --data-dir DIR       the embedded PostgreSQL cluster and the secret key (STAGECRAFT_DATA_DIR, default ./.stagecraft)
  --database-url URL   an external PostgreSQL instead of the embedded one (DATABASE_URL)`;

export const serverCommandHelp: Record<'serve' | 'migrate' | 'seed' | 'schema' | 'gateway', string> = {
  serve: `Usage: stagecraft serve [--port 4000] [--host 0.0.0.0] [--stage NAME] [--data-dir DIR] [--database-url URL]
                       [--seed] [--no-graphiql] [--cors-origin ORIGIN]... [--cors-credentials]

Runs the control plane: GraphQL over HTTP and WebSocket at /graphql, GraphiQL for browsers,
/healthz and /readyz, the archive endpoints, and the job runner. Applies pending migrations first.

  --port N             HTTP port, 0 = any free port (PORT, default 4000)
  --host ADDR          interface to listen on (HOST, default 0.0.0.0)
  --stage NAME         the stage this instance is (STAGECRAFT_STAGE, default dev)
${databaseFlags}
  --seed               load the demo catalog (Swagger Petstore and friends) if it is not there (STAGECRAFT_SEED)
  --no-graphiql        do not serve GraphiQL (STAGECRAFT_GRAPHIQL=false)
  --cors-origin ORIGIN a browser origin (https://portal.example.com) whose pages may call the API and
                       open WebSockets; repeat or comma-separate (STAGECRAFT_CORS_ORIGINS). Exact origins only
  --cors-credentials   let those origins send credentials (STAGECRAFT_CORS_CREDENTIALS, default off)

stdout carries only the JSON log; the banner goes to stderr. On first start the generated
password of the user "admin" goes to stderr and to DATA_DIR/initial-admin-password (mode 0600);
set STAGECRAFT_ADMIN_PASSWORD to choose it instead. SIGTERM or Ctrl-C drains and stops.

Exit status: 0 stopped cleanly, 1 failed, 2 bad command line or setting, 4 the data directory is in
use by another live Stagecraft process.
`,
  migrate: `Usage: stagecraft migrate [--data-dir DIR] [--database-url URL]

Applies pending database migrations and exits.

${databaseFlags}

Exit status: 0 the schema is up to date, 1 failed or migrations still pending, 2 bad command line,
4 the data directory's live owner did not bring its PostgreSQL up in time. Beside a running server
on the same data directory it uses that server's PostgreSQL and never stops it.
`,
  seed: `Usage: stagecraft seed [--data-dir DIR] [--database-url URL]

Loads the demo catalog (Swagger Petstore 1.0.0 with its policies, aliases, application, package,
plan, subscription and team) unless it is already there. \`stagecraft serve --seed\` does the same at start.

${databaseFlags}

Exit status: 0 loaded or already present, 1 failed, 2 bad command line, 4 as for migrate.
`,
  schema: `Usage: stagecraft schema [--subgraph | --possible-types]

Prints the GraphQL schema (SDL) to stdout, as kept in schema/schema.graphql (\`npm run schema\`).

  --subgraph           the Apollo Federation 2 subgraph SDL instead (@key entities, _service, _entities),
                       for composing a supergraph without a token
  --possible-types     the implementations of each interface as JSON (schema/possible-types.json), for
                       Apollo Client's possibleTypes

Exit status: 0 printed, 2 bad command line.
`,
  gateway: `Usage: stagecraft gateway --control-plane URL --group NAME --token TOKEN [--port 9080] [--host 0.0.0.0]

Runs a gateway instance of the gateway group NAME: it joins with an instance token from
createGatewayInstanceToken, receives the group's configuration from the control plane and
proxies requests to the upstreams. It keeps serving its last configuration while the control
plane is away.

  --control-plane URL  the control plane's base URL, e.g. http://127.0.0.1:4000
  --group NAME         the gateway group to join
  --token TOKEN        the instance token (STAGECRAFT_GATEWAY_TOKEN)
  --port N             port to proxy on (default 9080; 0 = any free port)
  --host ADDR          interface to listen on (default 0.0.0.0)

stdout carries only the JSON log; the "listening" line goes to stderr.

Exit status: 0 stopped cleanly, 1 failed, 2 bad command line.
`,
};

/** `--help` or `-h` anywhere before a `--` terminator. */
export function asksForHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
