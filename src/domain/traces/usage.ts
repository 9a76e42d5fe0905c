import type { SpanRecord } from './spans.js';

// A trace's token usage and cost from its spans, for traces whose spans came by OTLP alone (no
// StartTraceV3 from the mlflow client, which computes them itself): MLflow's log_spans writes the
// same `mlflow.trace.tokenUsage` and `mlflow.trace.cost` metadata, so token metrics and the UI's
// cost read the same for a trace from any OpenTelemetry exporter. The sum is MLflow's tree-aware
// one (tracing/utils aggregate_*_from_span_nodes): a span's figures count unless an ancestor
// has its own, which already include them (rollup integrations set usage on a parent and children).

export const TOKEN_USAGE_METADATA = 'mlflow.trace.tokenUsage';
export const COST_METADATA = 'mlflow.trace.cost';

const TOKEN_KEYS = ['input_tokens', 'output_tokens', 'total_tokens'];
const CACHE_KEYS = ['cache_read_input_tokens', 'cache_creation_input_tokens', 'cache_creation_input_tokens_above_1hr'];
const COST_KEYS = ['input_cost', 'output_cost', 'total_cost'];

/** An attribute's object value (its JSON text decoded; once more if that was a string), if one. */
function objectOf(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  try {
    let v: unknown = JSON.parse(raw);
    if (typeof v === 'string') v = JSON.parse(v);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The tree-aware sums of one attribute over the spans, or undefined when no span has it. */
function aggregate(spans: SpanRecord[], attribute: string, keys: string[], optional: string[]): Map<string, number> | undefined {
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const s of spans) {
    const parent = s.parent_span_id;
    if (parent && ids.has(parent)) {
      const list = children.get(parent);
      if (list) list.push(s);
      else children.set(parent, [s]);
    } else roots.push(s);
  }
  const totals = new Map(keys.map((k) => [k, 0]));
  let found = false;
  // Iterative: a deep trace must not overflow the stack. `seen` guards a parent cycle.
  const seen = new Set<string>();
  const stack: [SpanRecord, boolean][] = roots.map((r) => [r, false]);
  while (stack.length) {
    const [span, covered] = stack.pop()!;
    if (seen.has(span.span_id)) continue;
    seen.add(span.span_id);
    const data = objectOf(span.attributes?.[attribute]);
    if (data && !covered) {
      for (const k of keys) totals.set(k, totals.get(k)! + num(data[k]));
      for (const k of optional) if (k in data) totals.set(k, (totals.get(k) ?? 0) + num(data[k]));
      found = true;
    }
    for (const child of children.get(span.span_id) ?? []) stack.push([child, covered || data !== undefined]);
  }
  return found ? totals : undefined;
}

/** A float as Python's repr writes it (1.0, not 1). */
const pyFloat = (v: number) => (Number.isInteger(v) && Math.abs(v) < 1e16 ? `${v}.0` : String(v));

const pyDict = (m: Map<string, number>, format: (v: number) => string) =>
  `{${[...m].map(([k, v]) => `${JSON.stringify(k)}: ${format(v)}`).join(', ')}}`;

/** The usage and cost metadata of a trace with these spans (none for what no span carries). */
export function usageMetadata(spans: SpanRecord[]): [string, string][] {
  const out: [string, string][] = [];
  const tokens = aggregate(spans, 'mlflow.chat.tokenUsage', TOKEN_KEYS, CACHE_KEYS);
  if (tokens) out.push([TOKEN_USAGE_METADATA, pyDict(tokens, String)]);
  const cost = aggregate(spans, 'mlflow.llm.cost', COST_KEYS, []);
  if (cost) out.push([COST_METADATA, pyDict(cost, pyFloat)]);
  return out;
}
