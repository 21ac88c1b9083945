/**
 * A minimal protobuf writer (wire types 0 varint, 2 length-delimited, 5 fixed32), enough to emit
 * ONNX ModelProto without a protobuf dependency. Fields are written in the order they are added.
 */
export class ProtoWriter {
  readonly #parts: number[] = [];

  #varint(v: number | bigint): void {
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n; // negative int64 → two's complement, 10 bytes
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.#parts.push(b);
    } while (x);
  }

  #key(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.#key(field, 0);
    this.#varint(v);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.#key(field, 2);
    this.#varint(data.length);
    for (const b of data) this.#parts.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  float(field: number, v: number): this {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.#parts.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}
