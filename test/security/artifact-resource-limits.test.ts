// Class 10: resource exhaustion through the artifact endpoints (CVE-2025-0453 is the GraphQL form).
// Bounded inputs are refused early with a 4xx, listings are paged, and nothing is buffered whole:
// the flat-memory figures for 2 GiB bodies come from bench/artifact-memory.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, json, rawRequest, startArtifactApp, type ArtifactApp } from '../integration/artifacts-backends.js';

const A = '/api/2.0/mlflow-artifacts/artifacts';
const MPU = '/api/2.0/mlflow-artifacts/mpu';

describe.each(artifactBackends())('artifact resource limits on $name', (backend) => {
  let t: ArtifactApp;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
  });
  afterAll(() => t.close());

  it.each([0, -1, 10_001, 1_000_000, 1.5, 'many'])('refuses num_parts=%j with 400', async (numParts) => {
    const res = await t.api.post(`${MPU}/create/1/r/artifacts`).send({ path: 'big.bin', num_parts: numParts });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses a multipart body over 32 MiB without reading it all', async () => {
    const huge = Buffer.alloc(33 * 1024 * 1024, 0x20);
    const res = await rawRequest(t, 'POST', `${MPU}/complete/1/r/artifacts`, huge, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(json(res).message).toContain('exceeds the limit');
  });

  it.each([
    ['eleven levels of percent-encoding', `%${'25'.repeat(11)}2e`],
    ['a 2000-byte path', `1/${'a'.repeat(2000)}`],
    ['a 300-byte segment', `1/${'b'.repeat(300)}/x`],
    ['10,000 segments', `${'a/'.repeat(5000)}x`],
  ])('refuses %s with 400, not 500', async (_what, p) => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await rawRequest(t, method, `${A}/${p}`, method === 'PUT' ? 'x' : undefined);
      expect([method, res.status]).toEqual([method, res.status === 431 ? 431 : 400]);
    }
    const list = await rawRequest(t, 'GET', `${A}?path=${encodeURIComponent(p)}`);
    expect(list.status === 400 || list.status === 431).toBe(true);
  });

  it('rejects malformed JSON and non-object bodies in multipart calls with 400', async () => {
    for (const body of ['{', '[]', '"x"', '1', 'null', '{"path": 1}', '{"path": "a", "parts": "x", "upload_id": "u"}']) {
      const res = await rawRequest(t, 'POST', `${MPU}/complete/1/r/artifacts`, body, { 'content-type': 'application/json' });
      expect([body, res.status]).toEqual([body, 400]);
    }
  });

  if (backend.name === 'local') it('pages the tracking-side listing at 1000 entries', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('many') })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    // Written straight into the folder: 1,005 uploads through HTTP would only slow the test down.
    const dir = path.join(t.store.destination, run.artifact_uri.replace('mlflow-artifacts:/', ''), 'many');
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 1005; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(4, '0')}.txt`), 'x');
    const first = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id, path: 'many' });
    expect(first.body.files).toHaveLength(1000);
    expect(first.body.next_page_token).toEqual(expect.any(String));
    const second = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id, path: 'many', page_token: first.body.next_page_token });
    expect(second.body.files.map((f: { path: string }) => f.path)).toEqual(['many/f1000.txt', 'many/f1001.txt', 'many/f1002.txt', 'many/f1003.txt', 'many/f1004.txt']);
    expect(second.body.next_page_token).toBeUndefined();
    const bad = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id, page_token: 'not-a-token' });
    expect(bad.status).toBe(400);
  });

  it('serves many concurrent downloads of one object without error', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 9);
    await rawRequest(t, 'PUT', `${A}/1/r/artifacts/shared.bin`, body);
    const results = await Promise.all(Array.from({ length: 20 }, () => rawRequest(t, 'GET', `${A}/1/r/artifacts/shared.bin`)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(body.length);
    }
  });
});
