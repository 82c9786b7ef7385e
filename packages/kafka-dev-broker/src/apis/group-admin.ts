/**
 * FindCoordinator v0–v2, DescribeGroups v0–v4 and ListGroups v0–v2. This broker coordinates every group,
 * so FindCoordinator always names itself; transaction coordinators do not exist here.
 */
import { ApiKey, AUTHORIZED_OPERATIONS_OMITTED, ErrorCode, NODE_ID } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

const COORDINATOR_TYPE_GROUP = 0;

export const findCoordinator: ApiHandler = {
  key: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    r.string(); // key: the group id; any group maps to this broker
    const keyType = v >= 1 ? r.int8() : COORDINATOR_TYPE_GROUP;
    const supported = keyType === COORDINATOR_TYPE_GROUP;
    return respond(ctx, (w) => {
      if (v >= 1) w.int32(NO_THROTTLE);
      w.int16(supported ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (v >= 1) w.nullableString(supported ? null : 'transactions are not supported by the dev broker');
      w.int32(supported ? NODE_ID : -1)
        .string(supported ? ctx.advertised.host : '')
        .int32(supported ? ctx.advertised.port : -1);
    });
  },
};

export const describeGroups: ApiHandler = {
  key: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const groups = r.array((r) => r.string()).map((id) => ctx.broker.coordinator.describe(id));
    return respond(ctx, (w) => {
      if (v >= 1) w.int32(NO_THROTTLE);
      w.array(groups, (w, g) => {
        w.int16(ErrorCode.NONE).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocol);
        w.array(g.members, (w, m) => {
          w.string(m.memberId);
          if (v >= 4) w.nullableString(m.groupInstanceId);
          w.string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment);
        });
        if (v >= 3) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
      });
    });
  },
};

export const listGroups: ApiHandler = {
  key: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx: RequestContext) {
    const groups = ctx.broker.coordinator.list();
    return respond(ctx, (w) => {
      if (ctx.apiVersion >= 1) w.int32(NO_THROTTLE);
      w.int16(ErrorCode.NONE).array(groups, (w, g) => w.string(g.groupId).string(g.protocolType));
    });
  },
};
