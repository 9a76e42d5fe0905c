import type { Deps } from '../../deps.js';
import { checkStorableText } from '../../lib/storable-text.js';
import { experimentIdOf } from '../ids.js';
import { translateOtelAttributes } from './otel-translation.js';
import { MAX_SPANS_PER_TRACE, otlpInvalid as bad, submitOtlp } from './otlp-batch.js';
import { resourceTags, rootSpanTags } from './otlp-trace-fields.js';
import type { SpanRecord } from './spans.js';

// OTLP span ingestion (POST /v1/traces): spans from any OpenTelemetry exporter, grouped by trace id
// into Cairn's trace rows and each trace's traces.json, the same blob the mlflow client uploads, so
// get_trace and search_traces read them alike. An exporter sends spans as they end, so a trace's
// children often come before its root, over several requests: each batch is merged into the stored
// spans by span id, and the trace's info is recomputed from the merged set.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** MLflow's span record, as `Span.to_dict` writes it into traces.json. */
type MlflowSpan = SpanRecord;

const KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const MAX_DEPTH = 32;
const REQUEST_ID_ATTR = 'mlflow.traceRequestId';

// OTLP JSON is lowerCamelCase; protobuf JSON parsers also accept the proto's snake_case names.
// Spans arrive by the thousand on a hot path: the snake_case names and id patterns are made once.
const snakeNames = new Map<string, string>();
const snake = (camel: string): string => {
  let name = snakeNames.get(camel);
  if (name === undefined) snakeNames.set(camel, (name = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)));
  return name;
};
const field = (o: Obj, camel: string): unknown => o[camel] ?? o[snake(camel)];
const HEX_ID: Record<number, RegExp> = { 8: /^[0-9a-fA-F]{16}$/, 16: /^[0-9a-fA-F]{32}$/ };
const list = (v: unknown, what: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`'${what}' must be a list`);
  return v;
};

function id(v: unknown, bytes: number, what: string, optional = false): string | null {
  if ((v === undefined || v === null || v === '') && optional) return null;
  if (typeof v !== 'string' || !HEX_ID[bytes].test(v) || /^0+$/.test(v)) {
    throw bad(`'${what}' must be ${bytes * 2} hex digits, not all zero`);
  }
  return v.toLowerCase();
}

function nanos(v: unknown, what: string, optional = false): string | null {
  if ((v === undefined || v === null || v === '0' || v === 0) && optional) return null;
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s !== 'string' || !/^\d{1,20}$/.test(s) || BigInt(s) > 0xffffffffffffffffn) throw bad(`'${what}' must be an unsigned 64-bit integer`);
  return BigInt(s).toString();
}

function enumName(v: unknown, names: string[], what: string): string {
  if (v === undefined || v === null) return names[0];
  if (typeof v === 'number' && names[v]) return names[v];
  if (typeof v === 'string' && names.includes(v)) return v;
  throw bad(`invalid '${what}' ${JSON.stringify(v).slice(0, 50)}`);
}

function anyValue(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw bad('attribute values nested too deeply');
  if (!isObj(v)) return null;
  const s = field(v, 'stringValue');
  if (typeof s === 'string') return s;
  const b = field(v, 'boolValue');
  if (typeof b === 'boolean') return b;
  const i = field(v, 'intValue');
  if (i !== undefined) {
    const n = typeof i === 'string' && /^-?\d{1,20}$/.test(i) ? Number(i) : i;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw bad('an intValue is not an integer');
    return n;
  }
  const d = field(v, 'doubleValue');
  if (d !== undefined) {
    if (typeof d !== 'number') throw bad('a doubleValue is not a number');
    return d;
  }
  const arr = field(v, 'arrayValue');
  if (isObj(arr)) return list(arr.values, 'arrayValue.values').map((x) => anyValue(x, depth + 1));
  const kv = field(v, 'kvlistValue');
  if (isObj(kv)) return attributes(kv.values, depth + 1);
  const bytes = field(v, 'bytesValue');
  if (typeof bytes === 'string') return bytes;
  return null;
}

