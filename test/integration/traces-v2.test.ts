import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// The MLflow 2 trace API (StartTrace, EndTrace, GetTraceInfo, SearchTraces v2) over HTTP: the same
// trace rows as v3, answered in the v2 shape. The real client's calls are test/compat/test_traces_v2.py;
// the answers compared with `mlflow server` are the `traces-v2` differential family.

let t: TestApp;
let exp: string;
beforeAll(async () => {
  t = await startTestApp();
  exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-v2') })).body.experiment_id;
});
afterAll(() => t.close());

const pairs = (m: Record<string, string>) => Object.entries(m).map(([key, value]) => ({ key, value }));
const sorted = (list: { key: string; value: string }[] | undefined) => [...(list ?? [])].sort((a, b) => a.key.localeCompare(b.key));
const start = (body: Record<string, unknown>) => t.api.post('/api/2.0/mlflow/traces').send(body);
const end = (id: string, body: Record<string, unknown>) => t.api.patch(`/api/2.0/mlflow/traces/${id}`).send(body);

describe('MLflow 2 traces', () => {
  it('starts, ends and reads a trace in the v2 shape; the v3 reads find the same trace', async () => {
    const started = await start({
      experiment_id: exp,
      timestamp_ms: 1_700_000_000_000,
      request_metadata: pairs({ 'mlflow.user': 'alice' }),
      tags: pairs({ 'mlflow.traceName': 'predict', env: 'prod', 'mlflow.artifactLocation': 's3://elsewhere', 'mlflow.trace.spansLocation': 'TRACKING_STORE' }),
    });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const id = started.body.trace_info.request_id;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const location = `mlflow-artifacts:/${exp}/traces/${id}/artifacts`;
    expect({ ...started.body.trace_info, tags: sorted(started.body.trace_info.tags) }).toEqual({
      request_id: id,
      experiment_id: exp,
      timestamp_ms: 1_700_000_000_000,
      execution_time_ms: 0,
      status: 'IN_PROGRESS',
      request_metadata: [{ key: 'mlflow.user', value: 'alice' }],
      // The server's own tags are its to set: the client's artifact and spans locations are dropped.
      tags: sorted(pairs({ 'mlflow.traceName': 'predict', env: 'prod', 'mlflow.artifactLocation': location })),
    });

    const ended = await end(id, {
      timestamp_ms: '1700000001500',
      status: 'OK',
      request_metadata: pairs({ 'mlflow.sourceRun': 'r1' }),
      tags: pairs({ 'mlflow.traceName': 'predict2', 'mlflow.artifactLocation': 's3://x' }),
    });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body.trace_info).toMatchObject({ execution_time_ms: 1500, status: 'OK' });
    expect(sorted(ended.body.trace_info.request_metadata)).toEqual(sorted(pairs({ 'mlflow.user': 'alice', 'mlflow.sourceRun': 'r1' })));
    expect(sorted(ended.body.trace_info.tags)).toEqual(sorted(pairs({ 'mlflow.traceName': 'predict2', env: 'prod', 'mlflow.artifactLocation': location })));
    // Ending again (a retry) answers the same trace.
    expect((await end(id, { timestamp_ms: 1_700_000_001_500, status: 'OK' })).body).toEqual(ended.body);

    const info = await t.api.get(`/ajax-api/2.0/mlflow/traces/${id}/info`);
    expect(info.body).toEqual(ended.body);
    const v3 = (await t.api.get(`/api/3.0/mlflow/traces/${id}`)).body.trace.trace_info;
    expect(v3).toMatchObject({
      trace_id: id,
      request_time: '2023-11-14T22:13:20Z',
      execution_duration: '1.500s',
      state: 'OK',
      trace_metadata: { 'mlflow.user': 'alice', 'mlflow.sourceRun': 'r1' },
      tags: { 'mlflow.traceName': 'predict2', env: 'prod', 'mlflow.artifactLocation': location },
    });
    const byRun = await t.api.post('/api/3.0/mlflow/traces/search').send({
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }],
      filter: "trace.run_id = 'r1' AND trace.name = 'predict2'",
    });
    expect(byRun.body.traces.map((x: { trace_id: string }) => x.trace_id)).toEqual([id]);
    // EndTrace renamed it: the start's name no longer finds it.
    const byOldName = await t.api.post('/api/3.0/mlflow/traces/search').send({
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }],
      filter: "trace.name = 'predict'",
    });
    expect(byOldName.body).toEqual({});
    // What Cairn's trace page reads: the info, and no spans until a client uploads traces.json.
    const whole = await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: id });
    expect(whole.status).toBe(200);
    expect(whole.body.trace).toEqual({ trace_info: v3, spans: [] });
  });

  it('answers a trace not ended yet with execution time 0 and leaves empty lists out (v2 search)', async () => {
    const own = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('traces-v2-search') })).body.experiment_id;
    const id = (await start({ experiment_id: own })).body.trace_info.request_id;
    const found = await t.api.get('/api/2.0/mlflow/traces').query({ experiment_ids: own });
    expect(found.body).toEqual({
      traces: [
        {
          request_id: id, experiment_id: own, timestamp_ms: 0, execution_time_ms: 0, status: 'IN_PROGRESS',
          tags: [{ key: 'mlflow.artifactLocation', value: `mlflow-artifacts:/${own}/traces/${id}/artifacts` }],
        },
      ],
    });
  });

  it('cuts metadata to 250 characters and tag values to 4096 in v2 answers only, as MLflow', async () => {
    const long = 'x'.repeat(5000);
    const id = (await start({ experiment_id: exp, timestamp_ms: 1, request_metadata: [{ key: 'm', value: long }], tags: [{ key: 't', value: long }] })).body
      .trace_info.request_id;
    const v2 = (await t.api.get(`/api/2.0/mlflow/traces/${id}/info`)).body.trace_info;
    expect(v2.request_metadata).toEqual([{ key: 'm', value: long.slice(0, 250) }]);
    expect(v2.tags.find((x: { key: string }) => x.key === 't').value).toBe(long.slice(0, 4096));
    const v3 = (await t.api.get(`/api/3.0/mlflow/traces/${id}`)).body.trace.trace_info;
    expect([v3.trace_metadata.m, v3.tags.t]).toEqual([long, long]);
  });

  it('refuses bad input with MLflow error codes and changes nothing', async () => {
    const id = (await start({ experiment_id: exp, timestamp_ms: 10_000 })).body.trace_info.request_id;
    const cases: [Promise<{ status: number; body: { error_code: string; message: string } }>, number, string][] = [
      [start({ experiment_id: '987654321', timestamp_ms: 1 }), 404, 'No Experiment with id=987654321 exists'],
      [start({ timestamp_ms: 1 }), 400, "Missing value for required parameter 'experiment_id'"],
      [start({ experiment_id: exp, timestamp_ms: -5 }), 400, "parameter 'timestamp_ms'"],
      // Past year 9999 no reader could hold it (a JS Date ends in 275760): refused, never stored.
      [start({ experiment_id: exp, timestamp_ms: 9_007_199_254_740_991 }), 400, "parameter 'timestamp_ms'"],
      [end(id, { timestamp_ms: 253_402_300_800_000, status: 'OK' }), 400, "parameter 'timestamp_ms'"],
      [start({ experiment_id: exp, tags: { a: 'b' } }), 400, "parameter 'tags'"],
      [start({ experiment_id: exp, tags: [{ key: '', value: 'b' }] }), 400, "key '': it must have 1 to 250 characters"],
      [end('0123456789abcdef0123456789abcdef', { timestamp_ms: 1, status: 'OK' }), 404, "Trace with ID '0123456789abcdef0123456789abcdef' not found."],
      [end(id, { timestamp_ms: 20_000, status: 'DONE' }), 400, 'valid statuses are OK, ERROR, IN_PROGRESS'],
      [end(id, { timestamp_ms: 20_000, status: 'TRACE_STATUS_UNSPECIFIED' }), 400, "parameter 'status'"],
      [end(id, { timestamp_ms: 20_000, status: 0 }), 400, "parameter 'status'"],
      [end(id, { timestamp_ms: 20_000 }), 400, "Missing value for required parameter 'status'"],
      [end(id, { status: 'OK' }), 400, "Missing value for required parameter 'timestamp_ms'"],
      [end(id, { timestamp_ms: 9_999, status: 'OK' }), 400, 'the trace started at 10000'],
      [end('bad%21id', { timestamp_ms: 20_000, status: 'OK' }), 400, "Invalid trace ID: 'bad!id'"],
      [t.api.get('/api/2.0/mlflow/traces/0123456789abcdef0123456789abcdef/info'), 404, 'not found'],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error_code).toBe(status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE');
      expect(res.body.message).toContain(message);
    }
    const info = (await t.api.get(`/api/2.0/mlflow/traces/${id}/info`)).body.trace_info;
    expect([info.status, info.execution_time_ms]).toEqual(['IN_PROGRESS', 0]);
  });

  it('keeps managed tags immutable through the tag calls, and a missing tag is a 404', async () => {
    const id = (await start({ experiment_id: exp, timestamp_ms: 1 })).body.trace_info.request_id;
    const set = await t.api.patch(`/api/2.0/mlflow/traces/${id}/tags`).send({ key: 'mlflow.trace.spansLocation', value: 'TRACKING_STORE' });
    expect([set.status, set.body.message]).toEqual([400, "Tag 'mlflow.trace.spansLocation' is immutable and cannot be set on a trace."]);
    const del = await t.api.delete(`/api/2.0/mlflow/traces/${id}/tags`).send({ key: 'mlflow.artifactLocation' });
    expect([del.status, del.body.message]).toEqual([400, "Tag 'mlflow.artifactLocation' is immutable and cannot be deleted on a trace."]);
    const missing = await t.api.delete(`/api/3.0/mlflow/traces/${id}/tags`).send({ key: 'nope' });
    expect([missing.status, missing.body.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
  });
});
