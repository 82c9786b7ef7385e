/**
 * Consumer-group lag for GET /ops/lag: how far each group's committed position trails the end of each
 * partition. Since groups commit only after their effect is durable (§4), lag is exactly the work not yet
 * reflected in the read model, the mailbox or the sagas.
 */
import type { Admin, Kafka } from 'kafkajs';
import { TOPIC_EVENTS } from '../shared/envelope.ts';

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
export async function consumerLag(kafka: Kafka, groupIds: string[], topic: string = TOPIC_EVENTS): Promise<LagReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await consumerLagWith(admin, groupIds, topic);
  } finally {
    await admin.disconnect();
  }
}

export async function consumerLagWith(admin: Admin, groupIds: string[], topic: string = TOPIC_EVENTS): Promise<LagReport> {
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
