import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { backfillSpanRows } from '../../src/domain/traces/span-backfill.js';
import { pythonJson } from '../../src/domain/traces/span-rows.js';
import { uniqueName, type TestApp } from '../harness/app.js';
import { artifactBackends, startArtifactApp } from './artifacts-backends.js';

// The span rows (trace_spans) behind span filters and the spans view of trace metrics: written by
// OTLP merges, by traces.json uploads through the proxy, and by the startup pass for traces stored
// before them. The real client's answers, compared with mlflow server's, are in
// test/compat/test_trace_span_search.py.

let t: TestApp;
let experimentId: string;
let n = 0;
const traceHex = () => `${(++n).toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(24, '0')}`;
const str = (stringValue: string) => ({ stringValue });
// The client sends typed values (to_otel_proto decodes its JSON attributes): a dict as a kvlist.
const numbers = (o: Record<string, number>) => ({ kvlistValue: { values: Object.entries(o).map(([key, doubleValue]) => ({ key, value: { doubleValue } })) } });
const ints = (o: Record<string, number>) => ({ kvlistValue: { values: Object.entries(o).map(([key, v]) => ({ key, value: { intValue: String(v) } })) } });

/** A root AGENT span with a TOOL child and an LLM child (model, provider, cost), as OTLP JSON. */
function spansOf(hex: string, i: number, opts: { toolError?: boolean; model?: string; rollup?: boolean } = {}) {
  const t0 = 1772359200000000000n + BigInt(i) * 1_000_000_000n;
  const at = (ms: number) => String(t0 + BigInt(ms) * 1_000_000n);
  return [
    { traceId: hex, spanId: 'a'.repeat(16), name: `agent-${i}`, startTimeUnixNano: at(0), endTimeUnixNano: at(900),
      attributes: [
        { key: 'mlflow.spanType', value: str('AGENT') }, { key: 'mlflow.spanInputs', value: str(`why ${i}? héllo`) },
        // A rollup integration's usage on the parent: it covers its children's.
        ...(opts.rollup ? [{ key: 'mlflow.chat.tokenUsage', value: ints({ input_tokens: 1000, output_tokens: 1, total_tokens: 1001 }) }] : []),
      ], status: { code: 1 } },
    { traceId: hex, spanId: 'b'.repeat(16), parentSpanId: 'a'.repeat(16), name: 'search', startTimeUnixNano: at(10), endTimeUnixNano: at(250),
      attributes: [{ key: 'mlflow.spanType', value: str('TOOL') }, { key: 'mlflow.spanInputs', value: numbers({ query: i }) }],
      status: opts.toolError ? { code: 2, message: 'boom' } : { code: 1 } },
    { traceId: hex, spanId: 'c'.repeat(16), parentSpanId: 'a'.repeat(16), name: 'llm', startTimeUnixNano: at(300), endTimeUnixNano: at(800),
      attributes: [
        { key: 'mlflow.spanType', value: str('LLM') }, { key: 'mlflow.llm.model', value: str(opts.model ?? 'gpt-4o') },
        { key: 'mlflow.llm.provider', value: str('openai') },
        { key: 'mlflow.llm.cost', value: numbers({ input_cost: 0.01 * (i + 1), output_cost: 0.02, total_cost: 0.01 * (i + 1) + 0.02 }) },
        { key: 'mlflow.chat.tokenUsage', value: ints({ input_tokens: 10 * (i + 1), output_tokens: 5, total_tokens: 10 * (i + 1) + 5 }) },
      ], status: { code: 1 } },
  ];
}

async function send(spans: unknown[]) {
  const res = await t.api.post('/v1/traces').set({ 'Content-Type': 'application/json', 'x-mlflow-experiment-id': experimentId })
    .send(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const search = async (filter: string, experiment = experimentId) => {
  const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experiment } }], filter });
  return { status: res.status, body: res.body, ids: ((res.body.traces ?? []) as { trace_id: string }[]).map((x) => x.trace_id).sort() };
};
const metrics = (body: Record<string, unknown>) => t.api.post('/api/3.0/mlflow/traces/metrics').send({ experiment_ids: [experimentId], view_type: 'SPANS', ...body });

