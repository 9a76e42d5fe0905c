import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Issue 12: `POST /ajax-api/2.0/mlflow/upload-artifact`, the UI's one-file upload into a run, with
// MLflow's checks in MLflow's order (the differential runner compares the same calls with the real
// server).
const UPLOAD = '/ajax-api/2.0/mlflow/upload-artifact';
const MAX = 10 * 1024 * 1024;

describe('upload-artifact', () => {
  let t: TestApp;
  let runId: string;
  const upload = (query: Record<string, string>, body?: Buffer | string) => {
    const req = t.api.post(UPLOAD).query(query).set('Content-Type', 'application/octet-stream');
    return body === undefined ? req : req.send(body);
  };
  beforeAll(async () => {
    t = await startTestApp();
    const expId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('upload') })).body.experiment_id;
    runId = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: expId })).body.run.info.run_id;
  });
  afterAll(() => t.close());

  it("stores the body as a file of the run's artifacts and answers 200 with an empty body", async () => {
    const res = await upload({ run_id: runId, path: 'tables/eval.json' }, '{"a": 1}');
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const back = await t.api.get('/get-artifact').query({ run_id: runId, path: 'tables/eval.json' });
    expect(back.status).toBe(200);
    expect(back.text).toBe('{"a": 1}');
    const listed = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: runId, path: 'tables' });
    expect(listed.body.files).toEqual([{ path: 'tables/eval.json', is_dir: false, file_size: 8 }]);
    // run_uuid names the run too, and a second upload replaces the file.
    expect((await upload({ run_uuid: runId, path: 'tables/eval.json' }, 'two')).status).toBe(200);
    expect((await t.api.get('/get-artifact').query({ run_id: runId, path: 'tables/eval.json' })).text).toBe('two');
  });

  it("checks the call in MLflow's order, with MLflow's messages", async () => {
    const refused = async (query: Record<string, string>, body: Buffer | string | undefined, status: number, code: string, message: string | RegExp) => {
      const res = await upload(query, body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body).toMatchObject({ error_code: code });
      expect(res.body.message).toMatch(message);
    };
    await refused({ path: 'x.txt' }, 'x', 400, 'INVALID_PARAMETER_VALUE', 'Request must specify run_id or run_uuid.');
    await refused({ run_id: runId }, 'x', 400, 'INVALID_PARAMETER_VALUE', 'Request must specify path.');
    await refused({ run_id: runId, path: '../escape.txt' }, 'x', 400, 'INVALID_PARAMETER_VALUE', /Invalid path/);
    await refused({ run_id: runId, path: 'empty.txt' }, undefined, 400, 'INVALID_PARAMETER_VALUE', 'Request must specify data.');
    // The size is checked before the run is looked up: an unknown run with a big body is a 400.
    await refused({ run_id: '0'.repeat(32), path: 'big.bin' }, Buffer.alloc(MAX + 1), 400, 'INVALID_PARAMETER_VALUE', 'Artifact size is too large. Max size is 10MB.');
    await refused({ run_id: '0'.repeat(32), path: 'x.txt' }, 'x', 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${'0'.repeat(32)} not found`);
    // Nothing refused was stored.
    const listed = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: runId });
    expect((listed.body.files ?? []).map((f: { path: string }) => f.path).sort()).toEqual(['tables']);
  });

  it('takes a file of exactly 10 MB', async () => {
    expect((await upload({ run_id: runId, path: 'max.bin' }, Buffer.alloc(MAX, 7))).status).toBe(200);
    const head = await t.api.head('/get-artifact').query({ run_id: runId, path: 'max.bin' });
    expect(head.headers['content-length']).toBe(String(MAX));
  });
});
