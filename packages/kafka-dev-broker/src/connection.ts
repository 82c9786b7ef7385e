/**
 * One client connection: size-prefixed framing, request header decoding, and dispatch.
 *
 * Kafka requires responses on a connection in request order, and the Java broker gets that by handling one
 * request per connection at a time. This does the same: frames queue up and are handled strictly one after
 * the other, so a long-polling Fetch delays later requests on its connection (clients use a separate
 * connection for fetches for exactly that reason).
 *
 * Anything malformed (bad size, unparsable header, unknown API key, unsupported version other than
 * ApiVersions', truncated body) closes the connection with one log line, which is what a Kafka broker does;
 * an exception from a handler is logged and closes only this connection, never the broker.
 */
import type net from 'node:net';
import type { ApiHandler, BrokerState, RequestContext, Response } from './apis/api.ts';
import { unsupportedApiVersionsResponse } from './apis/api-versions.ts';
import { ApiKey } from './protocol/constants.ts';
import { ProtocolError, Reader } from './protocol/reader.ts';

/** api key + api version + correlation id + client id length. */
const MIN_REQUEST_BYTES = 10;
/** Stop reading from a client that pipelines faster than we answer; resume once the backlog drains. */
const PAUSE_QUEUED_BYTES = 64 * 1024 * 1024;

export interface ConnectionDeps {
  apis: Map<number, ApiHandler>;
  broker: BrokerState;
  maxFrameBytes: number;
}

const stripV4Mapped = (addr: string | undefined): string => (addr ?? '').replace(/^::ffff:/, '');

export class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  private clientId = '-';
  private readonly abort = new AbortController();
  private readonly peer: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.peer = `${stripV4Mapped(socket.remoteAddress)}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(`socket error ${err.code ?? ''} ${err.message}`.trim()));
    socket.on('close', () => this.markClosed());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (size < MIN_REQUEST_BYTES || size > this.deps.maxFrameBytes) {
        this.fail(
          size > this.deps.maxFrameBytes
            ? `frame of ${size} bytes exceeds the ${this.deps.maxFrameBytes}-byte limit`
            : `malformed frame size ${size}`,
        );
        return;
      }
      if (this.buffered < 4 + size) break;
      const frame = this.take(4 + size).subarray(4);
      this.queue.push(frame);
      this.queuedBytes += frame.length;
    }
    if (this.queuedBytes > PAUSE_QUEUED_BYTES) this.socket.pause();
    void this.pump();
  }

  /** Removes n bytes from the front of the buffered chunks, copying only when a frame spans chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        if (this.socket.isPaused() && this.queuedBytes < PAUSE_QUEUED_BYTES / 2) this.socket.resume();
        const pending = this.dispatch(frame);
        const response = pending instanceof Promise ? await pending : pending;
        if (response && !this.closed && !this.socket.write(response)) await this.drained();
      }
    } finally {
      this.busy = false;
    }
  }

  /** A client that stops reading gets no further responses built for it until its socket drains. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private dispatch(frame: Buffer): Response | Promise<Response> {
    let ctx: RequestContext;
    let handler: ApiHandler | undefined;
    const r = new Reader(frame);
    try {
      const apiKey = r.int16();
      const apiVersion = r.int16();
      const correlationId = r.int32();
      this.clientId = r.nullableString() ?? this.clientId;
      handler = this.deps.apis.get(apiKey);
      if (!handler) return this.reject(`unknown API key ${apiKey}`);
      if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
        // Only ApiVersions has a prescribed answer to an unknown version (the client then negotiates down);
        // its request header may be the flexible v2 kind, but nothing after the client id is read here.
        if (apiKey === ApiKey.ApiVersions) return unsupportedApiVersionsResponse(correlationId, [...this.deps.apis.values()]);
        return this.reject(`${handler.name} v${apiVersion} is not supported (supported: v${handler.minVersion}-v${handler.maxVersion})`);
      }
      ctx = {
        broker: this.deps.broker,
        apiVersion,
        correlationId,
        clientId: this.clientId,
        clientHost: `/${stripV4Mapped(this.socket.remoteAddress)}`,
        advertised: { host: stripV4Mapped(this.socket.localAddress), port: this.socket.localPort ?? 0 },
        signal: this.abort.signal,
      };
    } catch (err) {
      return this.reject(`unreadable request header: ${(err as Error).message}`);
    }
    const name = `${handler.name} v${ctx.apiVersion}`;
    try {
      const out = handler.handle(ctx, r);
      return out instanceof Promise ? out.catch((err: unknown) => this.handlerFailed(name, err)) : out;
    } catch (err) {
      return this.handlerFailed(name, err);
    }
  }

  private handlerFailed(request: string, err: unknown): null {
    if (err instanceof ProtocolError) return this.reject(`malformed ${request} request: ${err.message}`);
    const e = err as Error;
    return this.reject(`${request} failed: ${e.stack ?? e.message}`);
  }

  private reject(reason: string): null {
    this.fail(reason);
    return null;
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.deps.broker.log(`connection ${this.peer} (client ${this.clientId}): ${reason}; closing it`);
    this.destroy();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.chunks = [];
    this.abort.abort();
  }

  /** Closes at once; parked requests see the abort signal and drop their responses. */
  destroy(): void {
    this.markClosed();
    this.socket.destroy();
  }
}
