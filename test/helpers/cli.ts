import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const entry = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
/** The installed command: the build (`npm run build`, which `npm ci` runs), as `ldapsync` on PATH would run it. */
export const installedBin = fileURLToPath(new URL('../../bin/ldapsync.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `ldapsync` CLI as a user would, in its own process: from source through tsx, or with `installed`
 * the build that bin/ldapsync.js runs.
 */
export function runCli(
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Readonly<Record<string, string | undefined>>; input?: string; timeoutMs?: number; installed?: boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const command = options.installed === true ? [installedBin] : ['--import', 'tsx', entry];
    const child = spawn(process.execPath, [...command, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, LOG_LEVEL: undefined, ...options.env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
