/**
 * Refresh-token families (OAuth 2.0 Security BCP §4.14: rotation with reuse detection). A login starts a family
 * whose item in the auth table names the one refresh token currently valid (`token_id`, the token's `jti`).
 * A refresh replaces it with a conditional write, so of two refreshes presenting the same token exactly one
 * wins; the other finds the token already spent, which is indistinguishable from a replay by a thief, so it is
 * treated as one: the family is revoked and the winner's new token stops working too. Clients must therefore
 * refresh one at a time (the SPA: single-flight). Sessions are state, not business history: not events.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Item } from './dynamodb-items.ts';
import { AUTH_KEY, EXPIRES_AT } from './dynamodb-items.ts';

export interface SessionFamily {
  family_id: string;
  user_id: string;
  /** The `jti` of the one refresh token that may be used next. */
  token_id: string;
  /** 1 at login, +1 per rotation. */
  generation: number;
  created_at: string;
  rotated_at: string;
  revoked_at: string | null;
  revoked_reason: 'logout' | 'reuse' | null;
  /** Epoch seconds: the current token's expiry; DynamoDB's TTL deletes the item some time after. */
  expires_at: number;
}

export type RotateResult = { ok: true; user_id: string; generation: number } | { ok: false; reason: 'unknown' | 'revoked' | 'reused' };

export interface RotateRequest {
  family_id: string;
  user_id: string;
  /** The jti of the token the client presented. */
  presented: string;
  next: string;
  /** ISO-8601 and epoch seconds of the same instant. */
  now: string;
  nowSeconds: number;
  expires_at: number;
}

export interface SessionStore {
  create(family: { family_id: string; user_id: string; token_id: string; now: string; expires_at: number }): Promise<void>;
  /** Replaces the current token if it is `presented`; a spent token revokes the family (reason `reused`). */
  rotate(request: RotateRequest): Promise<RotateResult>;
  /** Idempotent; an unknown family is not an error (logout of an expired session). */
  revoke(familyId: string, reason: 'logout' | 'reuse', now: string): Promise<void>;
  get(familyId: string): Promise<SessionFamily | undefined>;
}

const key = (familyId: string): Item => ({ [AUTH_KEY]: { S: `session#${familyId}` } });

/**
 * Why a rotation that lost its condition failed, decided from the item as it is now. A token that is no longer
 * the current one of a live family was spent before: reuse.
 */
function classify(family: SessionFamily | undefined, r: RotateRequest): 'unknown' | 'revoked' | 'reused' {
  if (!family || family.user_id !== r.user_id || family.expires_at <= r.nowSeconds) return 'unknown';
  if (family.revoked_at !== null) return 'revoked';
  return family.token_id !== r.presented ? 'reused' : 'unknown';
}

