/**
 * The group coordinator: membership, generations and rebalances, modelled on the Java broker's
 * GroupCoordinator so that kafkajs and librdkafka see the behaviour they were written against.
 *
 * - A rebalance starts when a member joins, leaves, expires or changes its subscription. Existing members
 *   learn of it from REBALANCE_IN_PROGRESS on their heartbeats and rejoin; the JoinGroup responses go out
 *   together once every member has rejoined, or when the rebalance timeout expires (members that did not
 *   rejoin are then removed).
 * - The first rebalance of an empty group waits `initialRebalanceDelayMs` (extended while new members keep
 *   arriving, up to the rebalance timeout), so a fleet of consumers starting together gets one generation.
 * - The leader's SyncGroup carries the assignment; followers that sync first wait for it.
 * - Members that neither heartbeat nor wait in a JoinGroup/SyncGroup for their session timeout are expired.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, type ErrorCodeValue } from '../protocol/constants.ts';
import type { OffsetStore } from '../storage/offsets.ts';
import { Group, sameProtocols, type JoinResult, type Member, type Protocol, type SyncResult } from './group.ts';

export interface CoordinatorOptions {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  offsets: OffsetStore;
  log: (line: string) => void;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: a member without an id first gets one with MEMBER_ID_REQUIRED, then joins with it. */
  requireKnownMemberId: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

const EMPTY = Buffer.alloc(0);
const SWEEP_INTERVAL_MS = 100;

