import { double, fields, float, int64, repeated, repeatedVarint, text, type Field } from './protobuf.js';

/**
 * The parts of tensorflow's Event/Summary protobufs (event.proto, summary.proto, tensor.proto and
 * the hparams plugin's plugin_data.proto) that an import needs, decoded by field number.
 */
export interface TbValue {
  tag: string;
  plugin?: string;
  pluginContent?: Uint8Array;
  /** Summary.Value.simple_value: the TF1 (and tensorboardX) scalar */
  simple?: number;
  tensor?: TbTensor;
  image?: Uint8Array;
  histo?: TbHisto;
}
export interface TbTensor {
  dtype: number;
  shape: number[];
  numbers: number[];
  strings: Uint8Array[];
}
export interface TbHisto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}
export interface TbEvent {
  wallTime: number;
  step: number;
  values: TbValue[];
}

// tensorflow DataType numbers
const DT = { FLOAT: 1, DOUBLE: 2, INT32: 3, UINT8: 4, INT16: 5, INT8: 6, INT64: 9, BOOL: 10, HALF: 19 } as const;

const sub = (f: Field) => f.bytes ?? new Uint8Array();

export function decodeEvent(buf: Uint8Array): TbEvent {
  const ev: TbEvent = { wallTime: 0, step: 0, values: [] };
  for (const f of fields(buf)) {
    if (f.no === 1 && f.type === 1) ev.wallTime = double(f);
    else if (f.no === 2 && f.type === 0) ev.step = int64(f);
    else if (f.no === 5 && f.type === 2) for (const v of fields(sub(f))) if (v.no === 1 && v.type === 2) ev.values.push(decodeValue(sub(v)));
  }
  return ev;
}

function decodeValue(buf: Uint8Array): TbValue {
  const v: TbValue = { tag: '' };
  let nodeName = '';
  for (const f of fields(buf)) {
    if (f.no === 1 && f.type === 2) v.tag = text(f);
    else if (f.no === 7 && f.type === 2) nodeName = text(f);
    else if (f.no === 2 && f.type === 5) v.simple = float(f);
    else if (f.no === 4 && f.type === 2) v.image = imageBytes(sub(f));
    else if (f.no === 5 && f.type === 2) v.histo = decodeHisto(sub(f));
    else if (f.no === 8 && f.type === 2) v.tensor = decodeTensor(sub(f));
    else if (f.no === 9 && f.type === 2) {
      for (const m of fields(sub(f))) {
        if (m.no !== 1 || m.type !== 2) continue; // SummaryMetadata.plugin_data
        for (const p of fields(sub(m))) {
          if (p.no === 1 && p.type === 2) v.plugin = text(p);
          else if (p.no === 2 && p.type === 2) v.pluginContent = sub(p);
        }
      }
    }
  }
  if (!v.tag) v.tag = nodeName;
  return v;
}

/** Summary.Image: its encoded_image_string (PNG, JPEG or GIF bytes). */
function imageBytes(buf: Uint8Array): Uint8Array | undefined {
  for (const f of fields(buf)) if (f.no === 4 && f.type === 2) return sub(f);
  return undefined;
}

function decodeHisto(buf: Uint8Array): TbHisto {
  const h: TbHisto = { min: 0, max: 0, num: 0, sum: 0, sum_squares: 0, bucket_limit: [], bucket: [] };
  const names = ['', 'min', 'max', 'num', 'sum', 'sum_squares'] as const;
  for (const f of fields(buf)) {
    if (f.no >= 1 && f.no <= 5 && f.type === 1) h[names[f.no] as Exclude<(typeof names)[number], ''>] = double(f);
    else if (f.no === 6) h.bucket_limit.push(...repeated(f, 8, (d, at) => d.getFloat64(at, true)));
    else if (f.no === 7) h.bucket.push(...repeated(f, 8, (d, at) => d.getFloat64(at, true)));
  }
  return h;
}

/** TensorProto: numbers from tensor_content (packed little-endian) or the typed *_val fields; strings from string_val. */
function decodeTensor(buf: Uint8Array): TbTensor {
  const t: TbTensor = { dtype: 0, shape: [], numbers: [], strings: [] };
  let content: Uint8Array | undefined;
  for (const f of fields(buf)) {
    if (f.no === 1 && f.type === 0) t.dtype = Number(f.varint);
    else if (f.no === 2 && f.type === 2) {
      for (const d of fields(sub(f))) if (d.no === 2 && d.type === 2) for (const s of fields(sub(d))) if (s.no === 1 && s.type === 0) t.shape.push(int64(s));
    } else if (f.no === 4 && f.type === 2) content = sub(f);
    else if (f.no === 5) t.numbers.push(...repeated(f, 4, (d, at) => d.getFloat32(at, true)));
    else if (f.no === 6) t.numbers.push(...repeated(f, 8, (d, at) => d.getFloat64(at, true)));
    else if (f.no === 7 || f.no === 10 || f.no === 11) t.numbers.push(...repeatedVarint(f));
    else if (f.no === 8 && f.type === 2) t.strings.push(sub(f));
  }
  if (content?.length) t.numbers = fromContent(t.dtype, content);
  return t;
}

function fromContent(dtype: number, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const read: Record<number, [number, (at: number) => number]> = {
    [DT.FLOAT]: [4, (at) => view.getFloat32(at, true)],
    [DT.DOUBLE]: [8, (at) => view.getFloat64(at, true)],
    [DT.INT32]: [4, (at) => view.getInt32(at, true)],
    [DT.INT64]: [8, (at) => Number(view.getBigInt64(at, true))],
    [DT.INT16]: [2, (at) => view.getInt16(at, true)],
    [DT.INT8]: [1, (at) => view.getInt8(at)],
    [DT.UINT8]: [1, (at) => view.getUint8(at)],
    [DT.BOOL]: [1, (at) => view.getUint8(at)],
    [DT.HALF]: [2, (at) => half(view.getUint16(at, true))],
  };
  const r = read[dtype];
  if (!r) return [];
  const out: number[] = [];
  for (let at = 0; at + r[0] <= bytes.length; at += r[0]) out.push(r[1](at));
  return out;
}

function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * The hparams plugin's SessionStartInfo.hparams (HParamsPluginData field 3, its map field 1), each
 * google.protobuf.Value as text; undefined for the plugin's other messages (experiment, session end).
 */
export function sessionStartHparams(content: Uint8Array): Map<string, string> | undefined {
  for (const f of fields(content)) {
    if (f.no !== 3 || f.type !== 2) continue;
    const out = new Map<string, string>();
    for (const entry of fields(sub(f))) {
      if (entry.no !== 1 || entry.type !== 2) continue;
      let key = '';
      let value = '';
      for (const kv of fields(sub(entry))) {
        if (kv.no === 1 && kv.type === 2) key = text(kv);
        else if (kv.no === 2 && kv.type === 2) value = protoValue(sub(kv));
      }
      out.set(key, value);
    }
    return out;
  }
  return undefined;
}

/** google.protobuf.Value: number, string or bool as text (a struct or list as its raw kind). */
function protoValue(buf: Uint8Array): string {
  for (const f of fields(buf)) {
    if (f.no === 2 && f.type === 1) return String(double(f));
    if (f.no === 3 && f.type === 2) return text(f);
    if (f.no === 4 && f.type === 0) return f.varint ? 'true' : 'false';
    if (f.no === 1) return '';
  }
  return '';
}
