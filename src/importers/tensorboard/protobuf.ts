/**
 * Just enough of protobuf's wire format to read TensorBoard's Event and Summary messages (a handful
 * of fields, all known here): hand-decoding them keeps a TensorFlow or protobuf runtime out of Cairn.
 * Fields are returned in wire order; unknown ones are stepped over by their wire type.
 */
export interface Field {
  no: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
  type: number;
  /** varints as bigint (int64 steps do not fit a double exactly); bytes for length-delimited */
  varint?: bigint;
  bytes?: Uint8Array;
  /** the raw 8 or 4 bytes of a fixed field */
  fixed?: DataView;
}

export class ProtobufError extends Error {}

function varint(buf: Uint8Array, pos: number): [bigint, number] {
  let out = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) throw new ProtobufError('varint runs past the end of the message');
    const b = buf[pos++];
    out |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [out, pos];
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

export function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = varint(buf, pos);
    pos = next;
    const no = Number(key >> 3n);
    const type = Number(key & 7n);
    if (type === 0) {
      const [v, p] = varint(buf, pos);
      pos = p;
      yield { no, type, varint: v };
    } else if (type === 1 || type === 5) {
      const n = type === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new ProtobufError('fixed field runs past the end of the message');
      yield { no, type, fixed: new DataView(buf.buffer, buf.byteOffset + pos, n) };
      pos += n;
    } else if (type === 2) {
      const [len, p] = varint(buf, pos);
      const end = p + Number(len);
      if (end > buf.length) throw new ProtobufError('length-delimited field runs past the end of the message');
      yield { no, type, bytes: buf.subarray(p, end) };
      pos = end;
    } else {
      throw new ProtobufError(`unsupported wire type ${type} (field ${no})`);
    }
  }
}

export const text = (f: Field) => new TextDecoder().decode(f.bytes);
export const float = (f: Field) => f.fixed!.getFloat32(0, true);
export const double = (f: Field) => f.fixed!.getFloat64(0, true);
/** An int64 varint as a number; a negative one arrives as its two's complement. */
export const int64 = (f: Field) => Number(BigInt.asIntN(64, f.varint ?? 0n));

/** A repeated scalar field, packed (one length-delimited run) or not (one field per value). */
export function repeated(f: Field, width: 4 | 8, read: (v: DataView, at: number) => number): number[] {
  if (f.fixed) return [read(f.fixed, 0)];
  const out: number[] = [];
  const view = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.length);
  for (let at = 0; at + width <= view.byteLength; at += width) out.push(read(view, at));
  return out;
}

/** A repeated varint field, packed or not. */
export function repeatedVarint(f: Field): number[] {
  if (f.varint !== undefined) return [Number(BigInt.asIntN(64, f.varint))];
  const out: number[] = [];
  for (let pos = 0; pos < f.bytes!.length; ) {
    const [v, p] = varint(f.bytes!, pos);
    out.push(Number(BigInt.asIntN(64, v)));
    pos = p;
  }
  return out;
}
