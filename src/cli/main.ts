import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ldapsyncVersion } from '../shared/package-root.js';
import { ExitCode, processIo, type Io } from './io.js';
import { configPath } from './load.js';
import { LOGIN_HELP } from './login-help.js';

/**
 * Parses argv and runs one command; returns the exit code (DESIGN §6) rather than exiting, so that tests and
 * the bin wrapper decide what to do with it. A command's module, and with it its libraries (the daemon's
 * scheduler, watcher and metrics, the store's drivers), is loaded only when that command runs.
 */
export async function main(argv: ReadonlyArray<string>, io: Io = processIo()): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw err;
  }
  return code;
}

function buildProgram(io: Io, exit: (code: number) => void): Command {
  const program = new Command('ldapsync')
    .description('Keeps PostgreSQL in step with an LDAP / Active Directory directory, from one YAML file.')
    .option('-c, --config <file>', 'config file (default: $LDAPSYNC_CONFIG or ./ldapsync.yaml)')
    .version(ldapsyncVersion(), '-V, --version', 'print the version of ldapsync')
    .exitOverride()
    .showHelpAfterError('(run "ldapsync --help" for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const config = (): string => configPath(program.opts<{ config?: string }>().config, io);

  program
    .command('validate')
    .description('check the config file; every error with its position')
    .action(async () => exit(await (await import('./validate.js')).validateCommand(config(), io)));

  program
    .command('map')
    .description('evaluate a profile\'s mapping on entries from an LDIF file, offline; one JSON object per entry')
    .argument('<server>', 'server profile name')
    .requiredOption('--ldif <file>', 'LDIF file of entries, as ldapsearch prints them')
    .option('--groups', 'use the group mapping instead of the user mapping', false)
    .action(async (server: string, opts: { ldif: string; groups: boolean }) =>
      exit(await (await import('./map.js')).mapCommand({ config: config(), server, ldif: opts.ldif, groups: opts.groups }, io)),
    );

  program
    .command('test')
    .description('connect, bind and count users and groups; or, with --username, show one user as a sync would see it')
    .argument('<server>', 'server profile name')
    .option('--username <name>', 'find this user with the profile\'s user query and show raw attributes, mapped record and what a sync would change')
    .option('--debug', 'log every LDAP operation (never a secret)', false)
    .option('--json', 'one JSON object on stdout', false)
    .action(async (server: string, opts: { username?: string; debug: boolean; json: boolean }) =>
      exit(await (await import('./test-command.js')).testCommand({ config: config(), server, username: opts.username, debug: opts.debug, json: opts.json }, io)),
    );

  const sync = program.command('sync').description('reconcile one profile\'s users or groups into the store');
  for (const kind of ['users', 'groups'] as const) {
    sync
      .command(kind)
      .description(`sync ${kind} of a server profile`)
      .argument('<server>', 'server profile name')
      .option('--dry-run', 'print the plan; write nothing at all', false)
      .option('--delete', 'remove (per deletes.mode) entries gone from the directory, within the delete guard')
      .option('--max-delete-percentage <n>', 'abort when removals exceed this percentage of live rows', parsePercentage)
      .option('--json', 'one JSON object on stdout', false)
      .action(async (server: string, opts: { dryRun: boolean; delete?: boolean; maxDeletePercentage?: number; json: boolean }) =>
        exit(
          await (await import('./sync.js')).syncCommand(
            { config: config(), kind, server, dryRun: opts.dryRun, delete: opts.delete, maxDeletePercentage: opts.maxDeletePercentage, json: opts.json },
            io,
          ),
        ),
      );
  }

  program
    .command('run')
    .description('the daemon: syncs every profile on its schedule, reloads the file when it changes (or on SIGHUP), stops on SIGTERM')
    .action(async () => exit(await (await import('./run.js')).runCommand({ config: config() }, io)));

  program
    .command('status')
    .description('the last runs of every profile, with their counts and errors')
    .option('--json', 'one JSON object on stdout', false)
    .action(async (opts: { json: boolean }) => exit(await (await import('./status.js')).statusCommand({ config: config(), json: opts.json }, io)));

  program
    .command('login')
    .description('check a login against LDAP as the daemon would, creating or updating the user\'s row; password on stdin (no echo on a terminal); password changes are not supported')
    .argument('<login>', 'NAME@DOMAIN, or NAME for the default domain (or a local user)')
    .option('--json', 'one JSON object on stdout', false)
    .addHelpText('after', LOGIN_HELP)
    .action(async (login: string, opts: { json: boolean }) => exit(await (await import('./login.js')).loginCommand({ config: config(), login, json: opts.json }, io)));

  program
    .command('migrate')
    .description('create or upgrade the store\'s tables')
    .action(async () => exit(await (await import('./migrate.js')).migrateCommand({ config: config() }, io)));

  return program;
}

/** A commander argument parser for a percentage 0..100. */
export function parsePercentage(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('expected a number from 0 to 100');
  return n;
}