const joinError = (error: ErrorCodeValue, memberId: string): JoinResult => ({
  error,
  generationId: -1,
  protocol: '',
  leaderId: '',
  memberId,
  members: [],
});

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: CoordinatorOptions) {
    this.sweeper = setInterval(() => this.expireMembers(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, (g = new Group(id)));
    return g;
  }

  private log(group: Group, line: string): void {
    this.opts.log(`group ${group.id}: ${line}`);
  }

  join(req: JoinRequest): JoinResult | Promise<JoinResult> {
    if (req.groupId === '') return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    if (req.sessionTimeoutMs < this.opts.minSessionTimeoutMs || req.sessionTimeoutMs > this.opts.maxSessionTimeoutMs) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    if (req.protocolType === '' || req.protocols.length === 0) return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    const group = this.group(req.groupId);
    const existing = req.memberId ? group.members.get(req.memberId) : undefined;
    if (!group.accepts(req.protocolType, req.protocols, existing)) return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);

    if (req.memberId === '') {
      const memberId = `${req.clientId || 'member'}-${randomUUID()}`;
      if (!req.requireKnownMemberId) return this.addMember(group, memberId, req);
      group.pending.set(memberId, Date.now() + req.sessionTimeoutMs);
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId);
    }
    if (group.pending.delete(req.memberId)) return this.addMember(group, req.memberId, req);
    if (!existing) return joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId);
    return this.rejoin(group, existing, req);
  }

  private addMember(group: Group, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const member: Member = {
      id: memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: null,
      awaitingSync: null,
      sessionDeadline: 0,
    };
    group.members.set(memberId, member);
    if (group.protocolType === null) {
      group.protocolType = req.protocolType;
      this.opts.offsets.rememberGroupType(group.id, req.protocolType);
    }
    group.newMemberAdded = true;
    const joined = this.park(member);
    if (group.state === 'PreparingRebalance') this.maybeCompleteJoin(group);
    else this.prepareRebalance(group, `member ${memberId} joined`);
    return joined;
  }

  private rejoin(group: Group, member: Member, req: JoinRequest): JoinResult | Promise<JoinResult> {
    const changed = !sameProtocols(member.protocols, req.protocols);
    const update = (): Promise<JoinResult> => {
      member.protocols = req.protocols;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      return this.park(member);
    };
    if (group.state === 'PreparingRebalance') {
      const joined = update();
      this.maybeCompleteJoin(group);
      return joined;
    }
    // The member only lost our JoinGroup response: answer again from the current generation. A leader
    // rejoining a stable group, though, means its subscription's metadata changed and it wants a new plan.
    const needsRebalance = changed || (group.state === 'Stable' && member.id === group.leaderId);
    if (!needsRebalance) {
      this.touch(member);
      return this.joinResult(group, member);
    }
    const joined = update();
    this.prepareRebalance(group, changed ? `member ${member.id} changed its protocols` : `leader ${member.id} rejoined`);
    return joined;
  }

  /**
   * Holds the JoinGroup response until the rebalance completes. A JoinGroup superseded by a retry is answered
   * with REBALANCE_IN_PROGRESS, so no request is ever left without a response.
   */
  private park(member: Member): Promise<JoinResult> {
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.id));
    return new Promise((resolve) => {
      member.awaitingJoin = resolve;
    });
  }

  private touch(member: Member): void {
    member.sessionDeadline = Date.now() + member.sessionTimeoutMs;
  }

  private joinResult(group: Group, member: Member): JoinResult {
    const isLeader = member.id === group.leaderId;
    return {
      error: ErrorCode.NONE,
      generationId: group.generationId,
      protocol: group.protocol ?? '',
      leaderId: group.leaderId ?? '',
      memberId: member.id,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.id, groupInstanceId: m.groupInstanceId, metadata: group.metadataFor(m) }))
        : [],
    };
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      for (const m of group.members.values()) {
        const reply = m.awaitingSync;
        m.awaitingSync = null;
        reply?.({ error: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
      }
    }
    const initial = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.clearJoinTimer(group);
    this.log(group, `preparing rebalance (${reason})`);
    const timeout = group.rebalanceTimeoutMs();
    if (initial) {
      group.newMemberAdded = false;
      const delay = Math.min(this.opts.initialRebalanceDelayMs, timeout);
      this.scheduleInitialJoin(group, delay, timeout - delay);
    } else {
      group.joinTimer = setTimeout(() => this.completeJoin(group), timeout);
      this.maybeCompleteJoin(group);
    }
  }

  private scheduleInitialJoin(group: Group, delay: number, remaining: number): void {
    group.inInitialDelay = true;
    group.joinTimer = setTimeout(() => {
      if (group.newMemberAdded && remaining > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.opts.initialRebalanceDelayMs, remaining);
        this.scheduleInitialJoin(group, next, remaining - next);
        return;
      }
      group.inInitialDelay = false;
      this.completeJoin(group);
    }, delay);
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
    group.inInitialDelay = false;
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state === 'PreparingRebalance' && !group.inInitialDelay && group.allMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    this.clearJoinTimer(group);
    for (const m of [...group.members.values()]) {
      if (!m.awaitingJoin) this.removeMember(group, m, 'it did not rejoin within the rebalance timeout');
    }
    group.generationId++;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocol = null;
      group.leaderId = null;
      this.log(group, `generation ${group.generationId} is empty`);
      return;
    }
    group.protocol = group.selectProtocol();
    if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    this.log(
      group,
      `generation ${group.generationId} with ${group.members.size} members (protocol ${group.protocol}, leader ${group.leaderId})`,
    );
    for (const m of group.members.values()) {
      const reply = m.awaitingJoin!;
      m.awaitingJoin = null;
      m.assignment = EMPTY;
      this.touch(m);
      reply(this.joinResult(group, m));
    }
  }

  private removeMember(group: Group, member: Member, why: string): void {
    group.members.delete(member.id);
    this.log(group, `removed member ${member.id}: ${why}`);
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.id));
    member.awaitingSync?.({ error: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY });
    member.awaitingJoin = null;
    member.awaitingSync = null;
  }

  private membersRemoved(group: Group, reason: string): void {
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, reason);
    else this.maybeCompleteJoin(group);
  }

  sync(req: SyncRequest): SyncResult | Promise<SyncResult> {
    const group = this.groups.get(req.groupId);
    const member = group?.members.get(req.memberId);
    if (!group || !member) return { error: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY };
    if (req.generationId !== group.generationId) return { error: ErrorCode.ILLEGAL_GENERATION, assignment: EMPTY };
    this.touch(member);
    if (group.state === 'PreparingRebalance') return { error: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY };
    if (group.state === 'Stable') return { error: ErrorCode.NONE, assignment: member.assignment };

    const synced = new Promise<SyncResult>((resolve) => {
      member.awaitingSync = resolve;
    });
    if (member.id === group.leaderId) {
      const plan = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      group.state = 'Stable';
      this.log(group, `generation ${group.generationId} is stable`);
      for (const m of group.members.values()) {
        m.assignment = Buffer.from(plan.get(m.id) ?? EMPTY);
        const reply = m.awaitingSync;
        m.awaitingSync = null;
        this.touch(m);
        reply?.({ error: ErrorCode.NONE, assignment: m.assignment });
      }
    }
    return synced;
  }

  heartbeat(groupId: string, memberId: string, generationId: number): ErrorCodeValue {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(member);
    return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(groupId: string, memberIds: readonly string[]): ErrorCodeValue[] {
    const group = this.groups.get(groupId);
    if (!group) return memberIds.map(() => ErrorCode.UNKNOWN_MEMBER_ID);
    let removed = false;
    const errors = memberIds.map((id) => {
      const member = group.members.get(id);
      if (member) {
        this.removeMember(group, member, 'it left the group');
        removed = true;
        return ErrorCode.NONE;
      }
      return group.pending.delete(id) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    });
    if (removed) this.membersRemoved(group, 'a member left');
    else this.maybeCompleteJoin(group);
    return errors;
  }

  /**
   * Kafka's rules for OffsetCommit: a commit without a generation is only allowed while the group has no
   * members (admin tools, manual consumers); otherwise the committer must be a member of the current
   * generation. During CompletingRebalance the partitions are being handed over, so commits are refused with
   * REBALANCE_IN_PROGRESS; during PreparingRebalance the old generation still owns them, so its members may
   * commit what they processed before rejoining (this keeps duplicates after a rebalance to a minimum).
   */
  checkCommit(groupId: string, memberId: string, generationId: number): ErrorCodeValue {
    const group = this.groups.get(groupId);
    if (generationId < 0 && (!group || group.members.size === 0)) return ErrorCode.NONE;
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(member);
    return ErrorCode.NONE;
  }

  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    const stored = this.opts.offsets.groupType(groupId);
    if (!group) {
      const known = stored !== undefined || this.opts.offsets.forGroup(groupId).length > 0;
      return { groupId, state: known ? 'Empty' : 'Dead', protocolType: stored ?? '', protocol: '', members: [] };
    }
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? stored ?? '',
      protocol: group.protocol ?? '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.id,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        // Kafka describes metadata and assignment only once a generation has been chosen.
        metadata: group.state === 'PreparingRebalance' ? EMPTY : group.metadataFor(m),
        assignment: group.state === 'Stable' ? m.assignment : EMPTY,
      })),
    };
  }

  list(): { groupId: string; protocolType: string }[] {
    const ids = new Set([...this.groups.keys(), ...this.opts.offsets.groupsWithOffsets()]);
    return [...ids].map((groupId) => ({
      groupId,
      protocolType: this.groups.get(groupId)?.protocolType ?? this.opts.offsets.groupType(groupId) ?? '',
    }));
  }

  private expireMembers(now: number): void {
    for (const group of this.groups.values()) {
      let removed = false;
      for (const m of [...group.members.values()]) {
        if (m.awaitingJoin || m.awaitingSync || now <= m.sessionDeadline) continue;
        this.removeMember(group, m, `session timeout of ${m.sessionTimeoutMs} ms expired`);
        removed = true;
      }
      let pendingDropped = false;
      for (const [id, deadline] of group.pending) {
        if (now > deadline) pendingDropped = group.pending.delete(id);
      }
      if (removed) this.membersRemoved(group, 'a member expired');
      else if (pendingDropped) this.maybeCompleteJoin(group);
    }
  }

  /** Answers parked requests (their connections are closing anyway) and stops every timer. */
  close(): void {
    clearInterval(this.sweeper);
    for (const group of this.groups.values()) {
      this.clearJoinTimer(group);
      for (const m of group.members.values()) {
        m.awaitingJoin?.(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, m.id));
        m.awaitingSync?.({ error: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY });
        m.awaitingJoin = null;
        m.awaitingSync = null;
      }
    }
  }
}
