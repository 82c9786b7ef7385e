/**
 * Encoder for the Kafka wire primitives into one growable buffer. A response is built in place behind a
 * reserved int32 size prefix, so sending it is a single socket write with no extra concatenation.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const len = Buffer.byteLength(s);
    this.int16(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  string(s: string): this {
    return this.nullableString(s);
  }

  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }

  bytes(b: Buffer): this {
    return this.nullableBytes(b);
  }

  array<T>(items: readonly T[], item: (w: this, value: T) => void): this {
    this.int32(items.length);
    for (const value of items) item(this, value);
    return this;
  }

  int32Array(items: readonly number[]): this {
    return this.array(items, (w, v) => w.int32(v));
  }

  raw(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  varint(v: number): this {
    let z = ((v << 1) ^ (v >> 31)) >>> 0;
    this.ensure(5);
    while (z > 0x7f) {
      this.buf[this.pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    this.buf[this.pos++] = z;
    return this;
  }

  varlong(v: number): this {
    let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
    this.ensure(10);
    while (z > 0x7fn) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
    return this;
  }

  varBytes(b: Buffer | null): this {
    if (b === null) return this.varint(-1);
    this.varint(b.length);
    return this.raw(b);
  }

  /** Patches a value written earlier (sizes and CRCs that are only known once the body is complete). */
  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  patchUInt32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /** A view of the bytes written so far; valid until the next write. */
  view(start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Starts a response frame: int32 size (patched by `finishFrame`) then the response header v0, which is just
 * the correlation id. Every version this broker advertises is non-flexible, so header v1 never appears.
 */
export function responseFrame(correlationId: number, sizeHint = 256): Writer {
  return new Writer(sizeHint).int32(0).int32(correlationId);
}

export function finishFrame(w: Writer): Buffer {
  w.patchInt32(0, w.length - 4);
  return w.finish();
}
