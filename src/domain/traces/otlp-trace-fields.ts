import { isStorableText } from '../../lib/storable-text.js';
import { decodedString, pythonJson } from './span-rows.js';
import type { SpanRecord } from './spans.js';
import { SERVER_MANAGED_TAGS, TRACE_NAME_TAG, TRACE_SESSION_METADATA } from './wire.js';

// The trace tags and metadata MLflow's log_spans derives from what an OTLP export carries besides
// spans: the resource's attributes as tags (`service.name` …, so traces can be told apart and
// filtered by the service that sent them), the root span's `mlflow.traceTag.<key>` attributes as
// tags (how the mlflow client's OTel span processor carries a trace's tags), and the session and
// user named by the spans' `session.id` / `gen_ai.conversation.id` and `user.id` attributes.
// A value that is not storable as a tag (too long, NUL) is left out, as MLflow skips it.

const TRACE_TAG_PREFIX = 'mlflow.traceTag.';
const TRACE_USER_METADATA = 'mlflow.trace.user';
const MAX_KEY = 250;
const MAX_VALUE = 8000;
const storable = (key: string, value: string) =>
  key.length > 0 && key.length <= MAX_KEY && value.length <= MAX_VALUE && isStorableText(key) && isStorableText(value);

/** A resource's attributes as trace tags (decoded OTLP values): strings as they are, others as JSON. */
export function resourceTags(attributes: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(attributes)) {
    // The SDK's own description of itself, and MLflow's namespace, which a client must not write.
    if (key.startsWith('telemetry.sdk.') || key.startsWith('mlflow.')) continue;
    const text = typeof value === 'string' ? value : pythonJson(value);
    if (storable(key, text)) out.push([key, text]);
  }
  return out;
}

/** An attribute's string value, or its JSON text when it holds something else (MLflow's str() of it, near enough). */
const decodedText = (raw: string | undefined): string | undefined => (raw === undefined ? undefined : decodedString(raw) ?? raw);

/** The root span's `mlflow.traceTag.<key>` attributes as tags (not the name, nor a server-managed tag). */
export function rootSpanTags(span: SpanRecord): [string, string][] {
  if (span.parent_span_id !== null) return [];
  const out: [string, string][] = [];
  for (const [attr, raw] of Object.entries(span.attributes)) {
    if (!attr.startsWith(TRACE_TAG_PREFIX)) continue;
    const key = attr.slice(TRACE_TAG_PREFIX.length);
    const value = decodedText(raw)!;
    if (key === TRACE_NAME_TAG || SERVER_MANAGED_TAGS.has(key) || !storable(key, value)) continue;
    out.push([key, value]);
  }
  return out;
}

/** The session and user metadata the spans name, for the keys the trace does not hold yet. */
export function sessionAndUser(spans: Iterable<SpanRecord>, has: (key: string) => boolean): [string, string][] {
  let session: string | undefined;
  let user: string | undefined;
  for (const s of spans) {
    session ??= decodedText(s.attributes['session.id'] ?? s.attributes['gen_ai.conversation.id']);
    user ??= decodedText(s.attributes['user.id']);
    if (session !== undefined && user !== undefined) break;
  }
  const out: [string, string][] = [];
  if (session && !has(TRACE_SESSION_METADATA) && storable(TRACE_SESSION_METADATA, session)) out.push([TRACE_SESSION_METADATA, session]);
  if (user && !has(TRACE_USER_METADATA) && storable(TRACE_USER_METADATA, user)) out.push([TRACE_USER_METADATA, user]);
  return out;
}
