// Class 10: resource exhaustion through the artifact endpoints (CVE-2025-0453 is the GraphQL form).
// Bounded inputs are refused early with a 4xx, listings are paged, and nothing is buffered whole:
// the flat-memory figures for 2 GiB bodies come from bench/artifact-memory.ts.
import fs from 'node:fs';
import net from 'node:net';
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

  it('refuses a multipart body declared over 32 MiB without waiting for it', async () => {
    // Only 1 MiB of the declared 33 MiB is ever sent: an answer can only come from the declared size.
    const res = await sendUntilAnswered(t, { declared: 33 * 1024 * 1024, send: 1024 * 1024 });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toContain('exceeds the limit');
  });

  it('stops reading a chunked multipart body soon after 32 MiB', async () => {
    // 256 MiB offered with back-pressure; a server reading it all would take every byte before answering.
    const res = await sendUntilAnswered(t, { chunked: true, send: 256 * 1024 * 1024 });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toContain('exceeds the limit');
    expect(res.written).toBeLessThan(96 * 1024 * 1024);
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

/**
 * POSTs a body of spaces to mpu/complete over a raw socket, with Content-Length `declared` or chunked,
 * writing at most `send` bytes with back-pressure and stopping as soon as the answer is in. Resolves
 * with the answer and how many body bytes had been handed to the socket by then.
 */
async function sendUntilAnswered(app: ArtifactApp, opts: { declared?: number; chunked?: boolean; send: number }) {
  const { port } = app.server.address() as net.AddressInfo;
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((resolve) => sock.once('connect', resolve));
  let raw = Buffer.alloc(0);
  let answer: { status: number; body: string } | undefined;
  const answered = new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = raw.subarray(0, end).toString('latin1');
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (raw.length < end + 4 + length) return;
      answer = { status: Number(head.split(' ')[1]), body: raw.subarray(end + 4, end + 4 + length).toString('utf8') };
      resolve();
    });
    sock.on('close', () => (answer ? resolve() : reject(new Error(`connection closed without an answer: ${raw.toString('latin1').slice(0, 200)}`))));
  });
  const framing = opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.declared}`;
  sock.write(`POST ${MPU}/complete/1/r/artifacts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
  const block = Buffer.alloc(256 * 1024, 0x20);
  let written = 0;
  while (!answer && written < opts.send) {
    const ok = sock.write(opts.chunked ? Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]) : block);
    written += block.length;
    if (!ok) await Promise.race([new Promise((resolve) => sock.once('drain', resolve)), answered.catch(() => {})]);
  }
  // The body is not finished: only an answer that did not wait for it arrives (the guard keeps a
  // server that waits from hanging the run).
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([
    answered,
    new Promise((_, reject) => {
      guard = setTimeout(() => reject(new Error(`no answer after ${written} body bytes: the server is waiting for the rest`)), 30_000);
    }),
  ]).finally(() => {
    clearTimeout(guard);
    sock.destroy();
  });
  return { ...answer!, written };
}
