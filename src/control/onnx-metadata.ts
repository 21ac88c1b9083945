/**
 * Reads the metadata_props of an ONNX file (ModelProto field 14: StringStringEntryProto key = 1,
 * value = 2) with a minimal protobuf reader, so the control loop can check a model before running it.
 */
function readVarint(b: Uint8Array, pos: { o: number }): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (pos.o >= b.length) throw new RangeError('truncated varint');
    const x = b[pos.o++]!;
    v += (x & 0x7f) * 2 ** shift;
    if (!(x & 0x80)) return v;
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}

/** Iterates the top-level fields of a protobuf message: [field number, wire type, value or bytes]. */
function* fields(b: Uint8Array): Generator<[number, number, Uint8Array | number]> {
  const pos = { o: 0 };
  while (pos.o < b.length) {
    const key = readVarint(b, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield [field, wire, readVarint(b, pos)];
    else if (wire === 2) {
      const len = readVarint(b, pos);
      if (pos.o + len > b.length) throw new RangeError('truncated field');
      yield [field, wire, b.subarray(pos.o, pos.o + len)];
      pos.o += len;
    } else if (wire === 5) {
      pos.o += 4;
      yield [field, wire, 0];
    } else if (wire === 1) {
      pos.o += 8;
      yield [field, wire, 0];
    } else throw new RangeError(`unsupported wire type ${wire}`);
  }
}

export function onnxMetadataProps(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  for (const [field, wire, value] of fields(model)) {
    if (field !== 14 || wire !== 2) continue;
    let k = '';
    let v = '';
    for (const [f, w, x] of fields(value as Uint8Array)) {
      if (w !== 2) continue;
      if (f === 1) k = dec.decode(x as Uint8Array);
      else if (f === 2) v = dec.decode(x as Uint8Array);
    }
    out[k] = v;
  }
  return out;
}
