import type { Config } from '../config/index.js';
import { ExitCode, writeLine, type Io } from './io.js';
import { loadOrReport } from './load.js';

export async function validateCommand(path: string, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(path, io);
  if (config === undefined) return ExitCode.usage;
  writeLine(io.stdout, summarize(config));
  return ExitCode.ok;
}

function summarize(config: Config): string {
  const profiles = [...config.servers.values()].map((p) => {
    const kinds = [p.users.sync ? 'users' : undefined, p.groups?.sync === true ? 'groups' : undefined].filter((k) => k !== undefined);
    return `${p.name} (${kinds.length > 0 ? `syncs ${kinds.join(' and ')} on "${p.schedule}"` : 'no sync'})`;
  });
  const count = `${profiles.length} server profile${profiles.length === 1 ? '' : 's'}`;
  return `${config.file}: valid; ${count}${profiles.length > 0 ? `: ${profiles.join(', ')}` : ''}; store ${redactUrl(config.store.url)}`;
}

/** A store URL without its password, which may be inlined in `postgres://user:pass@host`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