describe.each(artifactBackends())('span rows ($name store)', (backend) => {
  const ids: string[] = [];
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('span-rows') })).body.experiment_id;
    for (let i = 0; i < 3; i++) {
      const hex = traceHex();
      // Each span in a request of its own, as the client exports them as they end (children first).
      for (const span of spansOf(hex, i, { toolError: i === 2, model: i === 1 ? 'claude' : undefined, rollup: i === 1 }).reverse()) await send([span]);
      ids.push(`tr-${hex}`);
    }
  });
  afterAll(() => t.close());

  it('searches traces by their spans: clauses on one span hold together', async () => {
    expect((await search("span.name = 'search'")).ids).toEqual([...ids].sort());
    expect((await search("span.type = 'TOOL' AND span.status = 'ERROR'")).ids).toEqual([ids[2]]);
    // The error is on the TOOL span, not on the LLM span: no one span has both.
    expect((await search("span.type = 'LLM' AND span.status = 'ERROR'")).ids).toEqual([]);
    expect((await search("span.name IN ('agent-1', 'x')")).ids).toEqual([ids[1]]);
    expect((await search("span.name NOT IN ('search', 'llm', 'agent-0')")).ids).toEqual([ids[1], ids[2]].sort());
    expect((await search("span.name ILIKE 'AGENT-%'")).ids).toHaveLength(3);
    // The attribute's JSON as Python writes it (a space after ':'), inside the span's JSON.
    expect((await search("span.content LIKE '%query%: 1}%'")).ids).toEqual([ids[1]]);
    // ILIKE folds ASCII in any database; `é` against `É` depends on its locale (C in CI), so it is kept as stored.
    expect((await search("trace.text ILIKE '%WHY 2? HéLLO%'")).ids).toEqual([ids[2]]);
    expect((await search("span.attributes.mlflow.llm.model LIKE '%claude%'")).ids).toEqual([ids[1]]);
    expect((await search("span.name = 'search' AND trace.status = 'OK'")).ids).toHaveLength(3);
    for (const [filter, message] of [
      ["span.attributes.mlflow.llm.model = 'claude'", "comparator '=' not one of 'LIKE', 'ILIKE'"],
      ["span.content = 'x'", "comparator '=' not one of 'LIKE', 'ILIKE'"],
      ["span.bogus = 'x'", "Invalid span attribute 'bogus'"],
      ['span.name IS NULL', "Invalid comparator 'IS NULL'"],
      ["trace.text = 'x'", "Invalid comparator '='"],
    ]) {
      const res = await search(filter);
      expect([res.status, res.body.error_code, res.body.message], filter).toEqual([400, 'INVALID_PARAMETER_VALUE', expect.stringContaining(message)]);
    }
  });

  it('answers the spans view of trace metrics from the rows', async () => {
    const count = await metrics({ metric_name: 'span_count', aggregations: [{ aggregation_type: 'COUNT' }], dimensions: ['span_type'] });
    expect(count.body.data_points).toEqual(['AGENT', 'LLM', 'TOOL'].map((type) => ({ metric_name: 'span_count', dimensions: { span_type: type }, values: { COUNT: 3 } })));
    const tools = await metrics({ metric_name: 'span_count', aggregations: [{ aggregation_type: 'COUNT' }], dimensions: ['span_name', 'span_status'], filters: ["span.type = 'TOOL'"] });
    expect(tools.body.data_points).toEqual([
      { metric_name: 'span_count', dimensions: { span_name: 'search', span_status: 'ERROR' }, values: { COUNT: 1 } },
      { metric_name: 'span_count', dimensions: { span_name: 'search', span_status: 'OK' }, values: { COUNT: 2 } },
    ]);
    const latency = await metrics({ metric_name: 'latency', aggregations: [{ aggregation_type: 'AVG' }, { aggregation_type: 'MAX' }], filters: ["span.name = 'llm'"] });
    expect(latency.body.data_points).toEqual([{ metric_name: 'latency', values: { AVG: 500, MAX: 500 } }]);
    const cost = await metrics({ metric_name: 'total_cost', aggregations: [{ aggregation_type: 'SUM' }], dimensions: ['span_model_name'] });
    expect(cost.body.data_points.map((p: { dimensions: unknown; values: { SUM: number } }) => [p.dimensions, Math.round(p.values.SUM * 1e6) / 1e6])).toEqual([
      [{ span_model_name: 'claude' }, 0.04],
      [{ span_model_name: 'gpt-4o' }, 0.08],
    ]);
    // Costs are placed by the span's start: a range ending before the first trace's LLM span has none.
    const before = await metrics({ metric_name: 'input_cost', aggregations: [{ aggregation_type: 'SUM' }], start_time_ms: 0, end_time_ms: 1772359200299 });
    expect(before.body).toEqual({});
    const hourly = await metrics({ metric_name: 'span_count', aggregations: [{ aggregation_type: 'COUNT' }], time_interval_seconds: 3600, start_time_ms: 1772359200000, end_time_ms: 1772362800000 });
    expect(hourly.body.data_points).toEqual([{ metric_name: 'span_count', dimensions: { time_bucket: '2026-03-01T10:00:00+00:00' }, values: { COUNT: 9 } }]);
    const wrong = await metrics({ metric_name: 'span_count', aggregations: [{ aggregation_type: 'COUNT' }], filters: ["span.kind = 'x'"] });
    expect([wrong.status, wrong.body.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
  });

  it("sums a trace's token usage and cost from its spans, as MLflow's log_spans, for the traces metrics", async () => {
    const info = async (id: string) => (await t.api.get(`/api/3.0/mlflow/traces/${id}`)).body.trace.trace_info.trace_metadata;
    expect(await info(ids[0])).toMatchObject({
      'mlflow.trace.tokenUsage': '{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}',
      'mlflow.trace.cost': '{"input_cost": 0.01, "output_cost": 0.02, "total_cost": 0.03}',
    });
    expect((await info(ids[1]))['mlflow.trace.tokenUsage']).toBe('{"input_tokens": 1000, "output_tokens": 1, "total_tokens": 1001}');
    const tokens = await metrics({ view_type: 'TRACES', metric_name: 'input_tokens', aggregations: [{ aggregation_type: 'SUM' }] });
    expect(tokens.body.data_points).toEqual([{ metric_name: 'input_tokens', values: { SUM: 1040 } }]);
  });

  it('keeps the rows of an uploaded traces.json, and deletes them with the trace', async () => {
    const hex = traceHex();
    const traceId = `tr-${hex}`;
    const start = await t.api.post('/api/3.0/mlflow/traces').send({ trace: { trace_info: {
      trace_id: traceId, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2026-03-01T10:00:00Z', execution_duration: '1s', state: 'OK',
    } } });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const file = { spans: [{ trace_id: 'x', span_id: 'up-1', parent_span_id: null, name: 'uploaded', start_time_unix_nano: 1772359200000000000, end_time_unix_nano: 1772359200100000000,
      events: [], status: { code: 'STATUS_CODE_OK', message: '' }, attributes: { 'mlflow.spanType': '"RETRIEVER"', 'mlflow.spanInputs': '"needle-in-upload"' } }] };
    const put = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/${traceId}/artifacts/traces.json`).send(Buffer.from(JSON.stringify(file)));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await search("span.type = 'RETRIEVER'")).ids).toEqual([traceId]);
    // A NUL in an uploaded span's id or name (Postgres text holds none) is left out of its row, not a failed upload.
    const odd = { ...file.spans[0], span_id: 'up-\u0000-2', name: 'nul\u0000name' };
    const again = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/${traceId}/artifacts/traces.json`).send(Buffer.from(JSON.stringify({ spans: [...file.spans, odd] })));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect((await search("span.name = 'nulname'")).ids).toEqual([traceId]);
    expect((await search("trace.text LIKE '%needle-in-upload%'")).ids).toEqual([traceId]);
    const [row] = await rows<{ content: string }>(t.deps.db, sql`select content from trace_spans where trace_id = ${traceId} and span_id = 'up-1'`);
    // Python's json.dumps: ", " and ": " between items, nanosecond times as numbers.
    expect(row.content).toBe(pythonJson(file.spans[0]));
    expect(row.content).toContain('"start_time_unix_nano": 1772359200000000000, ');
    const del = await t.api.post('/api/3.0/mlflow/traces/delete-traces').send({ experiment_id: experimentId, request_ids: [traceId] });
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(await rows(t.deps.db, sql`select 1 from trace_spans where trace_id = ${traceId}`)).toEqual([]);
  });

  it('writes the rows of traces stored before span rows were kept, from their traces.json', async () => {
    // As a trace stored before migration 0039 stands: spans in traces.json, no rows, not indexed.
    await t.deps.db.execute(sql`delete from trace_spans where trace_id = ${ids[0]}`);
    await t.deps.db.execute(sql`update traces set spans_indexed = false where trace_id = ${ids[0]}`);
    expect((await search("span.name = 'agent-0'")).ids).toEqual([]);
    // At least this one (another suite on the same Postgres may have such traces too).
    expect(await backfillSpanRows(t.deps)).toBeGreaterThanOrEqual(1);
    expect((await search("span.name = 'agent-0'")).ids).toEqual([ids[0]]);
    expect(await rows(t.deps.db, sql`select span_id from trace_spans where trace_id = ${ids[0]}`)).toHaveLength(3);
    expect(await rows(t.deps.db, sql`select 1 from traces where trace_id = ${ids[0]} and spans_indexed`)).toHaveLength(1);
  });
});