function attributes(v: unknown, depth = 0): Obj {
  const out: Obj = Object.create(null) as Obj;
  for (const kv of list(v, 'attributes')) {
    if (!isObj(kv) || typeof kv.key !== 'string' || !kv.key) throw bad('an attribute needs a key');
    checkStorableText(kv.key, 'attribute key');
    out[kv.key] = anyValue(kv.value, depth);
  }
  return out;
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/**
 * An attribute's JSON text. A string that is itself the JSON of a string, an object or a list is
 * kept as that JSON, as MLflow's OTLP endpoint keeps it (strip_otlp_double_encoding): instrumentations
 * send inputs and messages as JSON text (OpenInference's `input.value`), which MLflow's UI then shows
 * as the structure they hold. Other strings, numbers and booleans are encoded as they are.
 */
function attributeText(v: unknown): string {
  if (typeof v === 'string' && /^\s*["{[]/.test(v)) {
    try {
      const inner: unknown = JSON.parse(v);
      if (typeof inner === 'string' || (typeof inner === 'object' && inner !== null)) return v;
    } catch {
      // Not JSON: a plain string.
    }
  }
  return JSON.stringify(v);
}

function toMlflowSpan(s: unknown, traceId: string): { traceHex: string; span: MlflowSpan } {
  if (!isObj(s)) throw bad('a span must be an object');
  const traceHex = id(field(s, 'traceId'), 16, 'traceId')!;
  const spanHex = id(field(s, 'spanId'), 8, 'spanId')!;
  const parentHex = id(field(s, 'parentSpanId'), 8, 'parentSpanId', true);
  const name = field(s, 'name');
  if (typeof name !== 'string' || !name) throw bad("a span needs a 'name'");
  checkStorableText(name, 'span name');
  const status = isObj(s.status) ? s.status : {};
  // MLflow keeps span attributes as JSON text (its spans are read back with json.loads).
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes(s.attributes))) attrs[k] = attributeText(v);
  attrs[REQUEST_ID_ATTR] = JSON.stringify(traceId);
  // Other instrumentations' names for inputs, outputs, kind, model and tokens, as MLflow's log_spans reads them.
  translateOtelAttributes(attrs);
  const events = list(s.events, 'events').map((e) => {
    if (!isObj(e)) throw bad('an event must be an object');
    return {
      name: typeof e.name === 'string' ? e.name : '',
      time_unix_nano: nanos(field(e, 'timeUnixNano') ?? '0', 'timeUnixNano')!,
      attributes: { ...attributes(e.attributes) },
    };
  });
  const kind = enumName(s.kind, KINDS, 'kind');
  return {
    traceHex,
    span: {
      trace_id: b64(traceHex),
      span_id: b64(spanHex),
      parent_span_id: parentHex && b64(parentHex),
      name,
      kind: kind === KINDS[0] ? KINDS[1] : kind,
      start_time_unix_nano: nanos(field(s, 'startTimeUnixNano'), 'startTimeUnixNano')!,
      end_time_unix_nano: nanos(field(s, 'endTimeUnixNano'), 'endTimeUnixNano', true),
      events,
      status: { code: enumName(status.code, STATUS, 'status.code'), message: typeof status.message === 'string' ? status.message : '' },
      attributes: attrs,
      links: [],
    },
  };
}

/**
 * The request's spans grouped by MLflow trace id (`tr-` + the OTel trace id in hex), and the tags
 * each trace gets from its resource and root span (otlp-trace-fields.ts); 400 on anything malformed.
 */
export function spansByTrace(request: unknown): { byTrace: Map<string, MlflowSpan[]>; tags: Map<string, Map<string, string>> } {
  if (!isObj(request)) throw bad('the body must be an ExportTraceServiceRequest');
  const out = new Map<string, MlflowSpan[]>();
  const tags = new Map<string, Map<string, string>>();
  const tag = (traceId: string, pairs: [string, string][]) => {
    if (!pairs.length) return;
    const held = tags.get(traceId) ?? new Map<string, string>();
    for (const [k, v] of pairs) held.set(k, v);
    tags.set(traceId, held);
  };
  for (const rs of list(field(request, 'resourceSpans'), 'resourceSpans')) {
    if (!isObj(rs)) throw bad('resourceSpans must hold objects');
    const resource = isObj(rs.resource) ? resourceTags(attributes(rs.resource.attributes)) : [];
    for (const ss of list(field(rs, 'scopeSpans'), 'scopeSpans')) {
      if (!isObj(ss)) throw bad('scopeSpans must hold objects');
      for (const raw of list(ss.spans, 'spans')) {
        const traceHex = isObj(raw) ? id(field(raw, 'traceId'), 16, 'traceId')! : '';
        const traceId = `tr-${traceHex}`;
        const { span } = toMlflowSpan(raw, traceId);
        const spans = out.get(traceId) ?? [];
        if (spans.length >= MAX_SPANS_PER_TRACE) throw bad(`more than ${MAX_SPANS_PER_TRACE} spans in one trace`);
        spans.push(span);
        out.set(traceId, spans);
        // The root span's own tags win over the resource's on the same key, as in MLflow.
        tag(traceId, resource);
        tag(traceId, rootSpanTags(span));
      }
    }
  }
  if (!out.size) throw bad('no spans found');
  return { byTrace: out, tags };
}

/**
 * Stores an OTLP request's spans in one experiment, answering once they are committed. All checks of
 * the body run here, before anything is written; the request then joins the next group commit
 * (otlp-batch.ts), where its traces commit together or not at all. A trace id already stored in
 * another experiment is refused.
 */
export async function ingestOtlp(deps: Deps, shownExperiment: string, runId: string | undefined, request: unknown): Promise<number> {
  const experimentId = experimentIdOf(shownExperiment);
  const { byTrace, tags } = spansByTrace(request);
  if (runId !== undefined) checkStorableText(runId, 'run id');
  let spanCount = 0;
  for (const spans of byTrace.values()) spanCount += spans.length;
  await submitOtlp(deps, { experimentId, shownExperiment, runId, byTrace, tags, spanCount });
  return spanCount;
}
