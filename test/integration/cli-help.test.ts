/**
 * The built CLI's help and version, as a user types them: `--version`, `--help`/`-h` on every
 * command and `help <command>` on stdout with exit 0; unknown options and commands on stderr
 * with exit 2. No server or database is needed for any of these.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = path.resolve('dist/cli.js');
const PIPELINE = ['export', 'import', 'promote', 'repromote', 'rollback', 'stages', 'whoami', 'ping'];
const COMMANDS = ['serve', 'migrate', 'seed', 'schema', 'gateway', ...PIPELINE];

function run(...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STAGECRAFT_') && k !== 'DATABASE_URL'));
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('stagecraft --version and --help', () => {
  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(run('--version')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
    expect(run('-V').stdout).toBe(`${version}\n`);
  });

  it('prints the top-level help on stdout for --help, -h and help', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: stagecraft <command>/);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('--version');
    expect(run('-h')).toEqual(help);
    expect(run('help')).toEqual(help);
  });

  it.each(COMMANDS)('%s: --help, -h and `help <command>` print its own help on stdout, exit 0', (command) => {
    const help = run(command, '--help');
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^usage: stagecraft ${command}\\b`, 'i'));
    expect(help.stdout).not.toMatch(/^Usage: stagecraft <command>/); // not the global help
    expect(run(command, '-h')).toEqual(help);
    expect(run('help', command)).toEqual(help);
    // help wins over the flags next to it, even ones missing their values
    expect(run(command, '--port', '1', '--help').stdout).toBe(help.stdout);
  });

  it.each(COMMANDS)('%s: an unknown option is named on stderr, exit 2, nothing on stdout', (command) => {
    const bad = run(command, '--no-such-option');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(command === 'schema' ? /schema takes no arguments but --subgraph or --possible-types \(got "--no-such-option"\)/ : /Unknown option '--no-such-option'/);
  });

  it.each(PIPELINE)('%s: its help documents the exit statuses (0 ok, 2 bad command line, 3 refused or unreachable)', (command) => {
    const help = run(command, '--help').stdout;
    const exit = help.slice(help.indexOf('Exit status:')).replace(/\s+/g, ' ');
    expect(exit).toMatch(/^Exit status: 0 \S/);
    expect(exit).toMatch(/, 2 bad command line\b/);
    expect(exit).toMatch(/, 3 (the server refused|unreachable)\b/);
    // 1 where the command can fail after the server answered
    if (command !== 'export' && command !== 'whoami') expect(exit).toMatch(/, 1 \S/);
    expect(help).toMatch(/STAGECRAFT_SERVER/);
  });

  it('the top-level help lists every pipeline command and the exit statuses', () => {
    const help = run('--help').stdout;
    for (const command of PIPELINE) expect(help).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    const exit = help.slice(help.indexOf('Exit status:')).replace(/\s+/g, ' ');
    expect(exit).toMatch(/^Exit status: 0 ok; 1 the operation failed \(.+\); 2 bad command line; 3 refused by the server or unreachable; 4 data directory in use/);
  });

  it('refuses unknown commands and help topics on stderr with exit 2, and no command at all', () => {
    for (const args of [['frobnicate'], ['help', 'frobnicate']]) {
      const bad = run(...args);
      expect(bad.status).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain('stagecraft: unknown command "frobnicate"');
    }
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: stagecraft <command>/);
  });
});
