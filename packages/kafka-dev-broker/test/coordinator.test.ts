/**
 * The group coordinator's state machine, driven directly (no sockets) with short timeouts: generations,
 * leader assignment hand-out, rebalances on join/leave/expiry, and the errors clients react to.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { GroupCoordinator, type JoinRequest } from '../src/group/coordinator.ts';
import type { JoinResult, SyncResult } from '../src/group/group.ts';
import { ErrorCode } from '../src/protocol/constants.ts';
import { OffsetStore } from '../src/storage/offsets.ts';
import { waitFor } from './fixtures/helpers.ts';

const coordinators: GroupCoordinator[] = [];
afterEach(() => {
  for (const c of coordinators.splice(0)) c.close();
});

function coordinator(initialRebalanceDelayMs = 50): GroupCoordinator {
  const c = new GroupCoordinator({
    initialRebalanceDelayMs,
    minSessionTimeoutMs: 100,
    maxSessionTimeoutMs: 60_000,
    offsets: new OffsetStore(null, () => {}),
    log: () => {},
  });
  coordinators.push(c);
  return c;
}

const joinReq = (memberId = '', over: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: 'g',
  memberId,
  groupInstanceId: null,
  clientId: 'client',
  clientHost: '/127.0.0.1',
  sessionTimeoutMs: 400,
  rebalanceTimeoutMs: 1000,
  protocolType: 'consumer',
  protocols: [{ name: 'roundrobin', metadata: Buffer.from('m') }],
  requireKnownMemberId: false,
  ...over,
});

const settled = <T>(p: T | Promise<T>): Promise<T> => Promise.resolve(p);

/** Joins two members into one generation and completes the sync; returns their join results. */
async function stableGroupOfTwo(c: GroupCoordinator): Promise<[JoinResult, JoinResult]> {
  const [a, b] = await Promise.all([settled(c.join(joinReq())), settled(c.join(joinReq()))]);
  const leader = a.memberId === a.leaderId ? a : b;
  const follower = leader === a ? b : a;
  const followerSync = settled(c.sync({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, assignments: [] }));
  await c.sync({
    groupId: 'g',
    generationId: leader.generationId,
    memberId: leader.memberId,
    assignments: [
      { memberId: leader.memberId, assignment: Buffer.from('L') },
      { memberId: follower.memberId, assignment: Buffer.from('F') },
    ],
  });
  assert.equal((await followerSync).assignment.toString(), 'F', 'the follower that synced first waited for the leader plan');
  return [leader, follower];
}

test('members starting together share one generation; only the leader gets the member list', async () => {
  const c = coordinator();
  const [leader, follower] = await stableGroupOfTwo(c);
  assert.equal(leader.generationId, 1);
  assert.equal(follower.generationId, 1);
  assert.equal(leader.members.length, 2);
  assert.equal(follower.members.length, 0);
  assert.equal(leader.protocol, 'roundrobin');
  assert.equal(c.describe('g').state, 'Stable');
  assert.equal(c.heartbeat('g', follower.memberId, 1), ErrorCode.NONE);
});

