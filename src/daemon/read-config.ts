import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadConfig, parseConfig, type LoadResult } from '../config/index.js';

/**
 * Loads the config and keeps the text it was loaded from (the daemon compares profiles' YAML sections across
 * reloads). One read of the file serves both, so the two cannot disagree when the file changes in between.
 */
export async function readConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ readonly result: LoadResult; readonly text: string | undefined }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // loadConfig words the failure to read (no such file, permission denied) as every other command does.
    return { result: await loadConfig(file, env), text: undefined };
  }
  return { result: parseConfig(text, file, env, (path) => readFileSync(path, 'utf8')), text };
}
