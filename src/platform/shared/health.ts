/**
 * Readiness that answers at once and tells the truth while a dependency is frozen.
 *
 * A check that is run when /readyz is asked waits as long as the dependency does: a frozen PostgreSQL or Kafka
 * broker accepts the TCP connection and then says nothing, so the probe (and the orchestrator asking) hangs for
 * the client's timeouts. Here every probe runs in the background, on its own timer, and /readyz reads the last
 * results: it never waits on a dependency, and a probe still unanswered after its timeout counts as down.
 */
import { waitAtMost } from './timeout.ts';

export interface ProbeCheck {
  name: string;
  /** Resolves (true or nothing) when the dependency works; rejects, or resolves false or a reason, when not. */
  probe: () => Promise<void | boolean | string>;
  /** Default true. A dependency that is not required is reported but does not make the process unready. */
  required?: boolean;
  /** Pause between probes. Default 2 s. */
  intervalMs?: number;
  /** A probe unanswered for this long counts as down. Default 1 s. */
  timeoutMs?: number;
}

export interface StateCheck {
  name: string;
  /** Evaluated when readiness is asked: the component's own view of itself (a consumer, the sweeper). */
  state: () => { ok: boolean; detail?: Record<string, unknown> };
  required?: boolean;
}

export type HealthCheck = ProbeCheck | StateCheck;

export interface CheckReport {
  ok: boolean;
  required: boolean;
  /** Since when the check has had its current outcome. */
  since: string | null;
  /** When the last probe answered, and how long it took (probe checks only). */
  checked_at?: string | null;
  latency_ms?: number | null;
  error?: string;
  detail?: Record<string, unknown>;
}

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'not ready';
  /** Check name → ok, the short form. */
  checks: Record<string, boolean>;
  /** Names of the checks that are failing (required or not). */
  down: string[];
  details: Record<string, CheckReport>;
}

export interface Health {
  readiness(): Readiness;
  /** Starts the probes (the first run at once). */
  start(): void;
  stop(): void;
  /** Runs every probe now and resolves once each answered or timed out (tests, start-up). */
  refresh(): Promise<void>;
}

interface ProbeState {
  check: ProbeCheck;
  ok: boolean;
  error?: string;
  since: number | null;
  checkedAt: number | null;
  latencyMs: number | null;
  inFlightSince: number | null;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

const reason = (err: unknown): string =>
  err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);

export function createHealth(checks: HealthCheck[], opts: { now?: () => number } = {}): Health {
  const now = opts.now ?? Date.now;
  const probes: ProbeState[] = [];
  const states: Array<{ check: StateCheck; ok?: boolean; since: number | null }> = [];
  for (const check of checks) {
    if ('probe' in check)
      probes.push({ check, ok: false, error: 'not checked yet', since: null, checkedAt: null, latencyMs: null, inFlightSince: null });
    else states.push({ check, since: null });
  }
  let started = false;

  const record = (p: ProbeState, ok: boolean, error?: string) => {
    if (ok !== p.ok || p.since === null) p.since = now();
    p.ok = ok;
    if (ok) delete p.error;
    else p.error = error ?? 'failed';
  };

  const timeoutOf = (p: ProbeState) => p.check.timeoutMs ?? 1_000;

  const runOnce = (p: ProbeState): Promise<void> => {
    const startedAt = now();
    p.inFlightSince = startedAt;
    let settled = false;
    const run = (async () => {
      try {
        const result = await p.check.probe();
        if (result === false) record(p, false, 'check failed');
        else if (typeof result === 'string') record(p, false, result);
        else record(p, true);
      } catch (err) {
        record(p, false, reason(err));
      } finally {
        settled = true;
        p.checkedAt = now();
        p.latencyMs = p.checkedAt - startedAt;
        if (p.inFlightSince === startedAt) p.inFlightSince = null;
      }
    })();
    p.running = run;
    // The caller (the loop, refresh) stops waiting at the timeout; the probe itself may settle much later, and
    // the next one starts when it does or once it is clearly abandoned, so a hung client cannot pile probes up.
    return waitAtMost(run, timeoutOf(p)).then((inTime) => {
      if (!inTime && !settled) record(p, false, `no answer within ${timeoutOf(p)} ms`);
    });
  };

  const loop = (p: ProbeState) => {
    if (!started) return;
    const abandonAfter = 5 * timeoutOf(p);
    const startedAt = now();
    const previous = p.running;
    const next = async () => {
      // Still waiting on an older probe: give it until abandonAfter, then start a new one regardless.
      if (previous) await waitAtMost(previous, abandonAfter);
      await runOnce(p);
    };
    void next().finally(() => {
      if (!started) return;
      p.timer = setTimeout(() => loop(p), Math.max(0, (p.check.intervalMs ?? 2_000) - (now() - startedAt)));
      p.timer.unref();
    });
  };

  return {
    start() {
      if (started) return;
      started = true;
      for (const p of probes) loop(p);
    },
    stop() {
      started = false;
      for (const p of probes) clearTimeout(p.timer);
    },
    async refresh() {
      await Promise.all(probes.map((p) => runOnce(p)));
    },
    readiness() {
      const t = now();
      const details: Record<string, CheckReport> = {};
      for (const p of probes) {
        const pending = p.inFlightSince !== null && t - p.inFlightSince > timeoutOf(p);
        // A result older than a few intervals means the loop is stuck behind a hung probe: not evidence of health.
        const stale = p.checkedAt !== null && t - p.checkedAt > 3 * (p.check.intervalMs ?? 2_000) + timeoutOf(p);
        const ok = p.ok && !pending && !stale;
        const error = pending ? `no answer for ${t - p.inFlightSince!} ms` : stale ? `last answer ${t - p.checkedAt!} ms ago` : p.error;
        details[p.check.name] = {
          ok,
          required: p.check.required ?? true,
          since: p.since === null ? null : new Date(p.since).toISOString(),
          checked_at: p.checkedAt === null ? null : new Date(p.checkedAt).toISOString(),
          latency_ms: p.latencyMs,
          ...(ok || !error ? {} : { error }),
        };
      }
      for (const s of states) {
        let result: { ok: boolean; detail?: Record<string, unknown> };
        try {
          result = s.check.state();
        } catch (err) {
          result = { ok: false, detail: { error: reason(err) } };
        }
        if (result.ok !== s.ok || s.since === null) s.since = t;
        s.ok = result.ok;
        details[s.check.name] = {
          ok: result.ok,
          required: s.check.required ?? true,
          since: new Date(s.since).toISOString(),
          ...(result.detail ? { detail: result.detail } : {}),
        };
      }
      const names = Object.keys(details);
      const ready = names.every((n) => details[n]!.ok || !details[n]!.required);
      return {
        ready,
        status: ready ? 'ready' : 'not ready',
        checks: Object.fromEntries(names.map((n) => [n, details[n]!.ok])),
        down: names.filter((n) => !details[n]!.ok),
        details,
      };
    },
  };
}