test('a joining member triggers a rebalance that heartbeats report and that completes when everyone rejoined', async () => {
  const c = coordinator();
  const [leader, follower] = await stableGroupOfTwo(c);
  const third = settled(c.join(joinReq()));
  assert.equal(c.heartbeat('g', leader.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(c.checkCommit('g', leader.memberId, 1), ErrorCode.NONE, 'the old generation may still commit while preparing');

  const rejoined = await Promise.all([settled(c.join(joinReq(leader.memberId))), settled(c.join(joinReq(follower.memberId))), third]);
  assert.deepEqual(
    rejoined.map((r) => r.generationId),
    [2, 2, 2],
  );
  assert.equal(rejoined[0]!.leaderId, leader.memberId, 'the leader keeps its role');
  assert.equal(c.heartbeat('g', leader.memberId, 1), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(c.checkCommit('g', leader.memberId, 2), ErrorCode.REBALANCE_IN_PROGRESS, 'no commits while partitions change hands');
  assert.equal(c.describe('g').state, 'CompletingRebalance');
});

test('a member that stops heartbeating is expired and the others rebalance without it', async () => {
  const c = coordinator();
  const [leader, follower] = await stableGroupOfTwo(c);
  // Only the leader keeps heartbeating; the follower's 400 ms session runs out.
  const beating = setInterval(() => c.heartbeat('g', leader.memberId, 1), 50);
  try {
    await waitFor('the rebalance after the follower expires', () => c.describe('g').state === 'PreparingRebalance', 3000);
  } finally {
    clearInterval(beating);
  }
  assert.equal(c.heartbeat('g', follower.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  const rejoin = await settled(c.join(joinReq(leader.memberId)));
  assert.equal(rejoin.generationId, 2);
  assert.equal(rejoin.members.length, 1);
});

test('members that do not rejoin within the rebalance timeout are dropped from the next generation', async () => {
  const c = coordinator();
  const [leader, follower] = await stableGroupOfTwo(c);
  // The follower keeps heartbeating (so it never expires) but never rejoins.
  const beating = setInterval(() => c.heartbeat('g', follower.memberId, 1), 50);
  try {
    const started = Date.now();
    const rejoin = settled(
      c.join(
        joinReq(leader.memberId, {
          protocols: [
            { name: 'range', metadata: Buffer.alloc(0) },
            { name: 'roundrobin', metadata: Buffer.alloc(0) },
          ],
        }),
      ),
    );
    assert.equal(c.heartbeat('g', follower.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    const result = await rejoin;
    assert.ok(Date.now() - started >= 900, 'waited for the 1 s rebalance timeout');
    assert.deepEqual(
      result.members.map((m) => m.memberId),
      [leader.memberId],
    );
    assert.equal(c.heartbeat('g', follower.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  } finally {
    clearInterval(beating);
  }
});

test('LeaveGroup rebalances at once; the last member leaving empties the group', async () => {
  const c = coordinator();
  const [leader, follower] = await stableGroupOfTwo(c);
  assert.deepEqual(c.leave('g', [follower.memberId]), [ErrorCode.NONE]);
  const alone = await settled(c.join(joinReq(leader.memberId)));
  assert.equal(alone.generationId, 2);
  const sync: SyncResult = await settled(
    c.sync({
      groupId: 'g',
      generationId: 2,
      memberId: leader.memberId,
      assignments: [{ memberId: leader.memberId, assignment: Buffer.from('all') }],
    }),
  );
  assert.equal(sync.assignment.toString(), 'all');
  assert.deepEqual(c.leave('g', [leader.memberId, 'nobody']), [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.equal(c.describe('g').state, 'Empty');
  assert.equal(c.checkCommit('g', '', -1), ErrorCode.NONE, 'an empty group accepts generation-less commits');
});

test('JoinGroup v4+ hands out a member id first; bad requests get their protocol errors', async () => {
  const c = coordinator();
  const first = await settled(c.join(joinReq('', { requireKnownMemberId: true })));
  assert.equal(first.error, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^client-/);
  const joined = await settled(c.join(joinReq(first.memberId, { requireKnownMemberId: true })));
  assert.equal(joined.error, ErrorCode.NONE);
  assert.equal(joined.memberId, first.memberId);

  assert.equal((await settled(c.join(joinReq('stranger')))).error, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await settled(c.join(joinReq('', { sessionTimeoutMs: 10 })))).error, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(
    (await settled(c.join(joinReq('', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] })))).error,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal((await settled(c.join(joinReq('', { groupId: '' })))).error, ErrorCode.INVALID_GROUP_ID);
  assert.equal(c.heartbeat('nope', 'x', 1), ErrorCode.UNKNOWN_MEMBER_ID);
});
