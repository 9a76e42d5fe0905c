import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { ingestOtlp } from '../../src/domain/traces/otlp.js';
import { startTrace as startTraceInfo } from '../../src/domain/traces/write.js';
import { uniqueName, type TestApp } from '../harness/app.js';
import { staleTraceText } from '../harness/trace-text.js';
import { artifactBackends, startArtifactApp } from './artifacts-backends.js';

// OTLP/HTTP trace export (POST /v1/traces) in JSON and protobuf, read back the way the mlflow client
// reads a trace: its info, then the traces.json at its artifact location. The real OpenTelemetry
// exporter is driven in test/compat/test_tracing.py.

let t: TestApp;
let experimentId: string;

let n = 0;
const traceHex = () => `${(++n).toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(24, '0')}`;
const s = (stringValue: string) => ({ stringValue });

function jsonRequest(trace: string) {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: s('svc') }] },
      scopeSpans: [{
        spans: [
          {
            traceId: trace, spanId: '00000000000000a1', name: 'root', kind: 2,
            startTimeUnixNano: '1772359200250000000', endTimeUnixNano: '1772359201750000000',
            attributes: [{ key: 'mlflow.spanInputs', value: s('{"q": 1}') }, { key: 'n', value: { intValue: '7' } }],
            status: { code: 1 },
          },
          {
            traceId: trace, spanId: '00000000000000b2', parentSpanId: '00000000000000a1', name: 'child',
            startTimeUnixNano: '1772359200300000000', endTimeUnixNano: '1772359200400000000',
            attributes: [{ key: 'tags', value: { arrayValue: { values: [s('a'), { boolValue: true }] } } }],
            events: [{ name: 'exception', timeUnixNano: '1772359200350000000', attributes: [{ key: 'exception.message', value: s('boom') }] }],
            status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
          },
        ],
      }],
    }],
  };
}

// A minimal protobuf writer for the test's bodies (field numbers from opentelemetry-proto).
const varint = (v: bigint): number[] => {
  const out: number[] = [];
  do {
    out.push(Number(v & 0x7fn) | (v > 0x7fn ? 0x80 : 0));
    v >>= 7n;
  } while (v > 0n);
  return out;
};
const len = (no: number, bytes: Buffer | number[]) => Buffer.from([...varint(BigInt((no << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes]);
const str = (no: number, v: string) => len(no, Buffer.from(v));
const fixed64 = (no: number, v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return Buffer.concat([Buffer.from(varint(BigInt((no << 3) | 1))), b]);
};
const enumField = (no: number, v: number) => Buffer.from([...varint(BigInt(no << 3)), ...varint(BigInt(v))]);
const kv = (key: string, value: Buffer) => Buffer.concat([str(1, key), len(2, value)]);

function protoRequest(trace: string): Buffer {
  const span = Buffer.concat([
    len(1, Buffer.from(trace, 'hex')), len(2, Buffer.from('00000000000000c3', 'hex')), str(5, 'proto-root'), enumField(6, 3),
    fixed64(7, 1772359200000000000n), fixed64(8, 1772359200500000000n),
    len(9, kv('k', str(1, 'v'))), len(9, kv('i', enumField(3, 42))),
    len(15, Buffer.concat([str(2, ''), enumField(3, 1)])),
  ]);
  const scopeSpans = len(2, span);
  const resourceSpans = Buffer.concat([len(1, len(1, kv('service.name', str(1, 'svc')))), len(2, scopeSpans)]);
  return len(1, resourceSpans);
}

const post = (body: string | Buffer, type: string, headers: Record<string, string> = {}) =>
  t.api.post('/v1/traces').set({ 'Content-Type': type, 'x-mlflow-experiment-id': experimentId, ...headers }).send(body);

async function spansOf(traceId: string, experiment = experimentId) {
  const res = await t.api.get(`/api/2.0/mlflow-artifacts/artifacts/${experiment}/traces/${traceId}/artifacts/traces.json`)
    .buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks).toString()));
    });
  expect(res.status).toBe(200);
  return JSON.parse(res.body as string).spans as Record<string, any>[];
}

