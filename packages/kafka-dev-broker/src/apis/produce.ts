/**
 * Produce v3–v7 (v3 is the first version that carries record batch v2). With one replica, acks=1 and
 * acks=-1 mean the same thing: the batch is in the log (and handed to the kernel) before the response goes
 * out. acks=0 gets no response at all, as the protocol prescribes; the client never reads one.
 * Transactions are not supported; idempotent producers are (see PartitionLog.append).
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { InvalidBatchError, parseProducedBatches } from '../records/batch.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

interface PartitionResult {
  index: number;
  error: number;
  baseOffset: number;
  logStartOffset: number;
}

const batchErrorCode = (err: InvalidBatchError): number =>
  ({
    corrupt: ErrorCode.CORRUPT_MESSAGE,
    format: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    invalid: ErrorCode.INVALID_RECORD,
    'too-large': ErrorCode.MESSAGE_TOO_LARGE,
  })[err.reason];

function appendPartition(
  ctx: RequestContext,
  topic: string,
  index: number,
  records: Buffer | null,
  acks: number,
  transactional: boolean,
): PartitionResult {
  const fail = (error: number): PartitionResult => ({ index, error, baseOffset: -1, logStartOffset: -1 });
  if (acks !== 0 && acks !== 1 && acks !== -1) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
  if (transactional) return fail(ErrorCode.INVALID_REQUEST);
  const log = ctx.broker.topics.partition(topic, index);
  if (!log) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (!records || records.length === 0) return fail(ErrorCode.CORRUPT_MESSAGE);
  try {
    const batches = parseProducedBatches(records, ctx.broker.settings.maxBatchBytes);
    return { index, error: ErrorCode.NONE, baseOffset: log.append(batches), logStartOffset: log.logStartOffset };
  } catch (err) {
    if (!(err instanceof InvalidBatchError)) throw err;
    ctx.broker.log(`produce to ${topic}/${index} from ${ctx.clientId} rejected: ${err.message}`);
    return fail(batchErrorCode(err));
  }
}

export const produce: ApiHandler = {
  key: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const transactionalId = r.nullableString();
    const acks = r.int16();
    r.int32(); // timeout: appends are synchronous, nothing to wait for
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
    }));
    if (transactionalId !== null) ctx.broker.log(`produce from ${ctx.clientId} rejected: transactions are not supported`);

    const results = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => appendPartition(ctx, t.name, p.index, p.records, acks, transactionalId !== null)),
    }));
    if (acks === 0) return null;

    return respond(ctx, (w) => {
      w.array(results, (w, t) => {
        w.string(t.name).array(t.partitions, (w, p) => {
          w.int32(p.index).int16(p.error).int64(p.baseOffset);
          w.int64(-1); // log_append_time: topics use CreateTime
          if (v >= 5) w.int64(p.logStartOffset);
        });
      });
      w.int32(NO_THROTTLE);
    });
  },
};
