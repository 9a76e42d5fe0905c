import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { checkStorableText } from '../../lib/storable-text.js';
import { proxyStore } from '../artifacts.js';
import { proxiedKeyOf } from '../artifacts-location.js';
import { activeExperimentRoot } from '../experiments.js';
import { experimentIdOf } from '../ids.js';
import { storedSpans, type SpanRecord } from './spans.js';
import { SOURCE_RUN_METADATA } from './wire.js';
import { upsertKeyValues } from './write.js';

// OTLP span ingestion (POST /v1/traces): spans from any OpenTelemetry exporter, grouped by trace id
// into Cairn's trace rows and each trace's traces.json, the same blob the mlflow client uploads, so
// get_trace and search_traces read them alike. An exporter sends spans as they end, so a trace's
// children often come before its root, over several requests: each batch is merged into the stored
// spans by span id, and the trace's info is recomputed from the merged set.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (why: string) => invalidParam(`Invalid OpenTelemetry format: ${why}`);

/** MLflow's span record, as `Span.to_dict` writes it into traces.json. */
type MlflowSpan = SpanRecord;

const KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const MAX_SPANS_PER_TRACE = 10_000;
const MAX_PREVIEW = 1000;
const MAX_DEPTH = 32;
const REQUEST_ID_ATTR = 'mlflow.traceRequestId';

// OTLP JSON is lowerCamelCase; protobuf JSON parsers also accept the proto's snake_case names.
const field = (o: Obj, camel: string): unknown => o[camel] ?? o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
const list = (v: unknown, what: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`'${what}' must be a list`);
  return v;
};

function id(v: unknown, bytes: number, what: string, optional = false): string | null {
  if ((v === undefined || v === null || v === '') && optional) return null;
  if (typeof v !== 'string' || !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(v) || /^0+$/.test(v)) {
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
  for (const [k, v] of Object.entries(attributes(s.attributes))) attrs[k] = JSON.stringify(v);
  attrs[REQUEST_ID_ATTR] = JSON.stringify(traceId);
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

/** The request's spans grouped by MLflow trace id (`tr-` + the OTel trace id in hex); 400 on anything malformed. */
export function spansByTrace(request: unknown): Map<string, MlflowSpan[]> {
  if (!isObj(request)) throw bad('the body must be an ExportTraceServiceRequest');
  const out = new Map<string, MlflowSpan[]>();
  for (const rs of list(field(request, 'resourceSpans'), 'resourceSpans')) {
    if (!isObj(rs)) throw bad('resourceSpans must hold objects');
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
      }
    }
  }
  if (!out.size) throw bad('no spans found');
  return out;
}

const ms = (ns: string) => Number(BigInt(ns) / 1_000_000n);

function preview(attr: string | undefined): string | null {
  if (attr === undefined) return null;
  return attr.length > MAX_PREVIEW ? attr.slice(0, MAX_PREVIEW) : attr;
}

/** Trace info derived from all of a trace's spans: the root span (no parent) decides state and duration. */
function traceInfoOf(spans: MlflowSpan[]) {
  const root = spans.find((s) => s.parent_span_id === null);
  const start = spans.reduce((min, s) => (BigInt(s.start_time_unix_nano) < BigInt(min) ? s.start_time_unix_nano : min), spans[0].start_time_unix_nano);
  const rootEnd = root?.end_time_unix_nano;
  return {
    requestTime: ms(start),
    duration: root && rootEnd ? Math.max(0, ms(rootEnd) - ms(root.start_time_unix_nano)) : null,
    // Without its root the trace is still being received.
    state: !root ? 'IN_PROGRESS' : root.status.code === 'STATUS_CODE_ERROR' ? 'ERROR' : 'OK',
    name: root?.name,
    requestPreview: preview(root?.attributes['mlflow.spanInputs']),
    responsePreview: preview(root?.attributes['mlflow.spanOutputs']),
  };
}