// Once per blob store (the folder, and S3 when CAIRN_TEST_S3_ENDPOINT is set): traces.json is read back and merged there.
describe.each(artifactBackends())('POST /v1/traces ($name store)', (backend) => {
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('otlp') })).body.experiment_id;
  });
  afterAll(() => t.close());

  it('stores a JSON export as a trace the client can read', async () => {
    const hex = traceHex();
    const res = await post(JSON.stringify(jsonRequest(hex)), 'application/json', { 'x-mlflow-run-id': 'run-1' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({});
    const info = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    expect(info).toMatchObject({
      trace_id: `tr-${hex}`,
      trace_location: { mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2026-03-01T10:00:00.250Z',
      execution_duration: '1.500s',
      state: 'OK',
      // The string '{"q": 1}' is JSON of an object: kept as that JSON, as MLflow's OTLP endpoint keeps it.
      request_preview: '{"q": 1}',
      tags: { 'mlflow.traceName': 'root' },
      trace_metadata: { 'mlflow.sourceRun': 'run-1', 'mlflow.trace_schema.version': '3' },
    });
    const spans = await spansOf(`tr-${hex}`);
    expect(spans).toHaveLength(2);
    const [root, child] = spans;
    expect(root).toMatchObject({
      trace_id: Buffer.from(hex, 'hex').toString('base64'),
      span_id: Buffer.from('00000000000000a1', 'hex').toString('base64'),
      parent_span_id: null,
      kind: 'SPAN_KIND_SERVER',
      start_time_unix_nano: '1772359200250000000',
      status: { code: 'STATUS_CODE_OK' },
      attributes: { n: '7', 'mlflow.traceRequestId': `"tr-${hex}"` },
    });
    expect(child).toMatchObject({
      parent_span_id: Buffer.from('00000000000000a1', 'hex').toString('base64'),
      kind: 'SPAN_KIND_INTERNAL',
      status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
      attributes: { tags: '["a",true]' },
      events: [{ name: 'exception', time_unix_nano: '1772359200350000000', attributes: { 'exception.message': 'boom' } }],
    });
  });

  it('stores a protobuf export (gzip too) and answers in protobuf', async () => {
    const hex = traceHex();
    const res = await post(gzipSync(protoRequest(hex)), 'application/x-protobuf', { 'Content-Encoding': 'gzip' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-protobuf/);
    const info = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    expect(info).toMatchObject({ state: 'OK', execution_duration: '0.500s', tags: { 'mlflow.traceName': 'proto-root' } });
    const [span] = await spansOf(`tr-${hex}`);
    expect(span).toMatchObject({ name: 'proto-root', kind: 'SPAN_KIND_CLIENT', attributes: { k: '"v"', i: '42' }, end_time_unix_nano: '1772359200500000000' });
  });

  it('merges a trace sent over several requests, children before the root', async () => {
    const hex = traceHex();
    const [root, child] = jsonRequest(hex).resourceSpans[0].scopeSpans[0].spans;
    const only = (span: object) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    expect((await post(only(child), 'application/json')).status).toBe(200);
    const partial = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    expect(partial.state).toBe('IN_PROGRESS');
    const search = async (filter: string) =>
      (
        await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }], filter })
      ).body.traces?.map((x: { trace_id: string }) => x.trace_id);
    // No root span yet, so no name.
    expect(await search(`trace.trace_id = 'tr-${hex}' AND tags.\`mlflow.traceName\` IS NULL`)).toEqual([`tr-${hex}`]);
    expect((await post(only(root), 'application/json')).status).toBe(200);
    const whole = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    expect(whole).toMatchObject({ state: 'OK', execution_duration: '1.500s', tags: { 'mlflow.traceName': 'root' } });
    expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(['child', 'root']);
    expect(await search(`trace.trace_id = 'tr-${hex}' AND name = 'root'`)).toEqual([`tr-${hex}`]);
  });

  // A batch writes each trace row's tags and metadata text itself, with the stored ones merged in,
  // and the triggers skip their aggregate (migration 0036): the text must still be the rows'.
  it('keeps the tags and metadata a trace already has when more of its spans arrive', async () => {
    const hex = traceHex();
    const id = `tr-${hex}`;
    const [root, child] = jsonRequest(hex).resourceSpans[0].scopeSpans[0].spans;
    const only = (span: object) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    expect((await post(only(child), 'application/json')).status).toBe(200);
    expect((await t.api.patch(`/api/2.0/mlflow/traces/${id}/tags`).send({ key: 'user.tag', value: 'kept "as" é' })).status).toBe(200);
    expect((await post(only(root), 'application/json', { 'x-mlflow-run-id': 'run-otlp-1' })).status).toBe(200);
    const info = (await t.api.get(`/api/3.0/mlflow/traces/${id}`)).body.trace.trace_info;
    expect(info.tags).toMatchObject({ 'user.tag': 'kept "as" é', 'mlflow.traceName': 'root' });
    expect(info.trace_metadata).toEqual({ 'mlflow.trace_schema.version': '3', 'mlflow.sourceRun': 'run-otlp-1' });
    expect(await staleTraceText(t.deps.db, [id])).toEqual([]);
  });

  // Another writer that does not take the trace locks (a script on the database) may store a trace
  // between the batch's read and its upsert: the batch's text would miss that writer's tags, so the
  // triggers recompute it. (StartTraceV3 takes them: the next test.)
  it("keeps another writer's tags on a trace it stored while the batch ran", async () => {
    for (const named of [false, true]) {
      const hex = traceHex();
      const id = `tr-${hex}`;
      const [root, child] = jsonRequest(hex).resourceSpans[0].scopeSpans[0].spans;
      const location = `${(await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: experimentId })).body.experiment.artifact_location}/traces/${id}/artifacts`;
      const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
      const statements = [
        `insert into traces (trace_id, experiment_id, request_time, state, artifact_location) values (${lit(id)}, ${Number(experimentId)}, 1, 'IN_PROGRESS', ${lit(location)})`,
        `insert into trace_tags (trace_id, key, value) values (${lit(id)}, 'other.writer', 'yes')`,
        `insert into trace_metadata (trace_id, key, value) values (${lit(id)}, 'other.meta', 'm')`,
      ];
      const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: named ? [root, child] : [child] }] }] });
      if (t.deps.database.kind === 'pglite') {
        // One connection: the other writer's transaction comes first, and the batch finds its row.
        for (const q of statements) await rows(t.deps.db, sql.raw(q));
        expect((await post(body, 'application/json')).status).toBe(200);
      } else {
        const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await other.connect();
        try {
          await other.query('BEGIN');
          for (const q of statements) await other.query(q);
          // The batch finds no row, then its insert waits for this transaction's.
          const sent = post(body, 'application/json').then((res) => res); // supertest sends on then()
          await new Promise((resolve) => setTimeout(resolve, 300));
          await other.query('COMMIT');
          expect((await sent).status).toBe(200);
        } finally {
          await other.end();
        }
      }
      const info = (await t.api.get(`/api/3.0/mlflow/traces/${id}`)).body.trace.trace_info;
      expect(info.tags['other.writer']).toBe('yes');
      expect(info.trace_metadata).toMatchObject({ 'other.meta': 'm', 'mlflow.trace_schema.version': '3' });
      if (named) expect(info.tags['mlflow.traceName']).toBe('root');
      expect(await staleTraceText(t.deps.db, [id])).toEqual([]);
    }
  });

  it("waits with a StartTraceV3 for a batch storing the same trace's spans, so its name is the trace's, tag and row alike", async () => {
    const hex = traceHex();
    const id = `tr-${hex}`;
    const info = {
      trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2026-03-01T10:00:00.250Z', state: 'OK', tags: { 'mlflow.traceName': 'client-name' }, trace_metadata: { [SIZE_STATS]: small },
    };
    if (t.deps.database.kind === 'pglite') {
      // One connection: the batch and StartTraceV3 run one after the other.
      expect((await post(JSON.stringify(jsonRequest(hex)), 'application/json')).status).toBe(200);
      await startTraceInfo(t.deps, info);
    } else {
      // The trace lock held as a batch holds it while it reads and writes the trace.
      const batch = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await batch.connect();
      try {
        await batch.query('BEGIN');
        await batch.query(`select pg_advisory_xact_lock(hashtext('otlp:' || $1))`, [id]);
        let done = false;
        const started = startTraceInfo(t.deps, info).then((r) => ((done = true), r));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(done).toBe(false);
        await batch.query('COMMIT');
        await started;
      } finally {
        await batch.end();
      }
      expect((await post(JSON.stringify(jsonRequest(hex)), 'application/json')).status).toBe(200);
    }
    const [row] = await rows<{ name: string; tag: string }>(t.deps.db, sql`select t.name, g.value as tag from traces t join trace_tags g on g.trace_id = t.trace_id and g.key = 'mlflow.traceName' where t.trace_id = ${id}`);
    expect(row).toEqual({ name: 'client-name', tag: 'client-name' });
    expect(await staleTraceText(t.deps.db, [id])).toEqual([]);
  });

  it('keeps every span when requests for one new trace arrive together', async () => {
    const hex = traceHex();
    const spans = Array.from({ length: 8 }, (_, i) => ({
      traceId: hex, spanId: `00000000000001${i.toString(16).padStart(2, '0')}`, parentSpanId: '00000000000000a1', name: `c${i}`,
      startTimeUnixNano: '1772359200300000000', endTimeUnixNano: '1772359200400000000',
    }));
    const results = await Promise.all(spans.map((span) => post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }), 'application/json')));
    expect(results.map((r) => r.status)).toEqual(spans.map(() => 200));
    expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(spans.map((sp) => sp.name));
  });

  // Concurrent requests share one transaction (group commit, src/domain/traces/otlp-batch.ts): each
  // must still be stored once, answered only when stored, and refused alone.
  it('stores 50 concurrent exports exactly once each, a retried identical request included', async () => {
    const hexes = Array.from({ length: 50 }, traceHex);
    const bodies = hexes.map((hex) => JSON.stringify(jsonRequest(hex)));
    // The first ten are sent twice at once, as an exporter's retry of a request whose answer it lost.
    const results = await Promise.all([...bodies, ...bodies.slice(0, 10)].map((b) => post(b, 'application/json')));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    for (const hex of hexes) {
      const spans = await spansOf(`tr-${hex}`);
      expect(spans.map((sp) => sp.name).sort()).toEqual(['child', 'root']);
    }
    const found = await t.api.post('/api/3.0/mlflow/traces/search').send({
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
      filter: "tags.`mlflow.traceName` = 'root'", max_results: 500,
    });
    const ids = found.body.traces.map((x: { trace_id: string }) => x.trace_id);
    expect(ids.filter((id: string) => hexes.includes(id.slice(3))).sort()).toEqual(hexes.map((h) => `tr-${h}`).sort());
    const infos = await Promise.all(hexes.map(async (hex) => (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info));
    expect(infos.every((i) => i.state === 'OK' && i.trace_metadata['mlflow.trace_schema.version'] === '3')).toBe(true);
  });

  it('refuses a bad request among concurrent good ones alone, storing nothing of it', async () => {
    const other = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('otlp-other') })).body.experiment_id;
    const taken = traceHex();
    expect((await post(JSON.stringify(jsonRequest(taken)), 'application/json', { 'x-mlflow-experiment-id': other })).status).toBe(200);
    const good = Array.from({ length: 12 }, traceHex);
    const fresh = traceHex();
    // One request with a new trace and one already in another experiment: all of it is refused.
    const mixed = { resourceSpans: [...jsonRequest(fresh).resourceSpans, ...jsonRequest(taken).resourceSpans] };
    const requests: [string, Record<string, string>][] = [
      ...good.slice(0, 6).map((hex): [string, Record<string, string>] => [JSON.stringify(jsonRequest(hex)), {}]),
      [JSON.stringify(mixed), {}],
      [JSON.stringify(jsonRequest(traceHex())), { 'x-mlflow-experiment-id': '987654321' }],
      ['{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', {}],
      ...good.slice(6).map((hex): [string, Record<string, string>] => [JSON.stringify(jsonRequest(hex)), {}]),
    ];
    const results = await Promise.all(requests.map(([body, headers]) => post(body, 'application/json', headers)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 400, 404, 400, 200, 200, 200, 200, 200, 200]);
    expect(results[6].body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('another experiment') });
    expect(results[7].body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    for (const hex of good) expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(['child', 'root']);
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${fresh}`)).status).toBe(404);
    const kept = (await t.api.get(`/api/3.0/mlflow/traces/tr-${taken}`)).body.trace.trace_info;
    expect(kept.trace_location.mlflow_experiment.experiment_id).toBe(other);
    expect(await spansOf(`tr-${taken}`, other)).toHaveLength(2);
  });

  // The mlflow client logs each span as it ends here, and then sends the trace's own info (StartTraceV3).
  const startTrace = (hex: string, info: Record<string, unknown> = {}) => t.api.post('/api/3.0/mlflow/traces').send({
    trace: { trace_info: {
      trace_id: `tr-${hex}`, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2026-03-01T10:00:00.250Z', execution_duration: '9.000s', state: 'OK', request_preview: 'the client\'s preview',
      trace_metadata: { 'mlflow.user': 'ada', [SIZE_STATS]: small }, tags: { 'mlflow.traceName': 'client-name', 'mlflow.trace.spansLocation': 'ARTIFACT_REPO' }, ...info,
    } },
  });
  const SPANS_LOCATION = 'mlflow.trace.spansLocation';
  const traceIdsWhere = async (filter: string): Promise<string[]> => {
    const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }], filter, max_results: 500 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.traces ?? []).map((x: { trace_id: string }) => x.trace_id);
  };
  // The client's own measure of the trace, sent with StartTraceV3.
  const SIZE_STATS = 'mlflow.trace.sizeStats';
  const small = JSON.stringify({ total_size_bytes: 2300, num_spans: 2, max: 900 });

  it("takes the mlflow client's spans one by one; its StartTraceV3 after them is told they are in the tracking store", async () => {
    const hex = traceHex();
    const client = { 'User-Agent': 'mlflow-python-client/3.18.0' };
    expect((await post(JSON.stringify(jsonRequest(hex)), 'application/json', client)).status).toBe(200);
    const res = await startTrace(hex);
    expect(res.status).toBe(200);
    const info = res.body.trace.trace_info;
    // The client's info replaces the one made from the spans; the server's tags are the server's.
    expect(info).toMatchObject({ execution_duration: '9.000s', state: 'OK', request_preview: "the client's preview", trace_metadata: { 'mlflow.user': 'ada' } });
    expect(info.tags).toMatchObject({ 'mlflow.traceName': 'client-name', [SPANS_LOCATION]: 'TRACKING_STORE' });
    // Read alike by get and search.
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info.tags[SPANS_LOCATION]).toBe('TRACKING_STORE');
    const found = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }], filter: "tags.`mlflow.traceName` = 'client-name'" });
    expect(found.body.traces.find((x: { trace_id: string }) => x.trace_id === `tr-${hex}`).tags[SPANS_LOCATION]).toBe('TRACKING_STORE');
    // The tag is the row's spans_logged, not a tag row: a filter on it finds the trace all the same.
    expect(await traceIdsWhere(`tags.\`${SPANS_LOCATION}\` = 'TRACKING_STORE'`)).toContain(`tr-${hex}`);
    expect(await traceIdsWhere(`tags.\`${SPANS_LOCATION}\` IS NULL`)).not.toContain(`tr-${hex}`);
    expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(['child', 'root']);
    // StartTraceV3 writes the trace's tag and metadata text itself, over what the spans stored.
    expect(await staleTraceText(t.deps.db, [`tr-${hex}`])).toEqual([]);
    const [text] = await rows<{ tags_json: string; metadata_json: string }>(t.deps.db, sql`select tags_json, metadata_json from traces where trace_id = ${`tr-${hex}`}`);
    // The request's resource attribute (service.name) is a tag, as MLflow's log_spans writes it.
    expect(JSON.parse(text.tags_json)).toEqual({ 'mlflow.traceName': 'client-name', 'service.name': 'svc' });
    expect(JSON.parse(text.metadata_json)).toMatchObject({ 'mlflow.user': 'ada', 'mlflow.trace_schema.version': '3' });
  });

  it('answers a StartTraceV3 that arrives while its spans are being stored once they are', async () => {
    // The client sends a trace's last spans and its StartTraceV3 together: the answer waits for the
    // spans this process already took, so it can tell the client not to upload traces.json.
    const hex = traceHex();
    const spans = ingestOtlp(t.deps, experimentId, undefined, jsonRequest(hex));
    const info = await startTraceInfo(t.deps, {
      trace_id: `tr-${hex}`, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2026-03-01T10:00:00.250Z', state: 'OK', tags: { 'mlflow.traceName': 'root' }, trace_metadata: { [SIZE_STATS]: small },
    });
    await spans;
    expect(info.tags[SPANS_LOCATION]).toBe('TRACKING_STORE');
  });

  it('asks for the upload of a large trace (over 1 MiB by its size stats) or one without them, spans logged or not', async () => {
    // One of its spans could have been in a span request over the size limit, refused.
    for (const metadata of [{ [SIZE_STATS]: JSON.stringify({ total_size_bytes: 2 * 1024 * 1024, num_spans: 2 }) }, {}]) {
      const hex = traceHex();
      expect((await post(JSON.stringify(jsonRequest(hex)), 'application/json')).status).toBe(200);
      const res = await startTrace(hex, { trace_metadata: metadata });
      expect(res.status).toBe(200);
      expect(res.body.trace.trace_info.tags[SPANS_LOCATION]).toBeUndefined();
      expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(['child', 'root']);
    }
  });

  it('keeps the info of a StartTraceV3 that came before the spans, and adds the spans', async () => {
    const hex = traceHex();
    const first = await startTrace(hex, { state: 'ERROR', response_preview: 'kept' });
    expect(first.status).toBe(200);
    // No span logged yet: the client is told to upload traces.json.
    expect(first.body.trace.trace_info.tags[SPANS_LOCATION]).toBeUndefined();
    expect((await post(protoRequest(hex), 'application/x-protobuf')).status).toBe(200);
    expect((await post(JSON.stringify(jsonRequest(hex)), 'application/json')).status).toBe(200);
    const info = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    expect(info).toMatchObject({ request_time: '2026-03-01T10:00:00.250Z', execution_duration: '9.000s', state: 'ERROR', request_preview: "the client's preview", response_preview: 'kept' });
    expect(info.tags).toMatchObject({ 'mlflow.traceName': 'client-name', [SPANS_LOCATION]: 'TRACKING_STORE' });
    const [row] = await rows<{ name: string; tags_json: string }>(t.deps.db, sql`select name, tags_json from traces where trace_id = ${`tr-${hex}`}`);
    expect(row.name).toBe('client-name');
    expect(JSON.parse(row.tags_json)['mlflow.traceName']).toBe('client-name');
    expect(await staleTraceText(t.deps.db, [`tr-${hex}`])).toEqual([]);
    expect((await spansOf(`tr-${hex}`)).map((sp) => sp.name).sort()).toEqual(['child', 'proto-root', 'root']);
  });

  it("keeps the spans another process logged when the client uploads its trace's traces.json", async () => {
    const hex = traceHex();
    const id = `tr-${hex}`;
    const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');
    // Another process logged the child one by one; the owner's StartTraceV3 (a large trace) asks it to upload.
    const [, child] = jsonRequest(hex).resourceSpans[0].scopeSpans[0].spans;
    expect((await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [child] }] }] }), 'application/json')).status).toBe(200);
    expect((await startTrace(hex, { trace_metadata: { [SIZE_STATS]: JSON.stringify({ total_size_bytes: 2 * 1024 * 1024, num_spans: 2 }) } })).body.trace.trace_info.tags[SPANS_LOCATION]).toBeUndefined();
    // The client's file, as it writes it: its own spans only, times as JSON numbers.
    const owner = `{"spans": [{"trace_id": "${b64(hex)}", "span_id": "${b64('00000000000000a1')}", "parent_span_id": null, "name": "root", "kind": "SPAN_KIND_INTERNAL", `
      + `"start_time_unix_nano": 1772359200250000123, "end_time_unix_nano": 1772359201750000456, "events": [], "status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.traceRequestId": "\\"${id}\\""}}]}`;
    const url = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/${id}/artifacts/traces.json`;
    expect((await t.api.put(url).set('Content-Type', 'application/octet-stream').send(Buffer.from(owner))).status).toBe(200);
    const spans = await spansOf(id);
    expect(spans.map((sp) => sp.name)).toEqual(['root', 'child']);
    expect(String(spans[0].start_time_unix_nano)).toBe('1772359200250000123');
    // A file with nothing stored to add is kept byte for byte; one that is not a traces.json too.
    const alone = traceHex();
    await startTrace(alone);
    for (const body of [owner.replaceAll(hex, alone), 'not json']) {
      const res = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/tr-${alone}/artifacts/traces.json`).set('Content-Type', 'application/octet-stream').send(Buffer.from(body));
      expect(res.status).toBe(200);
      const got = await t.api.get(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/tr-${alone}/artifacts/traces.json`).buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks).toString()));
      });
      expect(got.body).toBe(body);
    }
  });

  it('does not send the client to GetTrace for spans merged past the size GetTrace answers (64 MiB)', async () => {
    const hex = traceHex();
    // Five spans of 13.5 MiB each, in one request as far as the domain is concerned.
    const big = 'x'.repeat(13.5 * 1024 * 1024);
    const spans = Array.from({ length: 5 }, (_, i) => ({
      traceId: hex, spanId: `00000000000002${i.toString(16).padStart(2, '0')}`, name: `big${i}`,
      startTimeUnixNano: '1772359200300000000', endTimeUnixNano: '1772359200400000000', attributes: [{ key: 'blob', value: s(big) }],
    }));
    await ingestOtlp(t.deps, experimentId, undefined, { resourceSpans: [{ scopeSpans: [{ spans }] }] });
    const info = (await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).body.trace.trace_info;
    // Without the tag, the client downloads traces.json itself, whatever its size.
    expect(info.tags[SPANS_LOCATION]).toBeUndefined();
    expect(await traceIdsWhere(`tags.\`${SPANS_LOCATION}\` IS NULL`)).toContain(`tr-${hex}`);
    // The same when the client uploads such a file over a trace whose spans it logged.
    const other = traceHex();
    expect((await post(JSON.stringify(jsonRequest(other)), 'application/json')).status).toBe(200);
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${other}`)).body.trace.trace_info.tags[SPANS_LOCATION]).toBe('TRACKING_STORE');
    const upload = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/tr-${other}/artifacts/traces.json`)
      .set('Content-Type', 'application/octet-stream').send(Buffer.concat([Buffer.from('{"spans": [], "pad": "'), Buffer.alloc(65 * 1024 * 1024, 'x'), Buffer.from('"}')]));
    expect(upload.status).toBe(200);
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${other}`)).body.trace.trace_info.tags[SPANS_LOCATION]).toBeUndefined();
    const listed = await t.api.get('/api/2.0/mlflow-artifacts/artifacts').query({ path: `${experimentId}/traces/tr-${hex}/artifacts` });
    const file = listed.body.files.find((f: { path: string }) => f.path === 'traces.json');
    expect(Number(file.file_size)).toBeGreaterThan(64 * 1024 * 1024);
  });

  it("tells the mlflow client to stop offering spans for an experiment whose artifacts are outside Cairn's store", async () => {
    const elsewhere = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('otlp-s3'), artifact_location: 's3://elsewhere/x' })).body.experiment_id;
    const hex = traceHex();
    const res = await post(protoRequest(hex), 'application/x-protobuf', { 'x-mlflow-experiment-id': elsewhere });
    // The phrase the client's exporter checks: it then uploads traces.json to that location itself.
    expect([res.status, res.body.error_code]).toEqual([501, 'NOT_IMPLEMENTED']);
    expect(res.body.message).toContain('REST OTLP span logging is not supported');
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).status).toBe(404);
  });

  it('refuses bad input with a 400 in MLflow shape and stores nothing', async () => {
    const hex = traceHex();
    const good = jsonRequest(hex);
    const cases: [string | Buffer, string, Record<string, string>?][] = [
      ['{', 'application/json'],
      [JSON.stringify({ resourceSpans: [] }), 'application/json'],
      [JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...good.resourceSpans[0].scopeSpans[0].spans[0], traceId: 'xyz' }] }] }] }), 'application/json'],
      // The second span is malformed: the first, valid one must not be stored either.
      [JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [good.resourceSpans[0].scopeSpans[0].spans[0], { traceId: hex, spanId: '1', name: 'x' }] }] }] }), 'application/json'],
      [Buffer.from([0x0a, 0xff, 0x01]), 'application/x-protobuf'],
      [Buffer.from([0x0f]), 'application/x-protobuf'],
      [JSON.stringify(good), 'text/plain'],
      [JSON.stringify(good), 'application/json', { 'Content-Encoding': 'gzip' }],
      [JSON.stringify(good), 'application/json', { 'x-mlflow-experiment-id': '' }],
    ];
    for (const [body, type, headers] of cases) {
      const res = await post(body, type, headers);
      expect(res.status, `${type} ${String(body).slice(0, 80)}`).toBe(400);
      expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    }
    expect((await t.api.get(`/api/3.0/mlflow/traces/tr-${hex}`)).status).toBe(404);
    const missing = await post(JSON.stringify(good), 'application/json', { 'x-mlflow-experiment-id': '987654321' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('refuses a compressed body that expands past the size limit', async () => {
    const res = await post(gzipSync(Buffer.alloc(16 * 1024 * 1024 + 1, 0x20)), 'application/json', { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/expands past/) });
  });
});
