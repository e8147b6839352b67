#!/usr/bin/env node
/**
 * The `stagecraft` command: serve, migrate, seed, schema and gateway run the server side; the
 * pipeline commands (export, import, promote, repromote, rollback, stages, whoami, ping) are
 * clients of a running server (src/cli/).
 */
import { asksForHelp, serverCommandHelp, topLevelHelp } from './cli/server-help.js';
import { ConfigError, loadConfig, redactConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { productVersion } from './version.js';

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
  // Listening from the start: a signal during start-up (creating the embedded PostgreSQL,
  // migrating …) interrupts it, and what was started is stopped, the cluster included.
  const interrupted = new AbortController();
  let app: Awaited<ReturnType<typeof startStagecraft>> | undefined;
  const shutdown = (signal: string) => {
    log.info({ signal }, app ? 'shutting down' : 'interrupted during start-up; stopping');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    interrupted.abort();
    app?.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.once(signal, () => shutdown(signal));
  try {
    app = await startStagecraft(config, { log, signal: interrupted.signal });
  } catch (err) {
    // Interrupted: start-up has undone itself (a step may have failed first because the same
    // Ctrl-C stopped PostgreSQL); that is a clean stop.
    if (!interrupted.signal.aborted) throw err;
    log.info('stopped during start-up');
    process.exit(0);
  }
  // stdout is the JSON log's alone; the banner is for the person at the terminal.
  process.stderr.write(
    `Stagecraft ${productVersion} (stage "${config.stage}") is up.\n  Console:  ${app.url}/\n  GraphQL:  ${app.url}/graphql\n` +
      (config.graphiql ? `  GraphiQL: ${app.url}/graphql (open in a browser)\n` : '') +
      (app.initialAdminPasswordFile ? `  Admin:    user "admin", password in ${app.initialAdminPasswordFile}\n` : ''),
  );
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
    const admin = await services.users.ensureAdmin(config.adminPassword);
    if (admin?.generatedPassword) {
      const { announceInitialAdminPassword } = await import('./initial-admin-password.js');
      await announceInitialAdminPassword(config.dataDir, admin.generatedPassword);
    }
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
    process.stderr.write(`stagecraft: ${(err as Error).message.split('\n')[0]}\n${serverCommandHelp.gateway.split('\n')[0]}\n(stagecraft gateway --help for more)\n`);
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
  const { gatewayObservability } = await import('./observability/gateway-setup.js');
  const observability = await gatewayObservability(process.env, flags.group!);
  const gateway = await startGateway({ controlPlane: flags['control-plane']!, group: flags.group!, token: token!, port, host: flags.host, log, observability });
  process.stderr.write(`Gateway instance ${gateway.instanceId} of group "${flags.group}" listening on port ${gateway.port}\n`);
  const shutdown = () => void gateway.stop().then(() => observability.shutdown()).then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function schemaCommand(args: string[]): Promise<void> {
  const outputs = { '--subgraph': 'printSubgraph', '--possible-types': 'printPossibleTypes' } as const;
  if (args.length > 1 || (args.length === 1 && !(args[0]! in outputs))) {
    process.stderr.write(`stagecraft: schema takes no arguments but --subgraph or --possible-types (got "${args.find((a) => !(a in outputs)) ?? args[1]}")\n${serverCommandHelp.schema.split('\n')[0]}\n`);
    process.exit(2);
  }
  const printers = await import('./graphql/schema.js');
  const print = args.length ? printers[outputs[args[0] as keyof typeof outputs]] : printers.printSDL;
  process.stdout.write(await print());
}

type ClientCommand = (args: string[], io: import('./cli/command.js').CliIO) => Promise<number>;

/** A client command from src/cli/ (loaded on use): its exit code, errors printed as one line. */
function clientCommand(load: () => Promise<ClientCommand>) {
  return async (args: string[]) => {
    const [{ runClientCommand }, command] = await Promise.all([import('./cli/command.js'), load()]);
    process.exitCode = await runClientCommand(command, args);
  };
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve,
  migrate: migrateCommand,
  seed: seedCommand,
  schema: schemaCommand,
  gateway: gatewayCommand,
  export: clientCommand(async () => (await import('./cli/archive-commands.js')).exportCommand),
  import: clientCommand(async () => (await import('./cli/archive-commands.js')).importCommand),
  promote: clientCommand(async () => (await import('./cli/promote-command.js')).promoteCommand),
  repromote: clientCommand(async () => (await import('./cli/repromote-command.js')).repromoteCommand),
  rollback: clientCommand(async () => (await import('./cli/rollback-command.js')).rollbackCommand),
  stages: clientCommand(async () => (await import('./cli/stages-command.js')).stagesCommand),
  whoami: clientCommand(async () => (await import('./cli/status-commands.js')).whoamiCommand),
  ping: clientCommand(async () => (await import('./cli/status-commands.js')).pingCommand),
};

/** A command's help, on stdout: the server commands' from here, the client commands' from their own --help. */
async function printHelp(name: string): Promise<void> {
  if (Object.hasOwn(serverCommandHelp, name)) process.stdout.write(serverCommandHelp[name as keyof typeof serverCommandHelp]);
  else await commands[name]!(['--help']);
}

const unknownCommand = (name: string) => {
  process.stderr.write(`stagecraft: unknown command "${name}"\n\n${topLevelHelp}`);
  process.exit(2);
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(topLevelHelp);
    process.exit(2);
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`${productVersion}\n`);
    return;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(topLevelHelp);
    else if (Object.hasOwn(commands, topic)) await printHelp(topic);
    else unknownCommand(topic);
    return;
  }
  if (!Object.hasOwn(commands, command)) return unknownCommand(command);
  if (asksForHelp(rest)) return printHelp(command);
  await commands[command]!(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`stagecraft: ${err instanceof Error ? err.message : String(err)}\n`);
  // Errors that carry their own exit status (e.g. 4: data directory in use) keep it.
  const exitCode = (err as { exitCode?: unknown } | null)?.exitCode;
  process.exit(typeof exitCode === 'number' ? exitCode : 1);
});
