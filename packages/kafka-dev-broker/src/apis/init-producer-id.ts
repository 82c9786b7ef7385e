/**
 * InitProducerId v0–v1, for idempotent producers (kafkajs `idempotent: true`, librdkafka
 * `enable.idempotence`). Ids are derived from the clock so that ids handed out after a restart never collide
 * with ids whose batches are already in the log (the log remembers each producer's last sequence).
 * Transactional ids are refused: the broker has no transaction coordinator.
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

export const initProducerId: ApiHandler = {
  key: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx: RequestContext, r: Reader) {
    const transactionalId = r.nullableString();
    r.int32(); // transaction timeout
    if (transactionalId !== null) ctx.broker.log(`InitProducerId from ${ctx.clientId} refused: transactions are not supported`);
    const ok = transactionalId === null;
    return respond(ctx, (w) => {
      w.int32(NO_THROTTLE).int16(ok ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST);
      w.int64(ok ? ctx.broker.nextProducerId() : -1).int16(ok ? 0 : -1);
    });
  },
};
