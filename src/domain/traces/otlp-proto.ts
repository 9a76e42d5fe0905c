import { invalidParam } from '../../errors.js';

// A decoder for the protobuf form of OTLP's ExportTraceServiceRequest (opentelemetry-proto,
// collector/trace/v1). It yields the same object shape as OTLP's JSON encoding (camelCase fields,
// hex ids, 64-bit numbers as decimal strings), so one converter (otlp.ts) handles both bodies.
// Hand-written rather than a protobuf library: the schema is a dozen frozen messages, and only
// reading is needed; see docs/tracing.md. Unknown fields are skipped, as protobuf requires.

type Obj = Record<string, unknown>;
const bad = (why: string) => invalidParam(`Invalid OpenTelemetry format: ${why}`);
const MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Field { no: number; type: number; varint?: bigint; bytes?: Uint8Array; fixed?: DataView }

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buf.length) throw bad('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result & 0xffffffffffffffffn;
    }
    throw bad('varint too long');
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > buf.length) throw bad('truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const type = Number(key & 7n);
    if (no === 0) throw bad('field number 0');
    if (type === 0) yield { no, type, varint: varint() };
    else if (type === 1 || type === 5) {
      const b = take(type === 1 ? 8 : 4);
      yield { no, type, fixed: new DataView(b.buffer, b.byteOffset, b.byteLength) };
    } else if (type === 2) yield { no, type, bytes: take(Number(varint())) };
    else throw bad(`unsupported wire type ${type}`);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
function text(f: Field): string {
  if (!f.bytes) throw bad(`field ${f.no} is not a string`);
  try {
    return utf8.decode(f.bytes);
  } catch {
    throw bad('a string is not UTF-8');
  }
}
function sub(f: Field): Uint8Array {
  if (!f.bytes) throw bad(`field ${f.no} is not a message`);
  return f.bytes;
}
function fixed64(f: Field): string {
  if (!f.fixed || f.type !== 1) throw bad(`field ${f.no} is not a fixed64`);
  return f.fixed.getBigUint64(0, true).toString();
}
function enumOf(f: Field): number {
  if (f.varint === undefined) throw bad(`field ${f.no} is not an enum`);
  return Number(BigInt.asIntN(32, f.varint));
}

function anyValue(buf: Uint8Array, depth: number): Obj {
  if (depth > MAX_DEPTH) throw bad('attribute values nested too deeply');
  let out: Obj = {};
  for (const f of fields(buf)) {
    if (f.no === 1) out = { stringValue: text(f) };
    else if (f.no === 2) out = { boolValue: f.varint !== undefined && f.varint !== 0n };
    else if (f.no === 3 && f.varint !== undefined) out = { intValue: BigInt.asIntN(64, f.varint).toString() };
    else if (f.no === 4 && f.fixed) out = { doubleValue: f.fixed.getFloat64(0, true) };
    else if (f.no === 5) out = { arrayValue: { values: [...fields(sub(f))].filter((v) => v.no === 1).map((v) => anyValue(sub(v), depth + 1)) } };
    else if (f.no === 6) out = { kvlistValue: { values: keyValues(sub(f), depth + 1) } };
    else if (f.no === 7) out = { bytesValue: Buffer.from(sub(f)).toString('base64') };
  }
  return out;
}

function keyValues(buf: Uint8Array, depth: number): Obj[] {
  return [...fields(buf)].filter((f) => f.no === 1).map((f) => keyValue(sub(f), depth));
}

function keyValue(buf: Uint8Array, depth: number): Obj {
  const out: Obj = { key: '' };
  for (const f of fields(buf)) {
    if (f.no === 1) out.key = text(f);
    else if (f.no === 2) out.value = anyValue(sub(f), depth + 1);
  }
  return out;
}

function event(buf: Uint8Array): Obj {
  const out: Obj = { attributes: [] };
  for (const f of fields(buf)) {
    if (f.no === 1) out.timeUnixNano = fixed64(f);
    else if (f.no === 2) out.name = text(f);
    else if (f.no === 3) (out.attributes as Obj[]).push(keyValue(sub(f), 0));
  }
  return out;
}

function status(buf: Uint8Array): Obj {
  const out: Obj = {};
  for (const f of fields(buf)) {
    if (f.no === 2) out.message = text(f);
    else if (f.no === 3) out.code = enumOf(f);
  }
  return out;
}

function span(buf: Uint8Array): Obj {
  const out: Obj = { attributes: [], events: [] };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: out.traceId = hex(sub(f)); break;
      case 2: out.spanId = hex(sub(f)); break;
      case 4: out.parentSpanId = hex(sub(f)); break;
      case 5: out.name = text(f); break;
      case 6: out.kind = enumOf(f); break;
      case 7: out.startTimeUnixNano = fixed64(f); break;
      case 8: out.endTimeUnixNano = fixed64(f); break;
      case 9: (out.attributes as Obj[]).push(keyValue(sub(f), 0)); break;
      case 11: (out.events as Obj[]).push(event(sub(f))); break;
      case 15: out.status = status(sub(f)); break;
    }
  }
  return out;
}

function resourceSpans(buf: Uint8Array): Obj {
  const out: Obj = { resource: { attributes: [] }, scopeSpans: [] };
  for (const f of fields(buf)) {
    if (f.no === 1) out.resource = { attributes: keyValues(sub(f), 0) };
    else if (f.no === 2) {
      const spans = [...fields(sub(f))].filter((s) => s.no === 2).map((s) => span(sub(s)));
      (out.scopeSpans as Obj[]).push({ spans });
    }
  }
  return out;
}

/** An ExportTraceServiceRequest's bytes as the object its OTLP JSON form parses to. */
export function decodeExportTraceRequest(buf: Uint8Array): Obj {
  return { resourceSpans: [...fields(buf)].filter((f) => f.no === 1).map((f) => resourceSpans(sub(f))) };
}