export function createDynamoSessionStore(opts: { client: DynamoDBClient; table: string }): SessionStore {
  const { client, table } = opts;

  const get = async (familyId: string): Promise<SessionFamily | undefined> => {
    const out = await client.send(new GetItemCommand({ TableName: table, Key: key(familyId), ConsistentRead: true }));
    const item = out.Item;
    if (!item) return undefined;
    return {
      family_id: familyId,
      user_id: item.user_id?.S ?? '',
      token_id: item.token_id?.S ?? '',
      generation: Number(item.generation?.N ?? 0),
      created_at: item.created_at?.S ?? '',
      rotated_at: item.rotated_at?.S ?? '',
      revoked_at: item.revoked_at?.S ?? null,
      revoked_reason: (item.revoked_reason?.S as SessionFamily['revoked_reason'] | undefined) ?? null,
      expires_at: Number(item[EXPIRES_AT]?.N ?? 0),
    };
  };

  const revoke = async (familyId: string, reason: 'logout' | 'reuse', now: string): Promise<void> => {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key(familyId),
          UpdateExpression: 'SET #r = :now, #why = :reason',
          // The first revocation's time and reason stay; a missing item must not be created by an update.
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#r)',
          ExpressionAttributeNames: { '#pk': AUTH_KEY, '#r': 'revoked_at', '#why': 'revoked_reason' },
          ExpressionAttributeValues: { ':now': { S: now }, ':reason': { S: reason } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  };

  return {
    get,
    revoke,
    async create(f) {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            ...key(f.family_id),
            kind: { S: 'session' },
            user_id: { S: f.user_id },
            token_id: { S: f.token_id },
            generation: { N: '1' },
            created_at: { S: f.now },
            rotated_at: { S: f.now },
            [EXPIRES_AT]: { N: String(f.expires_at) },
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': AUTH_KEY },
        }),
      );
    },
    async rotate(r) {
      try {
        const out = await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(r.family_id),
            UpdateExpression: 'SET #t = :next, #g = #g + :one, #at = :now, #e = :exp',
            ConditionExpression:
              'attribute_exists(#pk) AND #t = :presented AND #u = :user AND attribute_not_exists(#r) AND #e > :nowSeconds',
            // Every name aliased: DynamoDB's reserved words are many and not all obvious.
            ExpressionAttributeNames: {
              '#pk': AUTH_KEY,
              '#e': EXPIRES_AT,
              '#t': 'token_id',
              '#g': 'generation',
              '#at': 'rotated_at',
              '#u': 'user_id',
              '#r': 'revoked_at',
            },
            ExpressionAttributeValues: {
              ':next': { S: r.next },
              ':one': { N: '1' },
              ':now': { S: r.now },
              ':exp': { N: String(r.expires_at) },
              ':presented': { S: r.presented },
              ':user': { S: r.user_id },
              ':nowSeconds': { N: String(r.nowSeconds) },
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { ok: true, user_id: r.user_id, generation: Number(out.Attributes?.generation?.N ?? 0) };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      const reason = classify(await get(r.family_id), r);
      if (reason === 'reused') await revoke(r.family_id, 'reuse', r.now);
      return { ok: false, reason };
    },
  };
}

/** The same contract in memory (unit tests of the HTTP layer). */
export function createMemorySessionStore(): SessionStore {
  const families = new Map<string, SessionFamily>();
  const io = () => new Promise<void>((resolve) => setImmediate(resolve));
  const copy = (f: SessionFamily | undefined) => (f ? { ...f } : undefined);
  const revokeNow = (familyId: string, reason: 'logout' | 'reuse', now: string) => {
    const f = families.get(familyId);
    if (f && f.revoked_at === null) families.set(familyId, { ...f, revoked_at: now, revoked_reason: reason });
  };
  return {
    async get(familyId) {
      await io();
      return copy(families.get(familyId));
    },
    async revoke(familyId, reason, now) {
      await io();
      revokeNow(familyId, reason, now);
    },
    async create(f) {
      await io();
      if (families.has(f.family_id)) throw new Error(`session family ${f.family_id} exists`);
      families.set(f.family_id, {
        family_id: f.family_id,
        user_id: f.user_id,
        token_id: f.token_id,
        generation: 1,
        created_at: f.now,
        rotated_at: f.now,
        revoked_at: null,
        revoked_reason: null,
        expires_at: f.expires_at,
      });
    },
    async rotate(r) {
      await io();
      const f = families.get(r.family_id);
      if (f && f.user_id === r.user_id && f.revoked_at === null && f.expires_at > r.nowSeconds && f.token_id === r.presented) {
        families.set(r.family_id, { ...f, token_id: r.next, generation: f.generation + 1, rotated_at: r.now, expires_at: r.expires_at });
        return { ok: true, user_id: r.user_id, generation: f.generation + 1 };
      }
      const reason = classify(f, r);
      if (reason === 'reused') revokeNow(r.family_id, 'reuse', r.now);
      return { ok: false, reason };
    },
  };
}
