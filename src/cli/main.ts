import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode, processIo, type Io } from './io.js';
import { configPath } from './load.js';
import { mapCommand } from './map.js';
import { validateCommand } from './validate.js';

/**
 * Parses argv and runs one command; returns the exit code (DESIGN §6) rather than exiting, so that tests and
 * the bin wrapper decide what to do with it.
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
    .action(async () => exit(await validateCommand(config(), io)));

  program
    .command('map')
    .description('evaluate a profile\'s mapping on entries from an LDIF file, offline; one JSON object per entry')
    .argument('<server>', 'server profile name')
    .requiredOption('--ldif <file>', 'LDIF file of entries, as ldapsearch prints them')
    .option('--groups', 'use the group mapping instead of the user mapping', false)
    .action(async (server: string, opts: { ldif: string; groups: boolean }) =>
      exit(await mapCommand({ config: config(), server, ldif: opts.ldif, groups: opts.groups }, io)),
    );

  return program;
}

/** A commander argument parser for a percentage 0..100. */
export function parsePercentage(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('expected a number from 0 to 100');
  return n;
}
