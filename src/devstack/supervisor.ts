import type { Log, ManagedProcess } from './process.ts';
import { exponentialDelay } from '../platform/shared/retry.ts';

/** How to run one long-lived process of the embedded stack or the shop. */
export interface ServiceDefinition {
  name: string;
  /** Spawns one incarnation. Called again, with the same ports and data, after each unexpected exit. */
  spawn(): ManagedProcess;
  /** Resolves once the incarnation serves (its port accepts, a query answers); rejects if it cannot. */
  ready?(proc: ManagedProcess): Promise<void>;
  /** The process to signal to freeze or kill the service itself (the postmaster, not the wrapper around it). */
  mainPid?(proc: ManagedProcess): number | undefined;
  /** A graceful stop; the default sends SIGTERM. Escalates to SIGKILL after `stopTimeoutMs` either way. */
  terminate?(proc: ManagedProcess): void;
  stopTimeoutMs?: number;
}

export interface Backoff {
  /** Wait before the first restart; doubled after each restart that did not stay up. */
  initialMs: number;
  maxMs: number;
  /** An incarnation that ran this long counts as healthy: the next failure starts from initialMs again. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, stableMs: 30_000 };

export type ServiceState = 'starting' | 'running' | 'backoff' | 'held' | 'stopped';

export interface ServiceInfo {
  name: string;
  state: ServiceState;
  /** The service's own process (see ServiceDefinition.mainPid), while it runs. */
  pid: number | undefined;
  /** Restarts after unexpected exits so far. */
  restarts: number;
  /** When the current incarnation was spawned (ISO), if one runs. */
  since: string | undefined;
}

export interface SupervisedService {
  readonly name: string;
  info(): ServiceInfo;
  /** First start: rejects (and leaves nothing running) if the service does not come up. */
  start(): Promise<void>;
  /** Stops the service and keeps it down until `start()` (a test holding the broker down, say). */
  hold(): Promise<void>;
  /** Stops the service for good. */
  stop(): Promise<void>;
  /** Resolves when an incarnation is next ready (at once if one is): for a test that killed it. */
  whenRunning(): Promise<void>;
}

/**
 * Keeps one service running: an incarnation that exits without being asked to is spawned again after a
 * backoff (0.5 s, 1 s, 2 s … 30 s; back to 0.5 s once one stayed up 30 s), with a log line for the death and
 * one for the recovery. Children are direct children of this process, so Node reaps each one the moment it
 * exits: none is left a zombie. One service dying never touches another.
 */
export function supervise(def: ServiceDefinition, opts: { log: Log; backoff?: Backoff }): SupervisedService {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const log = (line: string) => opts.log(`[supervisor] ${line}`);
  let state: ServiceState = 'stopped';
  let current: ManagedProcess | undefined;
  /** The current incarnation's main pid, noted once it is ready: a wrapper's child is gone by the time it exits. */
  let currentMain: number | undefined;
  let spawnedAt = 0;
  let restarts = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];
  /** Set once the first start succeeded: before that, a death is start()'s failure to report, not to restart. */
  let everRan = false;

  const running = () => {
    state = 'running';
    for (const w of waiters) w();
    waiters = [];
  };

  /** Spawns and waits for readiness; a failed readiness kills the incarnation (its exit handler decides what next). */
  const launch = async (): Promise<ManagedProcess> => {
    state = 'starting';
    const proc = def.spawn();
    current = proc;
    spawnedAt = Date.now();
    void proc.exited.then(() => onExit(proc));
    try {
      await def.ready?.(proc);
    } catch (err) {
      await stopProcess(proc);
      throw err;
    }
    if (proc === current) currentMain = mainPid(proc);
    return proc;
  };

  const onExit = (proc: ManagedProcess) => {
    if (proc !== current) return;
    current = undefined;
    const main = currentMain;
    currentMain = undefined;
    // Asked to stop, or the first start failed (start() reports that): nothing to restart.
    if (state === 'stopped' || state === 'held' || (state === 'starting' && !everRan)) return;
    const ranMs = Date.now() - spawnedAt;
    if (ranMs >= backoff.stableMs) failures = 0;
    const delay = exponentialDelay(failures + 1, backoff);
    failures += 1;
    const how = proc.child.signalCode ? `was killed by ${proc.child.signalCode}` : `exited with code ${proc.child.exitCode}`;
    log(`${def.name} (pid ${main ?? proc.pid}) ${how} after ${seconds(ranMs)}; restarting in ${seconds(delay)} (restart ${restarts + 1})`);
    state = 'backoff';
    timer = setTimeout(() => {
      timer = undefined;
      if (state !== 'backoff') return;
      restarts += 1;
      const began = Date.now();
      launch().then(
        (p) => {
          if (current !== p || state !== 'starting') return;
          running();
          log(`${def.name} is back (pid ${mainPid(p)}, ready in ${seconds(Date.now() - began)})`);
        },
        (err: Error) => log(`${def.name} did not come back: ${err.message.split('\n')[0]}`),
      );
    }, delay);
  };

  const mainPid = (p: ManagedProcess) => def.mainPid?.(p) ?? p.pid;

  const stopProcess = async (proc: ManagedProcess) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    const timeout = setTimeout(() => proc.child.kill('SIGKILL'), def.stopTimeoutMs ?? 8000);
    try {
      if (def.terminate) def.terminate(proc);
      else proc.child.kill('SIGTERM');
      await proc.exited;
    } finally {
      clearTimeout(timeout);
    }
  };

  const halt = async (next: 'held' | 'stopped') => {
    state = next;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const proc = current;
    if (proc) await stopProcess(proc);
  };

  return {
    name: def.name,
    info: () => ({
      name: def.name,
      state,
      pid: current && state !== 'backoff' ? mainPid(current) : undefined,
      restarts,
      since: current ? new Date(spawnedAt).toISOString() : undefined,
    }),
    async start() {
      if (state === 'running' || state === 'starting') return;
      failures = 0;
      const wasHeld = state === 'held';
      try {
        await launch();
      } catch (err) {
        state = 'stopped';
        throw err;
      }
      everRan = true;
      running();
      if (wasHeld) log(`${def.name} started again (pid ${current ? mainPid(current) : '?'})`);
    },
    hold: () => halt('held'),
    stop: () => halt('stopped'),
    whenRunning: () => (state === 'running' ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
