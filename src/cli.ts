#!/usr/bin/env node
/**
 * The `stagecraft` command: serve, migrate, seed, schema run the server side; export, import and
 * promote are clients of a running server (src/cli/).
 */
import { ConfigError, loadConfig, redactConfig, type Config } from './config.js';
import { createLogger } from './logger.js';

const usage = `Usage: stagecraft <command> [options]

Commands:
  serve     [--port 4000] [--host 0.0.0.0] [--stage NAME] [--data-dir DIR] [--database-url URL] [--seed] [--no-graphiql]
  migrate   [--data-dir DIR] [--database-url URL]   apply pending database migrations
  seed      [--data-dir DIR] [--database-url URL]   load the demo catalog (Swagger Petstore and friends)
  schema                                            print the GraphQL SDL
  gateway   --control-plane URL --group NAME --token TOKEN [--port 9080] [--host 0.0.0.0]
            run a gateway instance of the group (data plane); STAGECRAFT_GATEWAY_TOKEN for the token

Pipeline commands (talk to a running server; --help on each for details):
  export    --server URL --token TOKEN (--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...)
            [--optional all|none|selected] [--optional-id ID]... [--passphrase P] [--output FILE]
            write a ZIP archive to stdout or FILE
  import    FILE --server URL --token TOKEN [--overwrite none|all|custom] [--types API,POLICY]
            [--fix-missing-versions] [--passphrase P] [--json]
            import an archive and print the report
  promote   --server URL --token TOKEN --name NAME --asset ID... --to STAGE[,STAGE...] [--description D]
            [--optional all|none|selected] [--optional-id ID]... [--overwrite-assets] [--overwrite-aliases]
            [--fix-missing-versions] [--idempotency-key K] [--plan | --wait] [--json]
            promote assets to other stages: print the plan, or start it (and follow it with --wait)
  Exit status: 0 ok, 1 import with failed assets, promotion with a failed stage or plan with refusals,
  2 bad command line, 3 refused by the server or unreachable, 4 data directory in use by another live
  Stagecraft process (serve refuses; migrate and seed use that process's running PostgreSQL).

Environment: PORT, HOST, STAGECRAFT_STAGE, STAGECRAFT_DATA_DIR, DATABASE_URL, STAGECRAFT_ADMIN_PASSWORD,
STAGECRAFT_SECRET_KEY, STAGECRAFT_GRAPHIQL, LOG_LEVEL, NODE_ENV; for export/import/promote STAGECRAFT_SERVER,
STAGECRAFT_TOKEN, STAGECRAFT_ARCHIVE_PASSPHRASE. Flags win over env.`;

function configOrExit(args: string[]): Config {
  try {
    return loadConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`stagecraft: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function serve(args: string[]): Promise<void> {
  const config = configOrExit(args);
  const log = createLogger(config.logLevel);
  log.info({ config: redactConfig(config) }, 'starting');
  const { startStagecraft } = await import('./app.js');
  const app = await startStagecraft(config, { log });
  process.stdout.write(`Stagecraft (stage "${config.stage}") is up.\n  GraphQL:  ${app.url}/graphql\n${config.graphiql ? `  GraphiQL: ${app.url}/graphql (open in a browser)\n` : ''}`);
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGHUP', () => shutdown('SIGHUP'));
}

async function migrateCommand(args: string[]): Promise<void> {
  const config = configOrExit(args);
  const log = createLogger(config.logLevel);
  const { openDatabase } = await import('./app.js');
  // Beside a running server on the same data dir: its cluster, never a second one (or a stop).
  const db = await openDatabase(config, log, { command: 'migrate', shareRunning: true });
  const pending = await db.dataSource.showMigrations();
  await db.close();
  process.stdout.write(pending ? 'migrations still pending\n' : 'database schema is up to date\n');
  process.exitCode = pending ? 1 : 0;
}

async function seedCommand(args: string[]): Promise<void> {
  const config = configOrExit(args);
  const log = createLogger(config.logLevel);
  const { openServices } = await import('./app.js');
  const { seedDemoCatalog } = await import('./services/seed.js');
  const { services, close } = await openServices(config, log, { command: 'seed', shareRunning: true });
  try {
    await services.users.ensureAdmin(config.adminPassword);
    const { created } = await seedDemoCatalog(services, await services.users.firstSuperAdmin());
    process.stdout.write(created ? `demo catalog loaded: ${created} assets\n` : 'demo catalog already present\n');
  } finally {
    await close();
  }
}

async function gatewayCommand(args: string[]): Promise<void> {
  const { parseArgs } = await import('node:util');
  let flags;
  try {
    flags = parseArgs({
      args,
      options: { 'control-plane': { type: 'string' }, group: { type: 'string' }, token: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`stagecraft: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const token = flags.token ?? process.env.STAGECRAFT_GATEWAY_TOKEN;
  const port = Number(flags.port ?? '9080');
  const missing = [!flags['control-plane'] && '--control-plane', !flags.group && '--group', !token && '--token'].filter(Boolean);
  if (missing.length || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`stagecraft: gateway needs ${missing.length ? missing.join(', ') : 'a --port between 0 and 65535'}\n`);
    process.exit(2);
  }
  const log = createLogger(process.env.LOG_LEVEL ?? 'info');
  const { startGateway } = await import('./dataplane/agent.js');
  const gateway = await startGateway({ controlPlane: flags['control-plane']!, group: flags.group!, token: token!, port, host: flags.host, log });
  process.stdout.write(`Gateway instance ${gateway.instanceId} of group "${flags.group}" listening on port ${gateway.port}\n`);
  const shutdown = () => void gateway.stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function schemaCommand(): Promise<void> {
  const { printSDL } = await import('./graphql/schema.js');
  process.stdout.write(await printSDL());
}

type ClientCommand = (args: string[], io: import('./cli/command.js').CliIO) => Promise<number>;

/** A client command from src/cli/ (loaded on use): its exit code, errors printed as one line. */
function clientCommand(load: () => Promise<ClientCommand>) {
  return async (args: string[]) => {
    const [{ runClientCommand }, command] = await Promise.all([import('./cli/command.js'), load()]);
    process.exitCode = await runClientCommand(command, args);
  };
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve,
  migrate: migrateCommand,
  seed: seedCommand,
  schema: schemaCommand,
  gateway: gatewayCommand,
  export: clientCommand(async () => (await import('./cli/archive-commands.js')).exportCommand),
  import: clientCommand(async () => (await import('./cli/archive-commands.js')).importCommand),
  promote: clientCommand(async () => (await import('./cli/promote-command.js')).promoteCommand),
};

const run = command ? commands[command] : undefined;
if (!run) {
  process.stderr.write(`${command && command !== 'help' && command !== '--help' ? `stagecraft: unknown command "${command}"\n\n` : ''}${usage}\n`);
  process.exit(command === 'help' || command === '--help' ? 0 : 2);
} else {
  run(rest).catch((err: unknown) => {
    process.stderr.write(`stagecraft: ${err instanceof Error ? err.message : String(err)}\n`);
    // Errors that carry their own exit status (e.g. 4: data directory in use) keep it.
    const exitCode = (err as { exitCode?: unknown } | null)?.exitCode;
    process.exit(typeof exitCode === 'number' ? exitCode : 1);
  });
}
