/**
 * JoinGroup v0–v5, SyncGroup v0–v3, Heartbeat v0–v3 and LeaveGroup v0–v3: wire encoding only; the rules
 * live in the GroupCoordinator. JoinGroup and SyncGroup may park until the rebalance completes; since a
 * connection's requests are answered in order, that connection waits too (kafkajs and librdkafka send
 * nothing else to the coordinator while joining).
 */
import { ApiKey } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

export const joinGroup: ApiHandler = {
  key: ApiKey.JoinGroup,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const groupId = r.string();
    const sessionTimeoutMs = r.int32();
    // v0 has no separate rebalance timeout; the session timeout bounds the rebalance.
    const rebalanceTimeoutMs = v >= 1 ? r.int32() : sessionTimeoutMs;
    const memberId = r.string();
    const groupInstanceId = v >= 5 ? r.nullableString() : null;
    const protocolType = r.string();
    const protocols = r.array((r) => ({ name: r.string(), metadata: Buffer.from(r.bytes()) }));

    const result = await ctx.broker.coordinator.join({
      groupId,
      memberId,
      groupInstanceId,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType,
      protocols,
      requireKnownMemberId: v >= 4,
    });
    if (ctx.signal.aborted) return null;
    return respond(ctx, (w) => {
      if (v >= 2) w.int32(NO_THROTTLE);
      w.int16(result.error).int32(result.generationId).string(result.protocol).string(result.leaderId).string(result.memberId);
      w.array(result.members, (w, m) => {
        w.string(m.memberId);
        if (v >= 5) w.nullableString(m.groupInstanceId);
        w.bytes(m.metadata);
      });
    });
  },
};

export const syncGroup: ApiHandler = {
  key: ApiKey.SyncGroup,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx: RequestContext, r: Reader) {
    const groupId = r.string();
    const generationId = r.int32();
    const memberId = r.string();
    if (ctx.apiVersion >= 3) r.nullableString(); // group instance id: static membership is not supported
    const assignments = r.array((r) => ({ memberId: r.string(), assignment: r.bytes() }));
    const result = await ctx.broker.coordinator.sync({ groupId, generationId, memberId, assignments });
    if (ctx.signal.aborted) return null;
    return respond(ctx, (w) => {
      if (ctx.apiVersion >= 1) w.int32(NO_THROTTLE);
      w.int16(result.error).bytes(result.assignment);
    });
  },
};

export const heartbeat: ApiHandler = {
  key: ApiKey.Heartbeat,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  handle(ctx: RequestContext, r: Reader) {
    const groupId = r.string();
    const generationId = r.int32();
    const memberId = r.string();
    const error = ctx.broker.coordinator.heartbeat(groupId, memberId, generationId);
    return respond(ctx, (w) => {
      if (ctx.apiVersion >= 1) w.int32(NO_THROTTLE);
      w.int16(error);
    });
  },
};

export const leaveGroup: ApiHandler = {
  key: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 3,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const groupId = r.string();
    // v3 (KIP-345) leaves in batches; earlier versions name a single member.
    const members =
      v >= 3
        ? r.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }))
        : [{ memberId: r.string(), groupInstanceId: null }];
    const errors = ctx.broker.coordinator.leave(
      groupId,
      members.map((m) => m.memberId),
    );
    return respond(ctx, (w) => {
      if (v >= 1) w.int32(NO_THROTTLE);
      if (v < 3) {
        w.int16(errors[0]!);
        return;
      }
      const outcomes = members.map((m, i) => ({ ...m, error: errors[i]! }));
      w.int16(0).array(outcomes, (w, m) => w.string(m.memberId).nullableString(m.groupInstanceId).int16(m.error));
    });
  },
};
