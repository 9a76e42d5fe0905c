import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, startServer, stopServer, type ServerProcess } from '../harness/crash-server.js';
import { createExperiment, startLoad, type Answer, type Load } from '../harness/fault-load.js';
import { startS3Server, type S3Server } from '../harness/s3-server.js';

// The real server with its artifacts in an S3 server of the test's own, which is killed, frozen, or
// missing its bucket. During an outage uploads are 503 with Retry-After (the clients retry), tracking
// calls go on, and service resumes by itself; a bucket that does not exist is found at start-up, or
// answered as an error no client retries.

const WRITERS = 4;
const S3_TIMEOUT_S = 1;
const REQUEST_TIMEOUT_MS = 15_000;
const RECOVERY_BOUND_MS = 5_000;
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

let s3: S3Server;
let server: ServerProcess | undefined;
let load: Load | undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-s3-faults-'));

beforeAll(async () => {
  ensureBuilt();
  s3 = await startS3Server('cairn-faults');
});
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await stopServer(server);
  server = undefined;
  s3?.thaw();
});
afterAll(async () => {
  await s3?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const s3Client = () =>
  new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'cairn-test', secretAccessKey: 'cairn-test-secret' } });

const startCairn = (destination: string) =>
  startServer('memory://', dataDir, 60_000, ['--artifacts-destination', destination, '--s3-timeout', String(S3_TIMEOUT_S)], { ...process.env, ...s3.env });

const content = (w: number, seq: number) => `artifact ${w}/${seq}\n`.repeat(20);
const upload = (prefix: string) => (w: number, seq: number) => ({ method: 'PUT' as const, path: `${ARTIFACTS}/${prefix}/${w}/${seq}.txt`, body: content(w, seq) });
const oks = (answers: Answer[], after = 0) => answers.filter((a) => a.status === 200 && a.sentAt >= after).length;

/** `bucketMissing`: a window in which the bucket really did not exist (see the kill test). */
function expectAliveAndAnswered(answers: Answer[], bucketMissing?: { from: number; to: number }): void {
  expect(server!.proc.exitCode, server!.output()).toBeNull();
  expect(server!.proc.signalCode, server!.output()).toBeNull();
  const missing = (a: Answer) => a.status === 404 && a.errorCode === 'RESOURCE_DOES_NOT_EXIST' && bucketMissing && a.sentAt >= bucketMissing.from && a.sentAt < bucketMissing.to;
  const bad = answers.filter((a) => a.status !== 200 && !(a.status === 503 && a.errorCode === 'TEMPORARILY_UNAVAILABLE' && a.retryAfter) && !missing(a));
  expect(bad.slice(0, 3), `${bad.length} answers were neither a 200 nor a 503 with Retry-After`).toEqual([]);
}

/** Every acknowledged upload since `after` reads back as sent, and each folder lists each file once. */
async function expectUploadsKept(prefix: string, answers: Answer[], after = 0): Promise<void> {
  const acked = answers.filter((a) => a.status === 200 && a.sentAt >= after);
  expect(acked.length).toBeGreaterThan(0);
  for (const a of acked) {
    const res = await fetch(`${server!.baseUrl}${ARTIFACTS}/${prefix}/${a.writer}/${a.seq}.txt`);
    expect(res.status, `${prefix}/${a.writer}/${a.seq}.txt`).toBe(200);
    expect(await res.text()).toBe(content(a.writer, a.seq));
  }
  for (let w = 0; w < WRITERS; w++) {
    const res = await fetch(`${server!.baseUrl}${ARTIFACTS}?path=${prefix}/${w}`);
    const names = ((await res.json()) as { files?: { path: string }[] }).files?.map((f) => path.posix.basename(f.path)) ?? [];
    expect(new Set(names).size, 'no file listed twice').toBe(names.length);
    for (const a of acked.filter((x) => x.writer === w)) expect(names).toContain(`${a.seq}.txt`);
  }
}

async function trackingWorks(): Promise<void> {
  const experimentId = await createExperiment(server!, `tracking-${Date.now()}-${Math.random()}`);
  expect(experimentId).toMatch(/^\d+$/);
}

