import type { ServerResponse } from 'node:http';
import { AuthEndpoint } from '../auth/index.js';
import { formatConfigError, type Config, type ConfigError, type HttpConfig } from '../config/index.js';
import { LdapsyncError, toLdapsyncError, type Logger } from '../shared/index.js';
import { openStore, type Store } from '../store/index.js';
import { runSync, type SyncTrigger } from '../sync/index.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigWatcher } from './config-watcher.js';
import { HttpServer, sendJson, type HttpMethod, type Lease, type RouteHandler } from './http-server.js';
import { DaemonMetrics } from './metrics.js';
import { diffPlans, diffProfiles, planSchedules, profileDigests, type ProfilePlan } from './schedule-plan.js';
import { readConfig } from './read-config.js';
import { Scheduler, type RunResult } from './scheduler.js';
import { DEFAULT_SETTINGS, type DaemonSettings } from './settings.js';
import { SharedStore, storeKey } from './shared-store.js';

/** What the daemon runs on: one loaded config, its schedule plans and its store. A reload swaps the whole value. */
export interface RuntimeSnapshot {
  readonly config: Config;
  readonly plans: ReadonlyMap<string, ProfilePlan>;
  /** Per profile, a digest of its settings and mapping expressions: a reload reports the profiles it changes. */
  readonly digests: ReadonlyMap<string, string>;
  readonly store: SharedStore;
}

/** What an HTTP route handler gets: the config and store in force when its request arrived, and the logger. */
export interface DaemonContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
}

export type DaemonRouteHandler = RouteHandler<DaemonContext>;

export interface DaemonRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: DaemonRouteHandler;
}

export type ReloadTrigger = 'watch' | 'signal';

export interface DaemonOptions {
  /** Absolute path of the config file. */
  readonly file: string;
  /** For `${VAR}` interpolation and `{ env: }` secrets; `LOG_LEVEL` here overrides the file's log level. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly settings?: DaemonSettings;
  readonly clock?: Clock;
  /** Routes served besides /healthz, /readyz and /metrics (more can be added with `addRoute`). */
  readonly routes?: ReadonlyArray<DaemonRoute>;
}

/** How long /readyz waits for the store to answer before it says "not ready". */
const READINESS_TIMEOUT_MS = 2_000;
/** After aborting the syncs still running at shutdown, how long to wait for their rollback before closing anyway. */
const ABORT_GRACE_MS = 10_000;

/**
 * `ldapsync run`: schedules every profile whose sync is on, reloads the config when the file changes or on
 * `reload()` (SIGHUP), serves health, readiness and metrics over HTTP when configured, and stops gracefully.
 */