/**
 * Stores an OTLP request's spans in one experiment. All checks run before anything is written, and
 * the rows of every trace commit together. A trace id already stored in another experiment is refused.
 */
export async function ingestOtlp(deps: Deps, shownExperiment: string, runId: string | undefined, request: unknown): Promise<number> {
  const experimentId = experimentIdOf(shownExperiment);
  const byTrace = spansByTrace(request);
  if (runId !== undefined) checkStorableText(runId, 'run id');
  let count = 0;
  await deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, experimentId, shownExperiment);
    // Sorted, so two requests naming the same traces take their locks in one order (no deadlock).
    for (const [traceId, spans] of [...byTrace].sort(([a], [b]) => (a < b ? -1 : 1))) {
      count += spans.length;
      await storeTrace(deps, tx, { experimentId, root, traceId, spans, runId });
    }
  });
  return count;
}

async function storeTrace(
  deps: Deps,
  tx: Orm,
  t: { experimentId: number; root: string; traceId: string; spans: MlflowSpan[]; runId: string | undefined },
): Promise<void> {
  // Two requests for a trace not yet stored find no row to lock; without this lock both would write
  // traces.json from their own spans alone and one request's spans would be lost.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`otlp:${t.traceId}`}))`);
  const existing = await rows<{ experiment_id: string | number; artifact_location: string }>(
    tx,
    sql`select experiment_id, artifact_location from traces where trace_id = ${t.traceId} for update`,
  );
  if (existing.length && Number(existing[0].experiment_id) !== t.experimentId) {
    throw invalidParam(`Trace ${t.traceId} already exists in another experiment`);
  }
  const artifactLocation = existing[0]?.artifact_location ?? `${t.root}/traces/${t.traceId}/artifacts`;
  const folder = proxiedKeyOf(artifactLocation);
  if (folder === undefined) {
    throw new MlflowError('NOT_IMPLEMENTED', `OTLP ingestion needs the experiment's artifacts in Cairn's store; trace location is ${artifactLocation}`);
  }
  const key = `${folder}/traces.json`;
  const merged = new Map<string, MlflowSpan>();
  if (existing.length) for (const s of await storedSpans(deps, key)) merged.set(s.span_id, s);
  for (const s of t.spans) merged.set(s.span_id, s);
  const all = [...merged.values()];
  if (all.length > MAX_SPANS_PER_TRACE) throw bad(`more than ${MAX_SPANS_PER_TRACE} spans in trace ${t.traceId}`);
  const info = traceInfoOf(all);
  await tx.execute(sql`
    insert into traces (trace_id, experiment_id, client_request_id, request_time, execution_duration, state,
                        request_preview, response_preview, artifact_location)
    values (${t.traceId}, ${t.experimentId}, null, ${info.requestTime}, ${info.duration}, ${info.state},
            ${info.requestPreview}, ${info.responsePreview}, ${artifactLocation})
    on conflict (trace_id) do update set request_time = excluded.request_time, execution_duration = excluded.execution_duration,
      state = excluded.state, request_preview = coalesce(excluded.request_preview, traces.request_preview),
      response_preview = coalesce(excluded.response_preview, traces.response_preview)`);
  const tags = new Map<string, string>();
  if (info.name) tags.set('mlflow.traceName', info.name.slice(0, 8000));
  await upsertKeyValues(tx, 'trace_tags', t.traceId, tags);
  const metadata = new Map([['mlflow.trace_schema.version', '3']]);
  if (t.runId) metadata.set(SOURCE_RUN_METADATA, t.runId.slice(0, 8000));
  await upsertKeyValues(tx, 'trace_metadata', t.traceId, metadata);
  // The blob goes last: if it fails, the rows roll back with the transaction.
  await proxyStore(deps).put(key, Readable.from([Buffer.from(JSON.stringify({ spans: all }))]), 'application/json');
}
