import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { staleTraceText } from '../harness/trace-text.js';

// MLflow 3 traces over HTTP, as the client's exporter and MLflow's UI call them (the full client
// round trip, spans included, is test/compat/test_tracing.py).

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces') })).body.experiment_id;
});
afterAll(() => t.close());

const location = (id: string) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } });
let n = 0;
const newTraceId = () => `tr-${(++n).toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(24, '0')}`;

async function start(info: Record<string, unknown>) {
  return t.api.post('/api/3.0/mlflow/traces').send({ trace: { trace_info: info } });
}
const info = (over: Record<string, unknown> = {}) => ({
  trace_id: newTraceId(),
  trace_location: location(experimentId),
  request_time: '2026-03-01T10:00:00.250Z',
  execution_duration: '1.500s',
  state: 'OK',
  request_preview: '{"q": 1}',
  trace_metadata: { 'mlflow.trace_schema.version': '3' },
  tags: { 'mlflow.traceName': 'fn' },
  ...over,
});

describe('traces', () => {
  it('stores a trace and answers it with the artifact location its spans go to', async () => {
    const sent = info();
    const res = await start(sent);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const out = res.body.trace.trace_info;
    expect(out).toMatchObject({
      trace_id: sent.trace_id,
      trace_location: location(experimentId),
      request_time: '2026-03-01T10:00:00.250Z',
      execution_duration: '1.500s',
      state: 'OK',
      request_preview: '{"q": 1}',
      trace_metadata: { 'mlflow.trace_schema.version': '3' },
    });
    expect(out.tags['mlflow.artifactLocation']).toBe(`mlflow-artifacts:/${experimentId}/traces/${sent.trace_id}/artifacts`);
    const got = await t.api.get(`/api/3.0/mlflow/traces/${sent.trace_id}`);
    expect(got.body.trace.trace_info).toEqual(out);
  });

  it('stores the assessments logged while the trace was open, sent inside its info', async () => {
    const assessment = { assessment_id: `a-${Date.now().toString(16).padStart(32, '0')}`, assessment_name: 'correct', feedback: { value: true }, source: { source_type: 'HUMAN', source_id: 'me' } };
    const sent = info({ assessments: [assessment] });
    expect((await start(sent)).status).toBe(200);
    expect((await start(sent)).status).toBe(200); // a retried export replaces, never duplicates
    const got = (await t.api.get(`/api/3.0/mlflow/traces/${sent.trace_id}`)).body.trace.trace_info;
    expect(got.assessments).toEqual([{ ...assessment, trace_id: sent.trace_id, valid: true }]);
    const one = await t.api.get(`/api/3.0/mlflow/traces/${sent.trace_id}/assessments/${assessment.assessment_id}`);
    expect(one.body.assessment.feedback).toEqual({ value: true });
    // A search answers the same info as the trace's own GET: tags, metadata and assessments.
    const found = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(experimentId)], filter: `trace.trace_id = '${sent.trace_id}'` });
    expect(found.body.traces).toEqual([got]);
  });

  it('answers GET traces/get itself (not as a trace named "get"): an unknown trace is a 404 naming it', async () => {
    const res = await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: 'tr-1' });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain("Trace with ID 'tr-1' not found");
  });

  it('a retried export replaces the trace instead of failing; a client cannot move its artifact location', async () => {
    const sent = info({ tags: { 'mlflow.artifactLocation': 's3://elsewhere/x' } });
    expect((await start(sent)).status).toBe(200);
    const again = await start({ ...sent, state: 'ERROR' });
    expect(again.body.trace.trace_info.state).toBe('ERROR');
    expect(again.body.trace.trace_info.tags['mlflow.artifactLocation']).toMatch(/^mlflow-artifacts:\//);
  });

  it('a StartTraceV3 for a stored trace merges its tags and metadata over the stored ones, and keeps them as their rows say', async () => {
    // The row's kept text is merged by the upsert itself (write.ts): it must come out as the
    // triggers would write it from the rows, for any keys and values.
    const odd = `"\\/\u0001\u001f\u007f\u2028é漢😀`;
    const sent = info({ tags: { 'mlflow.traceName': 'first', [odd]: 'kept', b: 'old', Z: 'z' }, trace_metadata: { a: '1', [`${odd}m`]: odd } });
    expect((await start(sent)).status).toBe(200);
    const traceId = sent.trace_id as string;
    const feedback = { assessment_name: 'ok', feedback: { value: true }, source: { source_type: 'HUMAN', source_id: 'me' } };
    const logged = await t.api.post(`/api/3.0/mlflow/traces/${traceId}/assessments`).send({ assessment: { trace_id: traceId, ...feedback } });
    expect(logged.status, JSON.stringify(logged.body)).toBe(200);
    // The name is left out: the stored one stays.
    const again = await start({ ...sent, tags: { b: 'new', [`${odd}2`]: odd, '10': 'ten' }, trace_metadata: { a: '2', é: 'e' }, state: 'ERROR' });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const answered = again.body.trace.trace_info;
    expect(answered.tags).toEqual({
      'mlflow.traceName': 'first', [odd]: 'kept', b: 'new', Z: 'z', [`${odd}2`]: odd, '10': 'ten',
      'mlflow.artifactLocation': `mlflow-artifacts:/${experimentId}/traces/${traceId}/artifacts`,
    });
    expect(answered.trace_metadata).toEqual({ a: '2', [`${odd}m`]: odd, é: 'e' });
    expect(answered.state).toBe('ERROR');
    // Its assessments come with it, as get_trace answers them.
    expect(answered.assessments).toEqual([expect.objectContaining({ assessment_name: 'ok', feedback: { value: true } })]);
    expect((await t.api.get(`/api/3.0/mlflow/traces/${traceId}`)).body.trace.trace_info).toEqual(answered);
    expect(await staleTraceText(t.deps.db, [traceId])).toEqual([]);
    const byName = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(experimentId)], filter: "trace.name = 'first'" });
    expect(byName.body.traces.map((x: { trace_id: string }) => x.trace_id)).toContain(traceId);

    // The same trace sent to another experiment is refused, and nothing of it is written.
    const other = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-other') })).body.experiment_id;
    const moved = await start({ ...sent, trace_location: location(other), tags: { b: 'moved', c: 'new' }, trace_metadata: { a: '3' } });
    expect(moved.status).toBe(400);
    expect(moved.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: `Trace ${traceId} already exists in another experiment` });
    expect((await t.api.get(`/api/3.0/mlflow/traces/${traceId}`)).body.trace.trace_info).toEqual(answered);
    expect(await staleTraceText(t.deps.db, [traceId])).toEqual([]);
  });

  it('searches by feedback and expectation values: numbers as numbers (any magnitude), text as JSON text, overridden ones left out', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-feedback') })).body.experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = info({ trace_location: location(exp), request_time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
      expect((await start(sent)).status).toBe(200);
      ids.push(sent.trace_id as string);
    }
    const log = async (i: number, assessment: Record<string, unknown>) => {
      const res = await t.api.post(`/api/3.0/mlflow/traces/${ids[i]}/assessments`).send({
        assessment: { trace_id: ids[i], source: { source_type: 'HUMAN', source_id: 'me' }, ...assessment },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.assessment.assessment_id as string;
    };
    await log(0, { assessment_name: 'score', feedback: { value: 1e300 } });
    await log(1, { assessment_name: 'score', feedback: { value: 'high' } });
    const replaced = await log(2, { assessment_name: 'score', feedback: { value: 5 } });
    await log(2, { assessment_name: 'score', feedback: { value: -5 }, overrides: replaced });
    await log(3, { assessment_name: 'answer', expectation: { serialized_value: { serialization_format: 'JSON_FORMAT', value: '{"a": 1}' } } });
    // Exported with the trace, with a `valid` that is no boolean: kept as sent, and it does not fail the searches below.
    const oddId = `a-${Date.now().toString(16).padStart(32, 'e')}`;
    const odd = info({ trace_location: location(exp), assessments: [{ assessment_id: oddId, assessment_name: 'odd', feedback: { value: 2 }, valid: 'maybe' }] });
    expect((await start(odd)).status).toBe(200);
    ids.push(odd.trace_id as string);
    // The same assessment id exported with another trace is refused, as in MLflow, and that trace is not stored.
    const thief = info({ trace_location: location(exp), assessments: [{ assessment_id: oddId, assessment_name: 'odd', feedback: { value: 9 } }] });
    const refused = await start(thief);
    expect([refused.status, refused.body.message]).toEqual([400, `Assessment with ID '${oddId}' belongs to another trace.`]);
    expect((await t.api.get(`/api/3.0/mlflow/traces/${thief.trace_id}`)).status).toBe(404);
    const found = async (filter: string) => {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], filter });
      expect(res.status, `${filter}: ${JSON.stringify(res.body)}`).toBe(200);
      return (res.body.traces ?? []).map((x: { trace_id: string }) => ids.indexOf(x.trace_id)).sort();
    };
    expect(await found('feedback.odd > 1')).toEqual([4]);
    expect(await found('feedback.score > 0')).toEqual([0]);
    expect(await found('feedback.score > 1e400')).toEqual([]);
    expect(await found('feedback.score > -1e400')).toEqual([0, 2]);
    expect(await found('feedback.score >= 5')).toEqual([0]);
    expect(await found("feedback.score = 'high'")).toEqual([1]);
    expect(await found("feedback.score = '\"high\"'")).toEqual([1]);
    expect(await found('feedback.score IS NULL')).toEqual([3, 4]);
    expect(await found(`expectation.answer = '{"a": 1}'`)).toEqual([3]);
    expect(await found('expectation.answer > 0')).toEqual([]);
    for (const bad of ['feedback.score = 1', "feedback.score > 'x'", "feedback.score IN ('high')", "expectation.answer NOT IN ('x')"]) {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], filter: bad });
      expect([res.status, res.body.error_code], bad).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    }
    // Traces without spans match no span filter (test/integration/trace-span-rows.test.ts has those with spans).
    expect(await found("span.name = 'retrieve'")).toEqual([]);
    // An issue filter is MLflow grammar that Cairn does not search: said so, not called invalid.
    const issue = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], filter: "issue.id = 'i-1'" });
    expect([issue.status, issue.body.message]).toEqual([400, expect.stringContaining('does not search traces by issue')]);
  });

  it('answers trace metrics from the rows (tokens read from the metadata text, a malformed one ignored) and refuses requests outside the rules', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-metrics') })).body.experiment_id;
    const usage = ['{"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}', '{"input_tokens": "x"', '{"input_tokens": 1e400}', '{"input_tokens": 5}', '{"input_tokens":   }'];
    for (const [i, u] of usage.entries()) {
      const sent = info({ trace_location: location(exp), request_time: new Date(Date.UTC(2026, 0, 1, i)).toISOString(), trace_metadata: { 'mlflow.trace.tokenUsage': u } });
      expect((await start(sent)).status).toBe(200);
    }
    const metrics = (body: Record<string, unknown>) => t.api.post('/api/3.0/mlflow/traces/metrics').send({ experiment_ids: [exp], ...body });
    const tokens = await metrics({ view_type: 'TRACES', metric_name: 'input_tokens', aggregations: [{ aggregation_type: 'SUM' }, { aggregation_type: 'PERCENTILE', percentile_value: 50 }] });
    expect(tokens.body).toEqual({ data_points: [{ metric_name: 'input_tokens', values: { SUM: 12, 'P50.0': 6 } }] });
    // Enums by number (1 = TRACES, 1 = COUNT), hourly buckets written as Python's isoformat.
    const hourly = await metrics({ view_type: 1, metric_name: 'trace_count', aggregations: [{ aggregation_type: 1 }], time_interval_seconds: 3600, start_time_ms: Date.UTC(2026, 0, 1), end_time_ms: Date.UTC(2026, 0, 1, 1) });
    expect(hourly.body.data_points).toEqual([
      { metric_name: 'trace_count', dimensions: { time_bucket: '2026-01-01T00:00:00+00:00' }, values: { COUNT: 1 } },
      { metric_name: 'trace_count', dimensions: { time_bucket: '2026-01-01T01:00:00+00:00' }, values: { COUNT: 1 } },
    ]);
    // The spans view of traces without spans: a count of none (a count is never null), as MLflow's.
    expect((await metrics({ view_type: 'SPANS', metric_name: 'span_count', aggregations: [{ aggregation_type: 'COUNT' }] })).body).toEqual({ data_points: [{ metric_name: 'span_count', values: { COUNT: 0 } }] });
    for (const bad of [
      { metric_name: 'trace_count', aggregations: [{ aggregation_type: 'SUM' }] },
      { metric_name: 'latency', aggregations: [{ aggregation_type: 'PERCENTILE', percentile_value: 150 }] },
      { metric_name: 'latency', aggregations: [{ aggregation_type: 'PERCENTILE' }] },
      { metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }], time_interval_seconds: 60 },
      { metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }], time_interval_seconds: 0, start_time_ms: 0, end_time_ms: 1 },
      { metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }], filters: ["trace.status = 'OK' OR 1=1"] },
      { metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }], view_type: 'RUNS' },
      { metric_name: 'trace_count', aggregations: [] },
    ]) {
      const res = await metrics(bad);
      expect([res.status, res.body.error_code], JSON.stringify(bad)).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    }
  });

  it('refuses bad input in MLflow shape and stores nothing', async () => {
    const other = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-bad') })).body.experiment_id;
    const cases: [Record<string, unknown>, number][] = [
      [info({ trace_location: location(other), trace_id: '../x' }), 400],
      [info({ trace_location: location(other), request_time: 'soon' }), 400],
      // Epoch ms past year 9999, the end of a proto Timestamp: stored, it was answered as '+033658-…', which no client parses.
      [info({ trace_location: location(other), request_time: '999999999999999' }), 400],
      [info({ trace_location: location(other), execution_duration: '5 minutes' }), 400],
      [info({ trace_location: location(other), state: 'DONE' }), 400],
      [info({ trace_location: location(other), tags: { k: 'v'.repeat(8001) } }), 400],
      [info({ trace_location: location(other), trace_metadata: { k: 1 } }), 400],
      [info({ trace_location: {} }), 400],
      [info({ trace_location: location('987654321') }), 404],
    ];
    for (const [body, status] of cases) {
      const res = await start(body);
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(status);
      expect(res.body.error_code).toBe(status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE');
    }
    const found = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(other)] });
    expect(found.body).toEqual({});
  });

  it('searches with filters, order and pages, in both the v3 and the UI v2 shape', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-search') })).body.experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = info({
        trace_location: location(exp),
        request_time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        execution_duration: `${i}.000s`,
        state: i === 4 ? 'ERROR' : 'OK',
        tags: { 'mlflow.traceName': `fn${i}`, parity: i % 2 ? 'odd' : 'even' },
        trace_metadata: { 'mlflow.sourceRun': i < 2 ? 'run-a' : 'run-b' },
      });
      expect((await start(sent)).status).toBe(200);
      ids.push(sent.trace_id as string);
    }
    const search = async (body: Record<string, unknown>) => {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { traces?: { trace_id: string }[]; next_page_token?: string };
    };
    const idsOf = (b: { traces?: { trace_id: string }[] }) => (b.traces ?? []).map((x) => x.trace_id);
    expect(idsOf(await search({}))).toEqual([...ids].reverse());
    expect(idsOf(await search({ filter: "status = 'ERROR'" }))).toEqual([ids[4]]);
    expect(idsOf(await search({ filter: "tags.parity = 'odd'", order_by: ['timestamp_ms ASC'] }))).toEqual([ids[1], ids[3]]);
    expect(idsOf(await search({ filter: "attribute.run_id = 'run-a'", order_by: ['timestamp ASC'] }))).toEqual([ids[0], ids[1]]);
    expect(idsOf(await search({ filter: "metadata.`mlflow.sourceRun` = 'run-b' AND execution_time_ms >= 3000", order_by: ['execution_time DESC'] }))).toEqual([ids[4], ids[3]]);
    expect(idsOf(await search({ filter: "name = 'fn2'" }))).toEqual([ids[2]]);
    expect(idsOf(await search({ filter: `trace.timestamp_ms < ${Date.UTC(2026, 0, 1, 0, 0, 2)}`, order_by: ['timestamp_ms ASC'] }))).toEqual(ids.slice(0, 2));
    const p1 = await search({ max_results: 3, order_by: ['timestamp_ms ASC'] });
    expect(idsOf(p1)).toEqual(ids.slice(0, 3));
    const p2 = await search({ max_results: 3, order_by: ['timestamp_ms ASC'], page_token: p1.next_page_token });
    expect(idsOf(p2)).toEqual(ids.slice(3));
    expect(p2.next_page_token).toBeUndefined();

    const v2 = await t.api.get('/ajax-api/2.0/mlflow/traces').query({ experiment_ids: exp, filter: "status = 'ERROR'" });
    expect(v2.body.traces).toEqual([
      expect.objectContaining({ request_id: ids[4], experiment_id: exp, timestamp_ms: Date.UTC(2026, 0, 1, 0, 0, 4), execution_time_ms: 4000, status: 'ERROR' }),
    ]);
    const count = await t.api.post('/ajax-api/3.0/mlflow/traces/metrics').send({ experiment_ids: [exp], metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }] });
    expect(count.body).toEqual({ data_points: [{ metric_name: 'trace_count', values: { COUNT: 5 } }] });

    for (const [filter, why] of [["nosuch.x = 'a'", 'entity'], ["status > 'OK'", 'comparator'], ['tags.a = ', 'syntax'], ["timestamp_ms = 'x'", 'type']]) {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], filter });
      expect(res.status, why).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const bad = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], max_results: 100000 });
    expect(bad.status).toBe(400);
  });

  it('matches long tag, metadata and name values whole, though their index holds only 200 characters; orders nulls last; searches two experiments', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-values') })).body.experiment_id;
    const x = (n: number) => 'x'.repeat(n);
    // Incompressible, at MLflow's 8000-character limit: far past a btree entry, so only its prefix may be indexed.
    // It starts with a letter other than x, so that `LIKE 'x%'` below cannot match it by chance (1 in 64).
    const noise = `n${randomBytes(6000).toString('base64url').slice(1)}`;
    const values = [x(250) + 'a', x(250) + 'b', x(199), x(200), noise];
    const ids: string[] = [];
    for (const [i, v] of values.entries()) {
      const sent = info({
        trace_location: location(exp),
        request_time: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString(),
        // The third trace is still running: no execution time.
        ...(i === 2 ? { state: 'IN_PROGRESS', execution_duration: undefined } : { execution_duration: `${i + 1}.000s` }),
        tags: { 'mlflow.traceName': v, k: v },
        trace_metadata: { m: v },
      });
      expect((await start(sent)).status).toBe(200);
      ids.push(sent.trace_id as string);
    }
    const search = async (body: Record<string, unknown>, locations = [location(exp)]) => {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations, order_by: ['timestamp_ms ASC'], ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return ((res.body.traces ?? []) as { trace_id: string }[]).map((r) => r.trace_id);
    };
    const quote = (v: string) => `'${v}'`;
    // The name is also the row's name column, whose index holds its first 200 characters too.
    for (const entity of ['tags.k', 'metadata.m', 'tags.`mlflow.traceName`', 'name', 'trace.name']) {
      expect(await search({ filter: `${entity} = ${quote(values[0])}` }), entity).toEqual([ids[0]]);
      expect(await search({ filter: `${entity} IN (${quote(values[1])}, ${quote(x(199))})` }), entity).toEqual([ids[1], ids[2]]);
      // 200 characters: the first two share that prefix; only the whole value tells them apart.
      expect(await search({ filter: `${entity} = ${quote(x(200))}` }), entity).toEqual([ids[3]]);
      expect(await search({ filter: `${entity} = ${quote(x(199))}` }), entity).toEqual([ids[2]]);
      expect(await search({ filter: `${entity} = ${quote(noise)}` }), entity).toEqual([ids[4]]);
      expect(await search({ filter: `${entity} IN (${quote(noise.slice(0, 200))}, ${quote(x(201))})` }), entity).toEqual([]);
      expect(await search({ filter: `${entity} != ${quote(x(200))}` }), entity).toEqual([ids[0], ids[1], ids[2], ids[4]]);
      expect(await search({ filter: `${entity} LIKE 'x%'` }), entity).toEqual(ids.slice(0, 4));
    }
    expect(await search({ order_by: ['name ASC'] })).toEqual([ids[4], ids[2], ids[3], ids[0], ids[1]]);
    expect(await search({ order_by: ['execution_time DESC'] })).toEqual([ids[4], ids[3], ids[1], ids[0], ids[2]]);
    expect(await search({ order_by: ['execution_time ASC'] })).toEqual([ids[0], ids[1], ids[3], ids[4], ids[2]]);
    expect(await search({ order_by: ['timestamp_ms DESC'] })).toEqual([...ids].reverse());
    expect(await search({ filter: "state = 'OK'", order_by: [] })).toEqual([ids[4], ids[3], ids[1], ids[0]]);
    // Two experiments: one order across both, newest first, the other's traces between this one's.
    const exp2 = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-values-2') })).body.experiment_id;
    const other: string[] = [];
    for (const second of [1.5, 3.5]) {
      const sent = info({ trace_location: location(exp2), request_time: new Date(Date.UTC(2026, 1, 1, 0, 0, 0) + second * 1000).toISOString() });
      expect((await start(sent)).status).toBe(200);
      other.push(sent.trace_id as string);
    }
    const two = [location(exp), location(exp2)];
    expect(await search({ order_by: [] }, two)).toEqual([ids[4], other[1], ids[3], ids[2], other[0], ids[1], ids[0]]);
    expect(await search({ filter: "state = 'OK'", order_by: ['execution_time DESC'] }, two)).toEqual([ids[4], ids[3], ids[1], other[1], other[0], ids[0]]);
  });

  it("answers a search with what get_trace answers for each trace, whatever the keys and values", async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-bytes') })).body.experiment_id;
    // Every control character, quotes and backslashes, line and paragraph separators, non-BMP text.
    const odd = `${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}"\\/\u007f\u2028\u2029é漢😀`;
    const variants: Record<string, unknown>[] = [
      { tags: { 'mlflow.traceName': odd, [odd]: odd, b: '1', a: '2', Z: '', _: 'x' }, trace_metadata: { [odd]: odd, 'mlflow.trace_schema.version': '3' } },
      // Integer-like keys come first in a JavaScript object, whatever their place in key order.
      { tags: { '10': 'ten', '9': 'nine', '01': 'zero-one', '4294967295': 'past', a: 'x' }, trace_metadata: { '2': 'two', '1x': 'y' } },
      { tags: {}, trace_metadata: {}, client_request_id: odd, request_preview: odd, response_preview: '"quoted"', state: 'IN_PROGRESS', execution_duration: undefined },
      { tags: { __proto__x: 'p', 'mlflow.traceName': 'fn' }, request_time: '2026-03-01T00:00:03Z', execution_duration: '0.001s' },
      {
        assessments: [{ assessment_id: `a-${Date.now().toString(16).padStart(32, '1')}`, assessment_name: 'ok', feedback: { value: odd }, source: { source_type: 'HUMAN', source_id: 'me' } }],
      },
    ];
    const ids: string[] = [];
    for (const [i, v] of variants.entries()) {
      // Times i seconds and 7 ms in; the fourth's own time is a whole second (no fraction written).
      const sent = info({ trace_location: location(exp), request_time: new Date(Date.UTC(2026, 2, 1, 0, 0, i, 7)).toISOString(), ...v });
      const res = await start(sent);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      ids.push(sent.trace_id as string);
    }
    // get_trace's answer (JSON.stringify of the trace info object) is the reference; the search's is
    // written by Postgres (traceInfoJson), its tags and metadata in byte order of their keys.
    const infoOf = async (id: string) => {
      const res = await t.api.get(`/api/3.0/mlflow/traces/${id}`);
      expect(res.text.startsWith('{"trace":{"trace_info":')).toBe(true);
      return (JSON.parse(res.text) as { trace: { trace_info: Record<string, unknown> } }).trace.trace_info;
    };
    const expected = await Promise.all([...ids].reverse().map(infoOf));
    const search = (body: Record<string, unknown>) => t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], ...body });
    const all = await search({});
    expect(all.headers['content-type']).toBe('application/json');
    expect(JSON.parse(all.text)).toEqual({ traces: expected });
    // Field by field, in get_trace's order.
    for (const [i, trace] of (JSON.parse(all.text) as { traces: Record<string, unknown>[] }).traces.entries()) {
      expect(Object.keys(trace)).toEqual(Object.keys(expected[i]));
    }
    expect(all.text).toContain('"tags":{"01":"zero-one","10":"ten","4294967295":"past","9":"nine","a":"x","mlflow.artifactLocation":');
    expect(all.text).toContain('"request_time":"2026-03-01T00:00:03Z"');
    expect(all.text).toContain('"request_time":"2026-03-01T00:00:00.007Z"');
    expect(all.text).toContain('"execution_duration":"0.001s"');
    const first = await search({ max_results: 2 });
    expect(JSON.parse(first.text)).toEqual({ traces: expected.slice(0, 2), next_page_token: expect.any(String) });
    expect(first.text.endsWith(`,"next_page_token":${JSON.stringify(first.body.next_page_token)}}`)).toBe(true);
    expect((await search({ filter: "name = 'nobody'" })).text).toBe('{}');
    expect(expected[3].tags).toEqual(expect.objectContaining({ '10': 'ten', '01': 'zero-one' }));
  });

  it('finds a trace by the name set_trace_tag gives it, and not by a deleted name', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-rename') })).body.experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = info({ trace_location: location(exp), request_time: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString(), tags: { 'mlflow.traceName': 'old' } });
      expect((await start(sent)).status).toBe(200);
      ids.push(sent.trace_id as string);
    }
    const search = async (filter: string) => {
      const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], filter });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return ((res.body.traces ?? []) as { trace_id: string }[]).map((r) => r.trace_id);
    };
    expect((await t.api.patch(`/api/2.0/mlflow/traces/${ids[1]}/tags`).send({ key: 'mlflow.traceName', value: 'new' })).status).toBe(200);
    expect(await search("name = 'new'")).toEqual([ids[1]]);
    expect(await search("tags.`mlflow.traceName` = 'new'")).toEqual([ids[1]]);
    expect(await search("name = 'old'")).toEqual([ids[2], ids[0]]);
    expect(await search("name IN ('new', 'other')")).toEqual([ids[1]]);
    expect(await search("name != 'old'")).toEqual([ids[1]]);
    // A retried export without the name tag keeps the name given since; one with a name replaces it.
    expect((await start(info({ trace_id: ids[1], trace_location: location(exp), request_time: new Date(Date.UTC(2026, 1, 1, 0, 0, 1)).toISOString(), tags: {} }))).status).toBe(200);
    expect(await search("name = 'new'")).toEqual([ids[1]]);
    expect((await t.api.delete(`/api/2.0/mlflow/traces/${ids[2]}/tags`).send({ key: 'mlflow.traceName' })).status).toBe(200);
    expect(await search("name = 'old'")).toEqual([ids[0]]);
    expect(await search('tags.`mlflow.traceName` IS NULL')).toEqual([ids[2]]);
    expect(await search("name LIKE '%'")).toEqual([ids[1], ids[0]]);
    expect((await t.api.delete(`/api/2.0/mlflow/traces/${ids[2]}/tags`).send({ key: 'mlflow.traceName' })).status).toBe(404);
    const ordered = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)], order_by: ['name DESC'] });
    expect(ordered.body.traces.map((x: { trace_id: string }) => x.trace_id)).toEqual([ids[0], ids[1], ids[2]]);
  });

  it('sets and deletes tags, and deletes traces by id and by time', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-delete') })).body.experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = info({ trace_location: location(exp), request_time: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString() });
      await start(sent);
      ids.push(sent.trace_id as string);
    }
    expect((await t.api.patch(`/api/2.0/mlflow/traces/${ids[0]}/tags`).send({ key: 'k', value: 'v' })).status).toBe(200);
    expect((await t.api.get(`/api/3.0/mlflow/traces/${ids[0]}`)).body.trace.trace_info.tags.k).toBe('v');
    expect((await t.api.delete(`/api/2.0/mlflow/traces/${ids[0]}/tags`).send({ key: 'k' })).status).toBe(200);
    expect((await t.api.get(`/api/3.0/mlflow/traces/${ids[0]}`)).body.trace.trace_info.tags.k).toBeUndefined();
    expect((await t.api.delete(`/api/2.0/mlflow/traces/${ids[0]}/tags`).send({ key: 'k' })).status).toBe(404);
    expect((await t.api.patch('/api/2.0/mlflow/traces/tr-missing/tags').send({ key: 'k', value: 'v' })).status).toBe(404);

    const both = await t.api.post('/api/2.0/mlflow/traces/delete-traces').send({ experiment_id: exp, max_timestamp_millis: 1, request_ids: [ids[0]] });
    expect(both.status).toBe(400);
    const byId = await t.api.post('/api/2.0/mlflow/traces/delete-traces').send({ experiment_id: exp, request_ids: [ids[0]] });
    expect(byId.body).toEqual({ traces_deleted: 1 });
    expect((await t.api.get(`/api/3.0/mlflow/traces/${ids[0]}`)).status).toBe(404);
    const byTime = await t.api
      .post('/api/2.0/mlflow/traces/delete-traces')
      .send({ experiment_id: exp, max_timestamp_millis: Date.UTC(2026, 1, 1, 0, 0, 3), max_traces: 2 });
    expect(byTime.body).toEqual({ traces_deleted: 2 });
    const left = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [location(exp)] });
    expect(left.body.traces.map((x: { trace_id: string }) => x.trace_id)).toEqual([ids[3]]);
  });
});