export class Daemon {
  readonly #options: DaemonOptions;
  readonly #settings: DaemonSettings;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics = new DaemonMetrics();
  readonly #scheduler: Scheduler;
  readonly #http: HttpServer<DaemonContext>;
  /** POST /v1/authenticate (served when http.authenticate is on); its backoff and LDAP connections outlive reloads. */
  readonly #auth = new AuthEndpoint();
  readonly #watcher: ConfigWatcher;
  /** Every store not yet closed: the one in force, and retired ones that syncs still use. */
  readonly #stores = new Set<SharedStore>();
  #snapshot: RuntimeSnapshot | undefined;
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #stopping = false;
  /** Reloads run one at a time; a request during one makes exactly one more. */
  #reloading: Promise<void> = Promise.resolve();
  #reloadQueued: ReloadTrigger | undefined;
  #lastRejectedText: string | undefined;

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#settings = options.settings ?? DEFAULT_SETTINGS;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#scheduler = new Scheduler({
      clock: this.#clock,
      logger: this.#logger,
      backoff: this.#settings.backoff,
      run: (name, trigger, signal) => this.#runProfile(name, trigger, signal),
      onOverlap: (name) => this.#metrics.recordOverlap(name),
    });
    this.#http = new HttpServer<DaemonContext>({ logger: this.#logger, lease: () => this.#lease() });
    this.#watcher = new ConfigWatcher({
      file: options.file,
      logger: this.#logger,
      debounceMs: this.#settings.reloadDebounceMs,
      onChange: () => void this.reload('watch'),
    });
    this.#http.addRoute('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'alive' }));
    this.#http.addRoute('GET', '/readyz', (_req, res) => this.#readiness(res));
    this.#http.addRoute('GET', '/metrics', async (_req, res) => {
      const text = await this.#metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.#metrics.registry.contentType });
      res.end(text);
    });
    for (const route of this.#auth.routes) this.addRoute(route.method, route.path, route.handler);
    for (const route of options.routes ?? []) this.addRoute(route.method, route.path, route.handler);
  }

  /**
   * Serves another endpoint on the daemon's listener (such as POST /v1/authenticate). The handler runs with the
   * config and store in force when the request arrived.
   */
  addRoute(method: HttpMethod, path: string, handler: DaemonRouteHandler): void {
    this.#http.addRoute(method, path, handler);
  }

  /** The config, plans and store in force; undefined before start. */
  get snapshot(): RuntimeSnapshot | undefined {
    return this.#snapshot;
  }

  /** Where the HTTP listener listens, if it does. */
  get httpAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#http.address();
  }

  /**
   * Loads the config, opens the store, schedules the profiles, starts the HTTP listener and the file watcher.
   * Throws an LdapsyncError (`config.invalid` for a bad file, after logging each error) if it cannot start; call
   * `stop()` afterwards in either case. Safe twice.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const logger = this.#logger;
    const { result, text } = await readConfig(this.#options.file, this.#options.env);
    this.#logWarnings(result.warnings);
    if (!result.ok) {
      this.#logRejected(result.errors, 'start');
      throw new LdapsyncError('config.invalid', `${result.errors.length} error(s) in ${this.#options.file}`, { file: this.#options.file });
    }
    const config = result.config;
    this.#applyLogLevel(config);

    const store = await this.#openStore(config);
    const snapshot: RuntimeSnapshot = Object.freeze({ config, plans: planSchedules(config), digests: profileDigests(config, text ?? ''), store });
    if (this.#stopping) return;
    this.#snapshot = snapshot;
    this.#metrics.setConfig(config.hash);

    for (const plan of snapshot.plans.values()) {
      const fresh = await this.#needsFirstRun(store.store, plan);
      this.#scheduler.set(plan.name, plan.timing, fresh ? { inMs: this.#settings.firstRunDelayMs, trigger: 'schedule' } : undefined);
    }
    if (config.http !== undefined) await this.#listen(config.http, true);
    await this.#watcher.start();

    logger.info(
      {
        event: 'daemon.started',
        pid: process.pid,
        file: config.file,
        hash: config.hash,
        store: store.label,
        http: this.#http.address(),
        profiles: [...snapshot.plans.values()].map((plan) => this.#describePlan(plan)),
      },
      `ldapsync daemon started with ${config.file}: ${snapshot.plans.size} scheduled profile(s)`,
    );
  }

  /**
   * Re-reads the config file. A valid file takes effect at once (syncs already running finish under the old one);
   * an invalid one is logged with every error and the file in force stays. Never throws.
   */
  reload(trigger: ReloadTrigger): Promise<void> {
    if (this.#stopping || this.#snapshot === undefined) return this.#reloading;
    if (this.#reloadQueued !== undefined) {
      // A signal outranks a file event: it also re-reads secrets when the file text is unchanged.
      if (trigger === 'signal') this.#reloadQueued = 'signal';
      return this.#reloading;
    }
    this.#reloadQueued = trigger;
    this.#reloading = this.#reloading.then(async () => {
      const queued = this.#reloadQueued ?? trigger;
      this.#reloadQueued = undefined;
      try {
        await this.#reload(queued);
      } catch (err) {
        this.#logger.error({ event: 'config.reload_failed', trigger: queued, err }, `reloading ${this.#options.file} failed`);
      }
    });
    return this.#reloading;
  }

  async #reload(trigger: ReloadTrigger): Promise<void> {
    const current = this.#snapshot;
    if (current === undefined || this.#stopping) return;
    const logger = this.#logger;
    const { result, text } = await readConfig(this.#options.file, this.#options.env);
    this.#logWarnings(result.warnings);
    if (!result.ok) {
      // A file event for the same broken text (an editor touching it again) is not worth a second report.
      const signature = result.errors.map((e) => formatConfigError(e)).join('\n');
      if (trigger === 'watch' && signature === this.#lastRejectedText) return;
      this.#lastRejectedText = signature;
      this.#logRejected(result.errors, trigger);
      this.#metrics.recordRejection(trigger);
      return;
    }
    // After a rejection, even the file in force coming back is news: the operator is told the file is good again.
    const afterRejection = this.#lastRejectedText !== undefined;
    this.#lastRejectedText = undefined;
    const config = result.config;
    if (trigger === 'watch' && config.hash === current.config.hash && !afterRejection) {
      logger.debug({ event: 'config.unchanged', hash: config.hash }, 'config file touched; its content is unchanged');
      return;
    }

    let store = current.store;
    if (storeKey(config.store) !== current.store.key) {
      try {
        store = await this.#openStore(config);
      } catch (err) {
        const error = toLdapsyncError(err, 'store.unavailable');
        logger.error(
          { event: 'config.rejected', trigger, file: config.file, hash: config.hash, kept: current.config.hash, errors: [{ code: error.code, message: error.message }] },
          `config rejected: cannot open its store (${error.message}); keeping the config in force`,
        );
        this.#metrics.recordRejection(trigger);
        return;
      }
    }
    if (this.#stopping) {
      if (store !== current.store) await this.#retireStore(store);
      return;
    }

    const snapshot: RuntimeSnapshot = Object.freeze({ config, plans: planSchedules(config), digests: profileDigests(config, text ?? ''), store });
    const plans = diffPlans(current.plans, snapshot.plans);
    const profiles = diffProfiles(current.digests, snapshot.digests);
    this.#snapshot = snapshot;
    this.#applyLogLevel(config);

    for (const name of plans.removed) {
      this.#scheduler.remove(name);
      logger.info({ event: 'profile.unscheduled', profile: name }, `${name}: no longer scheduled`);
    }
    for (const plan of snapshot.plans.values()) {
      const fresh = plans.added.includes(plan.name) || plans.enabled.includes(plan.name);
      if (!fresh && !plans.rescheduled.includes(plan.name)) continue;
      this.#scheduler.set(plan.name, plan.timing, fresh ? { inMs: this.#settings.firstRunDelayMs, trigger: 'reload' } : undefined);
      logger.info({ event: 'profile.scheduled', ...this.#describePlan(plan) }, `${plan.name}: scheduled on "${plan.schedule}"`);
    }

    await this.#applyHttp(current.config.http, config.http);
    if (store !== current.store) {
      logger.info({ event: 'store.switched', from: current.store.label, to: store.label }, `store is now ${store.label}`);
      void this.#retireStore(current.store);
    }

    this.#metrics.recordReload(trigger, config.hash);
    logger.info(
      {
        event: 'config.reloaded',
        trigger,
        file: config.file,
        hash: config.hash,
        previousHash: current.config.hash,
        added: profiles.added,
        removed: profiles.removed,
        changed: profiles.changed,
        scheduled: [...plans.added, ...plans.enabled],
        unscheduled: plans.removed,
        rescheduled: plans.rescheduled,
        logLevel: logger.level,
      },
      `config reloaded (${summarize(profiles)})`,
    );
  }

  /**
   * Stops scheduling, lets running syncs finish for up to the shutdown timeout, then aborts them (each rolls back)
   * and closes the listener and the stores. Never throws; safe twice.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.#stopped ??= this.#stop(reason);
    return this.#stopped;
  }

  async #stop(reason: string): Promise<void> {
    const logger = this.#logger;
    this.#stopping = true;
    this.#scheduler.stop();
    // A start or reload in progress may be opening a store or the watcher: let it finish so that all is closed below.
    await this.#started?.catch(() => undefined);
    await this.#reloading;
    await this.#watcher.stop();

    const running = this.#scheduler.running();
    logger.info({ event: 'daemon.stopping', reason, running }, running.length === 0 ? `stopping (${reason})` : `stopping (${reason}); waiting for ${running.join(', ')}`);
    if (!(await this.#scheduler.idle(this.#settings.shutdownTimeoutMs))) {
      logger.warn(
        { event: 'daemon.shutdown_timeout', running: this.#scheduler.running(), timeoutMs: this.#settings.shutdownTimeoutMs },
        `syncs still running after ${this.#settings.shutdownTimeoutMs} ms; aborting them (they roll back)`,
      );
      this.#scheduler.abortAll('the daemon is shutting down');
      if (!(await this.#scheduler.idle(ABORT_GRACE_MS))) {
        logger.error({ event: 'daemon.abort_timeout', running: this.#scheduler.running() }, 'aborted syncs did not end; closing the store under them');
      }
    }
    await this.#http.close();
    await this.#auth.close();
    await Promise.all([...this.#stores].map((store) => this.#retireStore(store)));
    logger.info({ event: 'daemon.stopped', reason }, 'ldapsync daemon stopped');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop('disposed');
  }

  async #runProfile(name: string, trigger: SyncTrigger, signal: AbortSignal): Promise<RunResult> {
    // The whole run (users, then groups) uses the snapshot in force when it began, whatever reloads come meanwhile.
    const snapshot = this.#snapshot;
    const plan = snapshot?.plans.get(name);
    const profile = snapshot?.config.servers.get(name);
    if (snapshot === undefined || plan === undefined || profile === undefined) return 'completed';
    const giveBack = snapshot.store.borrow();
    try {
      for (const [index, kind] of plan.kinds.entries()) {
        if (this.#stopping && index > 0) {
          this.#logger.info({ event: 'sync.skipped', profile: name, kind, reason: 'shutdown' }, `${name}: ${kind} sync not started, the daemon is stopping`);
          return 'completed';
        }
        const outcome = await runSync(
          { config: snapshot.config, profile, kind, trigger, dryRun: false, logger: this.#logger, signal },
          snapshot.store.store,
        );
        this.#metrics.recordRun(name, kind, outcome, this.#clock.now());
        const rest = plan.kinds.slice(index + 1);
        switch (outcome.status) {
          case 'succeeded':
            continue;
          case 'busy':
            // runSync has logged sync.skipped with the reason; the replica holding the lock does the work.
            return 'completed';
          case 'aborted':
            // A safety limit tripped: retrying soon would trip it again. The next scheduled run tries again.
            this.#skipRest(name, rest, 'users sync was aborted by a safety limit');
            return 'completed';
          case 'failed':
            this.#skipRest(name, rest, 'users sync failed');
            return 'failed';
          default: {
            const never: never = outcome;
            throw new Error(`unknown sync outcome ${String(never)}`);
          }
        }
      }
      return 'completed';
    } finally {
      giveBack();
    }
  }

  #skipRest(name: string, kinds: ReadonlyArray<string>, why: string): void {
    for (const kind of kinds) {
      this.#logger.info({ event: 'sync.skipped', profile: name, kind, reason: 'previous-kind' }, `${name}: ${kind} sync skipped this time: the ${why}`);
    }
  }

  /** A profile runs soon after start unless the store shows its latest run of every enabled kind succeeded. */
  async #needsFirstRun(store: Store, plan: ProfilePlan): Promise<boolean> {
    const runs = await store.lastRuns(plan.name, 50);
    return plan.kinds.some((kind) => runs.find((run) => run.kind === kind)?.status !== 'succeeded');
  }

  async #openStore(config: Config): Promise<SharedStore> {
    const store = await openStore(config.store, { logger: this.#logger });
    const shared = new SharedStore(store, config.store, this.#logger);
    this.#stores.add(shared);
    try {
      await store.failStaleRuns();
    } catch (err) {
      await this.#retireStore(shared);
      throw err;
    }
    return shared;
  }

  async #retireStore(store: SharedStore): Promise<void> {
    await store.retire();
    this.#stores.delete(store);
  }

  #lease(): Lease<DaemonContext> {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) throw new LdapsyncError('daemon.not_started', 'the daemon has not loaded its config yet');
    return {
      context: { config: snapshot.config, store: snapshot.store.store, logger: this.#logger },
      release: snapshot.store.borrow(),
    };
  }

  async #readiness(res: ServerResponse): Promise<void> {
    const snapshot = this.#snapshot;
    if (this.#stopping || snapshot === undefined) {
      sendJson(res, 503, { status: 'not ready', reason: this.#stopping ? 'stopping' : 'starting' });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        snapshot.store.store.lastRuns(undefined, 1),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
        }),
      ]);
      sendJson(res, 200, { status: 'ready', hash: snapshot.config.hash });
    } catch (err) {
      sendJson(res, 503, { status: 'not ready', reason: `store unreachable: ${err instanceof Error ? err.message : String(err)}` });
    } finally {
      clearTimeout(timer);
    }
  }

  /** On start a listener that cannot bind is fatal; on reload the old listener stays and the failure is logged. */
  async #listen(http: HttpConfig, fatal: boolean): Promise<void> {
    try {
      const address = await this.#http.listen(http.host, http.port);
      this.#logger.info({ event: 'http.listening', ...address }, `HTTP listener on ${address.host}:${address.port}`);
    } catch (err) {
      if (fatal) throw err;
      this.#logger.error({ event: 'http.listen_failed', host: http.host, port: http.port, err }, `cannot listen on ${http.host}:${http.port}; the listener stays where it was`);
    }
  }

  async #applyHttp(before: HttpConfig | undefined, after: HttpConfig | undefined): Promise<void> {
    if (after === undefined) {
      if (before !== undefined) {
        await this.#http.close();
        this.#logger.info({ event: 'http.closed' }, 'HTTP listener closed: no longer configured');
      }
      return;
    }
    if (before === undefined || before.host !== after.host || before.port !== after.port || this.#http.address() === undefined) {
      await this.#listen(after, false);
    }
  }

  #applyLogLevel(config: Config): void {
    // LOG_LEVEL in the environment wins over the file, at start and on every reload.
    const fromEnv = this.#options.env['LOG_LEVEL'];
    const level = fromEnv !== undefined && fromEnv !== '' ? fromEnv : config.log.level;
    if (this.#logger.level !== level) this.#logger.level = level;
  }

  #logWarnings(warnings: ReadonlyArray<ConfigError>): void {
    for (const warning of warnings) {
      this.#logger.warn({ event: 'config.warning', code: warning.code, ...warning.where, message: warning.message }, formatConfigError(warning));
    }
  }

  #logRejected(errors: ReadonlyArray<ConfigError>, trigger: ReloadTrigger | 'start'): void {
    const first = errors[0];
    const kept = this.#snapshot?.config.hash;
    this.#logger.error(
      {
        event: 'config.rejected',
        trigger,
        file: this.#options.file,
        kept,
        errors: errors.map((e) => ({ code: e.code, file: e.where.file, line: e.where.line, column: e.where.column, path: e.where.path, message: formatConfigError(e) })),
      },
      `${this.#options.file}: ${errors.length} error(s)${first === undefined ? '' : `, first: ${first.format()}`}; ${kept === undefined ? 'not starting' : 'the config in force stays'}`,
    );
  }

  #describePlan(plan: ProfilePlan): Record<string, unknown> {
    const next = this.#scheduler.nextRunAt(plan.name);
    return {
      profile: plan.name,
      kinds: plan.kinds,
      schedule: plan.schedule,
      timezone: plan.timezone,
      next: next === undefined ? undefined : new Date(next).toISOString(),
    };
  }
}

function summarize(diff: { readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string>; readonly changed: ReadonlyArray<string> }): string {
  const parts = [
    diff.added.length > 0 ? `added ${diff.added.join(', ')}` : undefined,
    diff.removed.length > 0 ? `removed ${diff.removed.join(', ')}` : undefined,
    diff.changed.length > 0 ? `changed ${diff.changed.join(', ')}` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'no profile changed' : parts.join('; ');
}
