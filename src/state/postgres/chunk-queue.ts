/**
 * The bytes of a stream that have arrived but are not read yet, kept as the chunks they came in.
 * Reading hands out a view of a chunk when the bytes lie in one, and copies only the bytes that
 * straddle chunks, so reading a stream copies almost nothing.
 */
export class ChunkQueue {
  readonly #chunks: Buffer[] = [];
  #offset = 0;
  #size = 0;

  /** How many bytes wait to be read. */
  get size(): number {
    return this.#size;
  }

  /** The chunk holding the next unread byte, if any; its unread bytes start at `offset`. */
  get first(): Buffer | undefined {
    return this.#chunks[0];
  }

  /** Where the unread bytes of `first` start. */
  get offset(): number {
    return this.#offset;
  }

  /** Appends a chunk; it must not change afterwards, since reads may return views of it. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /** Reads the next `length` bytes, at most `size`: a view when they lie in one chunk. */
  take(length: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#offset >= length) {
      const bytes = first.subarray(this.#offset, this.#offset + length);
      this.skip(length);
      return bytes;
    }
    return this.#join(length);
  }

  /** Reads a big-endian 16-bit integer. */
  readInt16(): number {
    const first = this.#chunks[0];
    if (first === undefined || first.length - this.#offset < 2) return this.#join(2).readInt16BE();
    const value = first.readInt16BE(this.#offset);
    this.skip(2);
    return value;
  }

  /** Reads a big-endian 32-bit integer. */
  readInt32(): number {
    const first = this.#chunks[0];
    if (first === undefined || first.length - this.#offset < 4) return this.#join(4).readInt32BE();
    const value = first.readInt32BE(this.#offset);
    this.skip(4);
    return value;
  }

  /** Moves past the next `length` bytes, at most `size`, dropping the chunks read to the end. */
  skip(length: number): void {
    this.#checkWaiting(length);
    this.#size -= length;
    let left = length;
    while (left > 0) {
      const first = this.#chunks[0] as Buffer;
      const count = Math.min(left, first.length - this.#offset);
      left -= count;
      this.#offset += count;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
  }

  /** Copies the next `length` bytes, which span chunks, into a buffer of their own. */
  #join(length: number): Buffer {
    this.#checkWaiting(length);
    const joined = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const first = this.#chunks[0] as Buffer;
      const count = Math.min(length - filled, first.length - this.#offset);
      first.copy(joined, filled, this.#offset, this.#offset + count);
      filled += count;
      this.skip(count);
    }
    return joined;
  }

  #checkWaiting(length: number): void {
    if (length > this.#size) throw new RangeError(`${length} bytes asked, ${this.#size} wait`);
  }
}
