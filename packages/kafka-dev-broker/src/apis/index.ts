/** Every API the broker answers, in one table; ApiVersions advertises exactly these version ranges. */
import type { ApiHandler } from './api.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { fetch } from './fetch.ts';
import { describeGroups, findCoordinator, listGroups } from './group-admin.ts';
import { heartbeat, joinGroup, leaveGroup, syncGroup } from './group-membership.ts';
import { initProducerId } from './init-producer-id.ts';
import { listOffsets } from './list-offsets.ts';
import { metadata } from './metadata.ts';
import { offsetCommit, offsetFetch } from './offsets.ts';
import { produce } from './produce.ts';
import { createTopics, deleteTopics } from './topics-admin.ts';

export function apiTable(): Map<number, ApiHandler> {
  const apis = [
    produce,
    fetch,
    listOffsets,
    metadata,
    offsetCommit,
    offsetFetch,
    findCoordinator,
    joinGroup,
    heartbeat,
    leaveGroup,
    syncGroup,
    describeGroups,
    listGroups,
    createTopics,
    deleteTopics,
    initProducerId,
  ];
  const all = [...apis, apiVersionsHandler(apis)];
  return new Map(all.map((h) => [h.key, h]));
}
