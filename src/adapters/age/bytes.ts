// A FIFO of buffers that hands out exact-size slices, copying only when a slice spans buffers.
export class ByteQueue {
  #chunks: Buffer[] = [];
  #head = 0; // offset into #chunks[0]
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Removes and returns exactly `n` bytes (n <= length). */
  take(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`take(${n}) with only ${this.#length} bytes queued`);
    this.#length -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#head += n;
      if (this.#head === first.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const available = chunk.length - this.#head;
      const wanted = Math.min(available, n - filled);
      chunk.copy(out, filled, this.#head, this.#head + wanted);
      filled += wanted;
      this.#head += wanted;
      if (this.#head === chunk.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    return out;
  }

  /** Returns (without removing) the first n bytes, or fewer if fewer are queued. */
  peek(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = Math.min(n, this.#length);
    let head = this.#head;
    for (const chunk of this.#chunks) {
      if (need === 0) break;
      const part = chunk.subarray(head, head + need);
      parts.push(part);
      need -= part.length;
      head = 0;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  takeAll(): Buffer {
    return this.take(this.#length);
  }
}
