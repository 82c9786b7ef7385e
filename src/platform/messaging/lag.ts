/**
 * Consumer-group lag for GET /ops/lag: how far each group's committed position trails the end of each
 * partition. Since groups commit only after their effect is durable (§4), lag is exactly the work not yet
 * reflected in the read model, the mailbox or the sagas.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from './log.ts';
import type { ManagedAdmin } from './managed.ts';
import type { Metrics } from '../shared/metrics.ts';
import { waitAtMost, withTimeout } from '../shared/timeout.ts';

export interface PartitionLag {
  group: string;
  partition: number;
  /** Next offset the group will read; null when it has never committed on this partition. */
  committed_offset: number | null;
  /** High watermark: the offset the next produced record will get. */
  end_offset: number;
  lag: number;
}

export interface GroupLag {
  group: string;
  /** Coordinator state, e.g. Stable, PreparingRebalance, Empty (no live member), Dead (unknown group). */
  state: string;
  members: number;
  partitions: PartitionLag[];
  total_lag: number;
}

export interface LagReport {
  topic: string;
  groups: GroupLag[];
  total_lag: number;
}

/** Opens and closes its own admin connection; see consumerLagWith to reuse one. */
export async function consumerLag(kafka: Kafka, groupIds: string[], topic: string): Promise<LagReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await consumerLagWith(admin, groupIds, topic);
  } finally {
    await admin.disconnect();
  }
}

export async function consumerLagWith(admin: Admin, groupIds: string[], topic: string): Promise<LagReport> {
  const [ends, descriptions, ...committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.describeGroups(groupIds),
    ...groupIds.map((groupId) => admin.fetchOffsets({ groupId, topics: [topic] })),
  ]);
  const groups = groupIds.map((group, i): GroupLag => {
    const offsets = new Map((committed[i]?.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const partitions = ends
      .map(({ partition, high, low }): PartitionLag => {
        const end = Number(high);
        const c = offsets.get(partition);
        const hasCommit = c !== undefined && c >= 0;
        // Without a commit a group starts from the earliest retained record (fromBeginning), and records
        // below the log start were deleted by retention: neither counts as work left.
        const from = Math.max(hasCommit ? c : 0, Number(low));
        return { group, partition, committed_offset: hasCommit ? c : null, end_offset: end, lag: Math.max(0, end - from) };
      })
      .sort((a, b) => a.partition - b.partition);
    const description = descriptions.groups.find((g) => g.groupId === group);
    return {
      group,
      state: description?.state ?? 'Unknown',
      members: description?.members.length ?? 0,
      partitions,
      total_lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    };
  });
  return { topic, groups, total_lag: groups.reduce((sum, g) => sum + g.total_lag, 0) };
}

/** What GET /ops/lag answers: the last report, and how fresh it is. */
export interface LagView {
  topic: string;
  groups: GroupLag[];
  /** null until a first report succeeded. */
  total_lag: number | null;
  /** When the report was taken; null if none ever was. */
  as_of: string | null;
  /** True when this is an older report because the broker did not answer in time (or failed). */
  stale: boolean;
  error?: string;
}

export interface LagMonitorOptions {
  admin: ManagedAdmin;
  groups: string[];
  topic: string;
  /** How long a caller waits for a fresh report before getting the last one. Default 1.5 s. */
  waitMs?: number;
  /** A report younger than this is served as is. Default 1 s. */
  maxAgeMs?: number;
  /** One fetch is abandoned (and the admin client replaced) after this. Default 10 s. */
  fetchTimeoutMs?: number;
  log: Logger;
  /** Called with every fresh report (metrics). */
  onReport?: (report: LagReport) => void;
}

export interface LagMonitor {
  /** Never rejects and never waits longer than waitMs: a frozen or absent broker yields the last report, stale. */
  current(): Promise<LagView>;
}

/**
 * Lag as an operator needs it during an incident: while the broker is frozen or gone, an answer saying what was
 * last known and since when, at once, instead of a request that hangs for the client's timeouts and then fails.
 */
export function createLagMonitor(opts: LagMonitorOptions): LagMonitor {
  const topic = opts.topic;
  const waitMs = opts.waitMs ?? 1_500;
  const maxAgeMs = opts.maxAgeMs ?? 1_000;
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? 10_000;
  let last: { report: LagReport; at: number } | undefined;
  let lastError: string | undefined;
  let inFlight: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        const report = await withTimeout(
          opts.admin.use((admin) => consumerLagWith(admin, opts.groups, topic)),
          fetchTimeoutMs,
          () => new Error(`no lag report from Kafka within ${fetchTimeoutMs} ms`),
        );
        last = { report, at: Date.now() };
        lastError = undefined;
        opts.onReport?.(report);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        // A hung request is no proof the client is wedged, but a fresh one costs little and may be.
        opts.admin.replace(`lag report failed: ${lastError}`);
        opts.log.debug('lag report failed', { error: lastError });
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const view = (stale: boolean): LagView =>
    last
      ? { ...last.report, as_of: new Date(last.at).toISOString(), stale, ...(stale && lastError ? { error: lastError } : {}) }
      : { topic, groups: [], total_lag: null, as_of: null, stale: true, error: lastError ?? 'no lag report yet' };

  return {
    async current() {
      if (last && Date.now() - last.at < maxAgeMs) return view(false);
      const started = Date.now();
      await waitAtMost(refresh(), waitMs);
      return view(!last || last.at < started);
    },
  };
}

/** Lag gauges as Prometheus wants them: one series per group, and per group and partition. */
export function recordLag(metrics: Pick<Metrics, 'gauge'>, report: LagReport): void {
  const total = metrics.gauge('kafka_consumer_group_lag', 'Records on the topic a consumer group has not committed yet', ['group']);
  const byPartition = metrics.gauge('kafka_consumer_group_partition_lag', 'Records a consumer group has not committed yet, per partition', [
    'group',
    'partition',
  ]);
  const members = metrics.gauge('kafka_consumer_group_members', 'Live members of a consumer group', ['group']);
  for (const g of report.groups) {
    total.set(g.total_lag, { group: g.group });
    members.set(g.members, { group: g.group });
    for (const p of g.partitions) byPartition.set(p.lag, { group: g.group, partition: String(p.partition) });
  }
}
