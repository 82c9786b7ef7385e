/**
 * The shape shared by every API handler: it decodes its request body for the negotiated version and returns
 * the complete response frame, or null when the protocol prescribes no response (Produce with acks=0).
 */
import type { GroupCoordinator } from '../group/coordinator.ts';
import type { Reader } from '../protocol/reader.ts';
import { finishFrame, responseFrame, type Writer } from '../protocol/writer.ts';
import type { OffsetStore } from '../storage/offsets.ts';
import type { TopicStore } from '../storage/topics.ts';

export interface BrokerSettings {
  defaultPartitions: number;
  autoCreateTopics: boolean;
  /** Largest record batch accepted by Produce (Kafka's message.max.bytes default). */
  maxBatchBytes: number;
}

/** Everything a request may touch; one per broker instance. */
export interface BrokerState {
  settings: BrokerSettings;
  topics: TopicStore;
  offsets: OffsetStore;
  coordinator: GroupCoordinator;
  nextProducerId: () => number;
  log: (line: string) => void;
}

export interface RequestContext {
  broker: BrokerState;
  apiVersion: number;
  correlationId: number;
  clientId: string;
  clientHost: string;
  /**
   * The address the client reached us on. Metadata and FindCoordinator advertise it, so a broker bound to
   * 0.0.0.0 still hands out an address the client can connect back to.
   */
  advertised: { host: string; port: number };
  /** Aborted when the connection closes, so parked requests (long-polling fetches) can give up. */
  signal: AbortSignal;
}

export type Response = Buffer | null;

export interface ApiHandler {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  handle(ctx: RequestContext, body: Reader): Response | Promise<Response>;
}

export function respond(ctx: RequestContext, encode: (w: Writer) => void, sizeHint?: number): Buffer {
  const w = responseFrame(ctx.correlationId, sizeHint);
  encode(w);
  return finishFrame(w);
}

/** Throttling is never applied; the field is always 0 where a version has it. */
export const NO_THROTTLE = 0;
