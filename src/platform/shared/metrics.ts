/**
 * Prometheus metrics for every process, on prom-client (a kept library: exposition format, histograms, the
 * default process metrics). Each process makes its own registry: no module-level default registry, so tests and
 * several components in one process never see each other's series.
 *
 * The call sites stay small and label-first: `metrics.counter(name, help).inc(labels, by)`. Label names are
 * fixed by the first use when not given (prom-client needs them up front); using another set later throws,
 * which is what we want to learn in a test rather than from a silently split series.
 */
import client from 'prom-client';

type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
  /** Drops every series of this gauge (e.g. partitions no longer assigned). */
  reset(): void;
}
export interface Histogram {
  /** `value` in the histogram's unit (seconds for *_seconds). */
  observe(labels: Labels, value: number): void;
}

export interface MetricsOptions {
  /** Add Node's process metrics (CPU, memory, event loop lag, GC) — once per process, not in unit tests. */
  processMetrics?: boolean;
  /** Labels on every series, e.g. { process: 'worker' }. */
  defaultLabels?: Labels;
}

export interface Metrics {
  counter(name: string, help: string, labelNames?: string[]): Counter;
  gauge(name: string, help: string, labelNames?: string[]): Gauge;
  histogram(name: string, help: string, opts?: { labelNames?: string[]; buckets?: number[] }): Histogram;
  /** Runs just before every scrape: for gauges read from a component's state (lag, outbox depth). */
  onScrape(collect: () => void | Promise<void>): void;
  render(): Promise<string>;
  contentType: string;
}

/** Seconds; from a fast local command (a few ms) to a command that waited out a Kafka publish deadline (5 s). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new client.Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.processMetrics) client.collectDefaultMetrics({ register: registry });
  const made = new Map<string, { kind: string; metric: unknown }>();
  const collectors: Array<() => void | Promise<void>> = [];

  /** One metric per name: a second call with the same name and kind returns the first. */
  function lazy<M>(name: string, kind: string, build: (labelNames: string[]) => M): (labels: Labels) => M {
    const defined = made.get(name);
    if (defined && defined.kind !== kind) throw new Error(`metric ${name} is a ${defined.kind}, not a ${kind}`);
    return (labels) => {
      const existing = made.get(name);
      if (existing) {
        if (existing.kind !== kind) throw new Error(`metric ${name} is a ${existing.kind}, not a ${kind}`);
        return existing.metric as M;
      }
      const metric = build(Object.keys(labels).sort());
      made.set(name, { kind, metric });
      return metric;
    };
  }

  return {
    counter(name, help, labelNames) {
      const get = lazy(
        name,
        'counter',
        (inferred) => new client.Counter({ name, help, labelNames: labelNames ?? inferred, registers: [registry] }),
      );
      if (labelNames) get({});
      return { inc: (labels = {}, by = 1) => get(labels).inc(labels, by) };
    },
    gauge(name, help, labelNames) {
      const get = lazy(
        name,
        'gauge',
        (inferred) => new client.Gauge({ name, help, labelNames: labelNames ?? inferred, registers: [registry] }),
      );
      if (labelNames) get({});
      return {
        set: (value, labels = {}) => get(labels).set(labels, value),
        reset: () => (made.get(name)?.metric as client.Gauge | undefined)?.reset(),
      };
    },
    histogram(name, help, hopts = {}) {
      const get = lazy(
        name,
        'histogram',
        (inferred) =>
          new client.Histogram({
            name,
            help,
            labelNames: hopts.labelNames ?? inferred,
            buckets: hopts.buckets ?? LATENCY_BUCKETS,
            registers: [registry],
          }),
      );
      if (hopts.labelNames) get({});
      return { observe: (labels, value) => get(labels).observe(labels, value) };
    },
    onScrape(collect) {
      collectors.push(collect);
    },
    async render() {
      // A collector that fails must not take the whole scrape down: the other series are still worth having.
      await Promise.allSettled(collectors.map(async (c) => c()));
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}
