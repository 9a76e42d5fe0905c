import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { artifactBackends, startArtifactApp } from './artifacts-backends.js';

// A trace read whole from the server (GetTrace `traces/get`, BatchGetTraces, BatchGetTraceInfos)
// and LinkTracesToRun, over HTTP. Spans are sent by OTLP JSON, so they sit in traces.json in the
// store; the real client's round trip is test/compat/test_trace_spans.py.

let t: TestApp;
let experimentId: string;
let n = 0;
const traceHex = () => `${(++n).toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(24, '0')}`;
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

async function sendTrace(hex: string) {
  const spans = [
    {
      traceId: hex, spanId: '00000000000000a1', name: 'root', startTimeUnixNano: '1772359200250000001', endTimeUnixNano: '1772359201750000003',
      attributes: [
        { key: 'mlflow.spanInputs', value: { stringValue: '{"q": 1}' } },
        { key: 'n', value: { intValue: '7' } },
        { key: 'cfg', value: { kvlistValue: { values: [{ key: 't', value: { doubleValue: 0.5 } }] } } },
      ],
      status: { code: 1 },
    },
    {
      traceId: hex, spanId: '00000000000000b2', parentSpanId: '00000000000000a1', name: 'child',
      startTimeUnixNano: '1772359200300000000', endTimeUnixNano: '1772359200400000000',
      events: [{ name: 'exception', timeUnixNano: '1772359200350000000', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }] }],
      status: { code: 2, message: 'boom' },
    },
  ];
  const res = await t.api.post('/v1/traces').set({ 'Content-Type': 'application/json', 'x-mlflow-experiment-id': experimentId })
    .send(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return `tr-${hex}`;
}

describe.each(artifactBackends())('traces/get, batchGet, link-to-run ($name store)', (backend) => {
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('spans') })).body.experiment_id;
  });
  afterAll(() => t.close());

  it('answers a trace with its spans as OpenTelemetry protos, every nanosecond kept', async () => {
    const hex = traceHex();
    const id = await sendTrace(hex);
    const res = await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: id });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.trace.trace_info).toMatchObject({ trace_id: id, state: 'OK' });
    const [root, child] = res.body.trace.spans;
    expect(root).toMatchObject({
      trace_id: b64(hex),
      span_id: b64('00000000000000a1'),
      name: 'root',
      start_time_unix_nano: '1772359200250000001',
      end_time_unix_nano: '1772359201750000003',
      status: { code: 'STATUS_CODE_OK' },
    });
    expect(root.parent_span_id).toBeUndefined();
    expect(root.attributes).toEqual(expect.arrayContaining([
      // Sent as the string '{"q": 1}', read as the object it holds (as from MLflow's OTLP endpoint).
      { key: 'mlflow.spanInputs', value: { kvlist_value: { values: [{ key: 'q', value: { int_value: '1' } }] } } },
      { key: 'n', value: { int_value: '7' } },
      { key: 'cfg', value: { kvlist_value: { values: [{ key: 't', value: { double_value: 0.5 } }] } } },
      { key: 'mlflow.traceRequestId', value: { string_value: id } },
    ]));
    expect(child).toMatchObject({
      parent_span_id: b64('00000000000000a1'),
      status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
      events: [{ name: 'exception', time_unix_nano: '1772359200350000000', attributes: [{ key: 'exception.message', value: { string_value: 'boom' } }] }],
    });
  });

  it('batch reads leave unknown ids out, keep the order asked and honour experiment scoping', async () => {
    const a = await sendTrace(traceHex());
    const b = await sendTrace(traceHex());
    const missing = `tr-${'f'.repeat(32)}`;
    const res = await t.api.get('/api/3.0/mlflow/traces/batchGet').query(`trace_ids=${b}&trace_ids=${missing}&trace_ids=${a}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.traces.map((x: any) => x.trace_info.trace_id)).toEqual([b, a]);
    expect(res.body.traces[0].spans).toHaveLength(2);
    const infos = await t.api.post('/api/3.0/mlflow/traces/batchGetInfos').send({ trace_ids: [a, missing] });
    expect(infos.body.trace_infos.map((x: any) => x.trace_id)).toEqual([a]);
    const other = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('other') })).body.experiment_id;
    const scoped = await t.api.get('/api/3.0/mlflow/traces/batchGet').query({ trace_ids: a, experiment_ids: other });
    expect(scoped.status).toBe(200);
    expect(scoped.body).toEqual({});
  });

  it('refuses bad input with a 400 or 404 in MLflow shape', async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => `trace_ids=tr-${i.toString(16).padStart(32, '0')}`).join('&');
    for (const res of [
      await t.api.get('/api/3.0/mlflow/traces/batchGet').query(tooMany),
      await t.api.get('/api/3.0/mlflow/traces/batchGet'),
      await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: '../etc' }),
      await t.api.post('/api/3.0/mlflow/traces/link-to-run').send({ trace_ids: ['tr-1'] }),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    }
    const unknown = await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: `tr-${'e'.repeat(32)}` });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    const noRun = await t.api.post('/api/2.0/mlflow/traces/link-to-run').send({ trace_ids: [`tr-${'e'.repeat(32)}`], run_id: 'f'.repeat(32) });
    expect(noRun.status).toBe(404);
  });

  it('refuses to load spans past 64 MiB with a 400, instead of reading them into memory', async () => {
    const id = await sendTrace(traceHex());
    const big = Buffer.alloc(64 * 1024 * 1024 + 1, 32);
    const put = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/${id}/artifacts/traces.json`).set('Content-Type', 'application/octet-stream').send(big);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const res = await t.api.get('/api/3.0/mlflow/traces/get').query({ trace_id: id });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_STATE' });
    expect(res.body.message).toContain('64 MiB');
  });

  it('links traces to a run, so a search by run id finds them', async () => {
    const id = await sendTrace(traceHex());
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: experimentId })).body.run.info.run_id;
    const search = () =>
      t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }], filter: `trace.run_id = '${run}'` });
    expect((await search()).body).toEqual({});
    for (let i = 0; i < 2; i++) {
      const res = await t.api.post('/api/2.0/mlflow/traces/link-to-run').send({ trace_ids: [id, `tr-${'d'.repeat(32)}`], run_id: run });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await search()).body.traces.map((x: any) => x.trace_id)).toEqual([id]);
    expect((await t.api.post('/api/3.0/mlflow/traces/link-to-run').send({ trace_ids: [], run_id: run })).status).toBe(200);
  });
});
