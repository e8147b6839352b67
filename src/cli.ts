#!/usr/bin/env node
/**
 * The `stagecraft` command: serve, migrate, schema (and more as features land).
 */
import { ConfigError, loadConfig, redactConfig, type Config } from './config.js';
import { createLogger } from './logger.js';

const usage = `Usage: stagecraft <command> [options]

Commands:
  serve     [--port 4000] [--host 0.0.0.0] [--stage NAME] [--data-dir DIR] [--database-url URL] [--seed] [--no-graphiql]
  migrate   [--data-dir DIR] [--database-url URL]   apply pending database migrations
  seed      [--data-dir DIR] [--database-url URL]   load the demo catalog (Swagger Petstore and friends)
  schema                                            print the GraphQL SDL

Environment: PORT, HOST, STAGECRAFT_STAGE, STAGECRAFT_DATA_DIR, DATABASE_URL, STAGECRAFT_ADMIN_PASSWORD,
STAGECRAFT_SECRET_KEY, STAGECRAFT_GRAPHIQL, LOG_LEVEL, NODE_ENV. Flags win over env.`;

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
  const db = await openDatabase(config, log);
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
  const { services, close } = await openServices(config, log);
  try {
    await services.users.ensureAdmin(config.adminPassword);
    const { created } = await seedDemoCatalog(services, await services.users.firstSuperAdmin());
    process.stdout.write(created ? `demo catalog loaded: ${created} assets\n` : 'demo catalog already present\n');
  } finally {
    await close();
  }
}

async function schemaCommand(): Promise<void> {
  const { printSDL } = await import('./graphql/schema.js');
  process.stdout.write(await printSDL());
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve,
  migrate: migrateCommand,
  seed: seedCommand,
  schema: schemaCommand,
};

const run = command ? commands[command] : undefined;
if (!run) {
  process.stderr.write(`${command && command !== 'help' && command !== '--help' ? `stagecraft: unknown command "${command}"\n\n` : ''}${usage}\n`);
  process.exit(command === 'help' || command === '--help' ? 0 : 2);
} else {
  run(rest).catch((err: unknown) => {
    process.stderr.write(`stagecraft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
