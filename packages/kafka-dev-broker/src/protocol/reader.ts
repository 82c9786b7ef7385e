/**
 * Bounds-checked decoder for the Kafka wire primitives (big-endian ints, int16-length strings, int32-length
 * bytes and arrays, zigzag varints inside record batches). Every read checks the remaining length first, so a
 * malformed or truncated request surfaces as a ProtocolError instead of an out-of-range read, and a forged
 * array or string length can never make the broker allocate more than the frame it already holds.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Offsets, timestamps and producer ids stay far below 2^53 in practice, so plain numbers are exact. */
  int64(): number {
    this.need(8, 'int64');
    const v = Number(this.buf.readBigInt64BE(this.pos));
    this.pos += 8;
    return v;
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError(`invalid string length ${len}`);
    this.need(len, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolError('null where a non-nullable string is required');
    return s;
  }

  /** Returns a view into the frame, not a copy: callers that keep it beyond the request must copy. */
  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError(`invalid bytes length ${len}`);
    this.need(len, 'bytes');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }

  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const count = this.int32();
    if (count === -1) return null;
    // Every element takes at least one byte, so a larger count can only be a forged length.
    if (count < -1 || count > this.remaining) throw new ProtocolError(`invalid array length ${count}`);
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = item(this);
    return out;
  }

  /** Clients send -1 (null) for some empty arrays; treating it as empty is what the Java broker does too. */
  array<T>(item: (r: Reader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (shift > 28) throw new ProtocolError('varint longer than 5 bytes');
      const b = this.int8() & 0xff;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1);
  }

  /** Zigzag varlong; record timestamp deltas need more than 32 bits. */
  varlong(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (shift > 63n) throw new ProtocolError('varlong longer than 10 bytes');
      const b = BigInt(this.int8() & 0xff);
      result |= (b & 0x7fn) << shift;
      if ((b & 0x80n) === 0n) break;
      shift += 7n;
    }
    return Number((result >> 1n) ^ -(result & 1n));
  }

  /** A varint-length byte string as used inside records; -1 means null. */
  varBytes(): Buffer | null {
    const len = this.varint();
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError(`invalid varint length ${len}`);
    this.need(len, 'record bytes');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  skip(n: number): void {
    this.need(n, 'skipped bytes');
    this.pos += n;
  }
}
