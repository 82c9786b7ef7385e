/**
 * State of one consumer group, following the Java broker's GroupMetadata: the group is Empty (no members),
 * PreparingRebalance (collecting JoinGroups), CompletingRebalance (generation chosen, waiting for the
 * leader's SyncGroup) or Stable. Members parked in a JoinGroup or SyncGroup are kept alive regardless of their
 * session timeout, because they cannot heartbeat while their connection waits for the answer.
 */
import type { ErrorCodeValue } from '../protocol/constants.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  error: ErrorCodeValue;
  generationId: number;
  protocol: string;
  leaderId: string;
  memberId: string;
  /** Only the leader receives the member list (it computes the assignment). */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  error: ErrorCodeValue;
  assignment: Buffer;
}

export interface Member {
  id: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Protocol[];
  assignment: Buffer;
  awaitingJoin: ((r: JoinResult) => void) | null;
  awaitingSync: ((r: SyncResult) => void) | null;
  sessionDeadline: number;
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocol: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED (JoinGroup v4+) that have not joined yet, with deadlines. */
  readonly pending = new Map<string, number>();
  joinTimer: NodeJS.Timeout | null = null;
  inInitialDelay = false;
  newMemberAdded = false;

  constructor(readonly id: string) {}

  allMembersJoined(): boolean {
    if (this.pending.size > 0) return false;
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return true;
  }

  /** The rebalance waits for the slowest member's rebalance timeout, as in Kafka. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocol names every member (optionally ignoring one) supports. */
  private commonProtocols(except?: Member): Set<string> | null {
    const others = [...this.members.values()].filter((m) => m !== except);
    if (others.length === 0) return null;
    const common = new Set(others[0]!.protocols.map((p) => p.name));
    for (const m of others.slice(1)) {
      const names = new Set(m.protocols.map((p) => p.name));
      for (const n of common) if (!names.has(n)) common.delete(n);
    }
    return common;
  }

  /** A (re)joining member must share the group's protocol type and at least one protocol with all others. */
  accepts(protocolType: string, protocols: readonly Protocol[], self?: Member): boolean {
    const common = this.commonProtocols(self);
    if (common === null) return true;
    if (this.protocolType !== null && protocolType !== this.protocolType) return false;
    return protocols.some((p) => common.has(p.name));
  }

  /** Each member votes for its most preferred common protocol; the most voted wins (Kafka's rule). */
  selectProtocol(): string {
    const common = this.commonProtocols() ?? new Set<string>();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => common.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) [best, bestVotes] = [name, n];
    }
    return best;
  }

  metadataFor(member: Member): Buffer {
    return member.protocols.find((p) => p.name === this.protocol)?.metadata ?? Buffer.alloc(0);
  }
}

export function sameProtocols(a: readonly Protocol[], b: readonly Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}