describe('an S3 bucket that does not exist', () => {
  it('stops start-up with one line naming the bucket', () => {
    const res = spawnSync(process.execPath, ['bin/cairn.js', 'server', '--port', '0', '--backend-store-uri', 'memory://', '--artifacts-destination', 's3://no-such-bucket-here/x'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 110_000,
      env: { ...process.env, ...s3.env, MLFLOW_PORT: '' },
    });
    expect(res.status, res.stderr).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^cairn: the artifact store's bucket 'no-such-bucket-here' does not exist/);
  }, 120_000);

  it('removed while the server runs: a 404 no client retries, not a 503', async () => {
    const client = s3Client();
    await client.send(new CreateBucketCommand({ Bucket: 'cairn-faults-doomed' }));
    server = await startCairn('s3://cairn-faults-doomed/store');
    const put = await fetch(`${server.baseUrl}${ARTIFACTS}/before/a.txt`, { method: 'PUT', body: 'a' });
    expect(put.status).toBe(200);
    // moto removes a bucket only when it is empty: the object goes first, behind Cairn's back.
    const del = await fetch(`${server.baseUrl}${ARTIFACTS}/before/a.txt`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await client.send(new DeleteBucketCommand({ Bucket: 'cairn-faults-doomed' }));
    client.destroy();
    for (const res of [
      await fetch(`${server.baseUrl}${ARTIFACTS}/after/b.txt`, { method: 'PUT', body: 'b' }),
      await fetch(`${server.baseUrl}${ARTIFACTS}?path=after`),
    ]) {
      const body = (await res.json()) as { error_code: string; message: string };
      expect(res.status, JSON.stringify(body)).toBe(404);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(body.message).toMatch(/bucket 'cairn-faults-doomed' does not exist/);
    }
    await trackingWorks();
  }, 120_000);
});

describe('the S3 server killed while clients upload', () => {
  it('answers uploads 503 during the outage, goes on tracking, and resumes within 5 s of S3 returning', async () => {
    server = await startCairn(`s3://${s3.bucket}/killed`);
    const l = (load = startLoad(server, '0', { writers: WRITERS, requestTimeoutMs: REQUEST_TIMEOUT_MS, request: upload('killed') }));
    await l.until((a) => oks(a) >= 20, '20 uploads before the fault');
    await s3.kill();
    const killedAt = Date.now();
    await l.until((a) => a.filter((x) => x.sentAt > killedAt).length >= 2 * WRITERS, 'answers during the outage');
    await trackingWorks();
    const during = l.answers.filter((a) => a.sentAt > killedAt);
    const restartAt = Date.now();
    await s3.restart();
    const upAt = Date.now();
    await l.until((a) => oks(a, upAt) >= 1, 'the first upload after S3 returned');
    const recoveredAt = l.answers.find((a) => a.status === 200 && a.sentAt >= upAt)!.doneAt;
    await l.until((a) => oks(a, recoveredAt) >= 20, '20 uploads after recovery');
    await l.stop();
    load = undefined;

    // moto comes back empty and listens a moment before the script creates the bucket again: in
    // that moment the bucket truly does not exist, and saying so (404) is the right answer.
    expectAliveAndAnswered(l.answers, { from: restartAt, to: upAt });
    expect(during.filter((a) => a.status === 503).length, 'uploads were refused while S3 was down').toBeGreaterThanOrEqual(2 * WRITERS);
    expect(recoveredAt - upAt, 'recovery after S3 returned (ms)').toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    // moto keeps objects in memory: what was stored before the kill died with it; what came after is kept.
    await expectUploadsKept('killed', l.answers, upAt);
  }, 120_000);
});

describe('the S3 server frozen (SIGSTOP) while clients upload', () => {
  it('answers 503 past --s3-timeout instead of hanging, goes on tracking, and keeps every acknowledged upload', async () => {
    server = await startCairn(`s3://${s3.bucket}/frozen`);
    const l = (load = startLoad(server, '0', { writers: WRITERS, requestTimeoutMs: REQUEST_TIMEOUT_MS, request: upload('frozen') }));
    await l.until((a) => oks(a) >= 20, '20 uploads before the fault');
    s3.freeze();
    const frozenAt = Date.now();
    let thawedAt = Infinity;
    try {
      await l.until((a) => new Set(a.filter((x) => x.sentAt > frozenAt && x.status === 503).map((x) => x.writer)).size === WRITERS, 'a 503 for every writer while frozen');
      await trackingWorks();
      // A download is bounded too.
      const get = await fetch(`${server.baseUrl}${ARTIFACTS}/frozen/0/0.txt`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(get.status).toBe(503);
      expect(get.headers.get('retry-after')).toBeTruthy();
    } finally {
      s3.thaw();
      thawedAt = Date.now();
    }
    await l.until((a) => oks(a, thawedAt) >= 1, 'the first upload after SIGCONT');
    const recoveredAt = l.answers.find((a) => a.status === 200 && a.sentAt >= thawedAt)!.doneAt;
    await l.until((a) => oks(a, recoveredAt) >= 20, '20 uploads after recovery');
    await l.stop();
    load = undefined;

    expectAliveAndAnswered(l.answers);
    expect(recoveredAt - thawedAt, 'recovery after SIGCONT (ms)').toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    await expectUploadsKept('frozen', l.answers);
  }, 120_000);
});
