import { basename, dirname } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../shared/index.js';

export interface ConfigWatcherOptions {
  /** Absolute path of the config file. */
  readonly file: string;
  /** Called once per burst of changes, after `debounceMs` of quiet. */
  readonly onChange: () => void;
  readonly logger: Logger;
  readonly debounceMs?: number;
}

/**
 * Watches the config file's directory rather than the file: editors that save by writing a new file and renaming
 * it over the old one (vim, `sed -i`), and Kubernetes, which swaps a ConfigMap's `..data` symlink, replace the
 * file's inode, and a watch on the old inode would go quiet. Only the file's own name and Kubernetes' `..*`
 * entries count; a store directory beside the file does not. A burst of events (a write in several chunks,
 * rename plus chmod) becomes one call.
 */
export class ConfigWatcher {
  readonly #options: ConfigWatcherOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ConfigWatcherOptions) {
    this.#options = options;
  }

  /** Resolves once the directory is being watched. Safe twice. */
  async start(): Promise<void> {
    if (this.#watcher !== undefined) return;
    const dir = dirname(this.#options.file);
    const name = basename(this.#options.file);
    const relevant = (path: string): boolean => path === dir || basename(path) === name || basename(path).startsWith('..');
    const watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      // Following symlinks makes a change to the target of `ldapsync.yaml -> /elsewhere/ldapsync.yaml` count too.
      followSymlinks: true,
      ignored: (path: string) => !relevant(path),
    });
    this.#watcher = watcher;
    watcher.on('all', (event, path) => {
      this.#options.logger.debug({ event: 'config.fs_event', fsEvent: event, path }, `config directory: ${event} ${path}`);
      this.#schedule();
    });
    watcher.on('error', (err) => {
      this.#options.logger.error({ event: 'config.watch_failed', err, dir }, `watching ${dir} failed; SIGHUP still reloads`);
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** Stops watching; a pending call is dropped. Safe twice. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher === undefined) return;
    try {
      await watcher.close();
    } catch (err) {
      this.#options.logger.warn({ event: 'config.watch_close_failed', err }, 'closing the config watcher failed');
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#watcher !== undefined) this.#options.onChange();
    }, this.#options.debounceMs ?? 250);
  }
}
