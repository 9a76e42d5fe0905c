import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, startServer, stopServer, type ServerProcess } from '../harness/crash-server.js';
import { checkWrites, createExperiment, runsByTag, startLoad, type Answer, type Load } from '../harness/fault-load.js';
import { childrenOf, startPgCluster, type PgCluster } from '../harness/pg-cluster.js';

// The real server (bin/cairn.js) on a Postgres cluster of the test's own, with clients creating runs
// while that Postgres is stopped, frozen or out of connections. Each scenario checks that no process
// dies, that during the fault every answer is a 503 with Retry-After (or a 4xx), never a 500 or a
// dropped connection, that service resumes by itself, and that every acknowledged write is stored
// exactly once. Recovery is awaited event by event; the issue's "within 5 s" bound is the one timing
// figure asserted.

const WRITERS = 6;
const DB_TIMEOUT_S = 1;
// Generous: a request is bounded by the connection wait plus its statements, each DB_TIMEOUT_S.
const REQUEST_TIMEOUT_MS = 15_000;
const RECOVERY_BOUND_MS = 5_000;

let cluster: PgCluster;
let server: ServerProcess | undefined;
let load: Load | undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-faults-'));

beforeAll(async () => {
  ensureBuilt();
  cluster = await startPgCluster({ maxConnections: 30 });
});
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await stopServer(server);
  server = undefined;
  await cluster?.ensureUp();
});
afterAll(() => {
  cluster?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A W&B API key stored in the cluster's database, as `cairn keys create` makes one. */
function wandbKey(url: string): string {
  const res = spawnSync(process.execPath, ['bin/cairn.js', 'keys', 'create', '--user', 'fault', '--backend-store-uri', url], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout.trim();
}

async function wandbRunState(s: ServerProcess, key: string): Promise<Response> {
  return fetch(`${s.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`api:${key}`).toString('base64')}` },
    // A query that reads the database (the key itself may be served from the server's cache).
    body: JSON.stringify({
      query: 'query RunState ($entity: String!, $project: String!, $run: String!) { project(name: $project, entityName: $entity) { run(name: $run) { id state } } }',
      variables: { entity: 'fault', project: 'fault-project', run: 'no-such-run' },
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

const oks = (answers: Answer[], after = 0) => answers.filter((a) => a.status === 200 && a.sentAt >= after).length;

/** Every answer to a request sent in [from, to): 503 with Retry-After, or a 4xx; never a 5xx else, never none. */
function expectOnlyRefusals(answers: Answer[], from: number, to: number): Answer[] {
  const during = answers.filter((a) => a.sentAt >= from && a.sentAt < to);
  const bad = during.filter((a) => !(a.status === 503 && a.errorCode === 'TEMPORARILY_UNAVAILABLE' && a.retryAfter) && !(a.status >= 400 && a.status < 500));
  expect(bad.slice(0, 5), `${bad.length} of ${during.length} answers during the fault were not a 503 with Retry-After`).toEqual([]);
  return during;
}

async function expectAllWritesKept(experimentId: string, answers: Answer[]): Promise<void> {
  const { acked, problems } = checkWrites(answers, await runsByTag(server!, experimentId));
  expect(problems.slice(0, 10)).toEqual([]);
  expect(acked).toBeGreaterThan(0);
}

function expectAlive(s: ServerProcess, workersKilledByTest = 0): void {
  expect(s.proc.exitCode, s.output()).toBeNull();
  expect(s.proc.signalCode, s.output()).toBeNull();
  // With --workers > 1 the primary replaces a dead worker, and says so: only the test's own kills.
  expect(s.output().match(/worker exited/g) ?? [], s.output()).toHaveLength(workersKilledByTest);
}

/** Resolves once the primary has `n` worker processes (polled: a fork is not an event we can see). */
async function workersUp(s: ServerProcess, n: number, pids: () => number[]): Promise<void> {
  for (let i = 0; i < 600 && pids().length !== n; i++) await new Promise((r) => setTimeout(r, 50));
  expect(pids(), s.output()).toHaveLength(n);
}

/** Stops the load and checks what every scenario promises: nobody died, nothing unanswered, nothing lost. */
async function finish(l: Load, experimentId: string, killedWorkerAt?: number): Promise<Answer[]> {
  await l.stop();
  load = undefined;
  expectAlive(server!, killedWorkerAt === undefined ? 0 : 1);
  // The connections of a worker the test SIGKILLed die with it, including keep-alive ones a client
  // picked in the moment the kill took to land: those requests (during the outage, so none was
  // acknowledged) are reset by the test's doing, not the server's.
  const killedWithWorker = (a: Answer) =>
    killedWorkerAt !== undefined && a.status === 0 && /ECONNRESET|other side closed/.test(a.failure ?? '') && a.doneAt >= killedWorkerAt && a.doneAt < killedWorkerAt + 2000;
  const missing = l.answers.filter((a) => (a.status === 0 && !killedWithWorker(a)) || (a.status >= 500 && a.status !== 503));
  expect(missing.slice(0, 5), `${missing.length} requests got no answer or a 5xx other than 503 (worker killed at ${killedWorkerAt})`).toEqual([]);
  await expectAllWritesKept(experimentId, l.answers);
  return l.answers.filter((a) => !killedWithWorker(a));
}

describe.each([1, 2])('Postgres stopped while clients log (--workers %i)', (workers) => {
  it(`answers 503 during the outage${workers > 1 ? ' (a worker killed meanwhile is replaced)' : ''}, resumes by itself within 5 s, and keeps every acknowledged write once`, async () => {
    server = await startServer(cluster.url, dataDir, 60_000, ['--workers', String(workers), '--db-timeout', String(DB_TIMEOUT_S)]);
    const experimentId = await createExperiment(server, `stop-${workers}-${Date.now()}`);
    const key = wandbKey(cluster.url);
    expect((await wandbRunState(server, key)).status).toBe(200);
    const l = (load = startLoad(server, experimentId, { writers: WRITERS, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
    await l.until((a) => oks(a) >= 30, '30 writes before the fault');

    await cluster.stop();
    const stoppedAt = Date.now();
    await l.until((a) => a.filter((x) => x.sentAt > stoppedAt).length >= 30, '30 answers during the outage');
    // The W&B client family gets the same 503 (its key is checked against the database).
    const gql = await wandbRunState(server, key);
    expect(gql.status, await gql.clone().text()).toBe(503);
    expect(gql.headers.get('retry-after')).toBeTruthy();
    const workerPids = () => childrenOf(server!.proc.pid!);
    let killedWorkerAt: number | undefined;
    if (workers > 1) {
      // A worker that dies during the outage is replaced by one that starts without the database
      // and answers 503 until it is back (instead of failing to start in a loop).
      const [victim] = workerPids();
      killedWorkerAt = Date.now();
      process.kill(victim, 'SIGKILL');
      await workersUp(server, workers, () => workerPids().filter((p) => p !== victim));
      const seen = l.answers.length;
      await l.until((a) => a.length >= seen + 30, '30 more answers during the outage, with the new worker');
    }
    const restartAt = Date.now();
    await cluster.start();
    const upAt = Date.now();
    await l.until((a) => oks(a, upAt) >= 1, 'the first write after Postgres returned');
    const recoveredAt = l.answers.find((a) => a.status === 200 && a.sentAt >= upAt)!.doneAt;
    await l.until((a) => oks(a, recoveredAt) >= 30, '30 writes after recovery');
    expect((await wandbRunState(server, key)).status).toBe(200);

    const answers = await finish(l, experimentId, killedWorkerAt);
    if (workers > 1) expect(workerPids()).toHaveLength(workers);
    expect(expectOnlyRefusals(answers, stoppedAt, restartAt).length).toBeGreaterThanOrEqual(30);
    expect(recoveredAt - upAt, 'recovery after Postgres returned (ms)').toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  }, 120_000);
});

describe('Postgres frozen (SIGSTOP) while clients log', () => {
  it('answers 503 past --db-timeout instead of hanging, and recovers within 5 s of SIGCONT', async () => {
    server = await startServer(cluster.url, dataDir, 60_000, ['--db-timeout', String(DB_TIMEOUT_S)]);
    const experimentId = await createExperiment(server, `freeze-${Date.now()}`);
    const l = (load = startLoad(server, experimentId, { writers: WRITERS, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
    await l.until((a) => oks(a) >= 30, '30 writes before the fault');

    cluster.freeze();
    const frozenAt = Date.now();
    let thawedAt = Infinity;
    try {
      // Every writer must get answers while the database is frozen: nobody hangs on it.
      await l.until((a) => new Set(a.filter((x) => x.sentAt > frozenAt && x.status === 503).map((x) => x.writer)).size === WRITERS && a.filter((x) => x.sentAt > frozenAt).length >= 2 * WRITERS, 'two 503s per writer while frozen');
    } finally {
      cluster.thaw();
      thawedAt = Date.now();
    }
    await l.until((a) => oks(a, thawedAt) >= 1, 'the first write after SIGCONT');
    const recoveredAt = l.answers.find((a) => a.status === 200 && a.sentAt >= thawedAt)!.doneAt;
    await l.until((a) => oks(a, recoveredAt) >= 30, '30 writes after recovery');

    const answers = await finish(l, experimentId);
    // Sent while frozen: refused (a request already past its statements when the freeze hit may still be a 200).
    const during = expectOnlyRefusals(answers.filter((a) => a.status !== 200), frozenAt, thawedAt);
    expect(during.length).toBeGreaterThanOrEqual(2 * WRITERS);
    // The bound: nobody waited past the client's own timeout (those would be status 0, checked in finish).
    const slowest = Math.max(...answers.filter((a) => a.sentAt > frozenAt && a.sentAt < thawedAt).map((a) => a.doneAt - a.sentAt));
    expect(slowest).toBeLessThan(REQUEST_TIMEOUT_MS);
    expect(recoveredAt - thawedAt, 'recovery after SIGCONT (ms)').toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  }, 120_000);
});

describe('Postgres out of connections (53300 too many clients)', () => {
  it('queues for a connection or answers 503, never 500, and recovers when connections free up', async () => {
    server = await startServer(cluster.url, dataDir, 60_000, ['--db-timeout', String(DB_TIMEOUT_S)]);
    const experimentId = await createExperiment(server, `conns-${Date.now()}`);
    // Take every connection slot left, so the server's pool cannot grow past what it holds now.
    const hogs: pg.Client[] = [];
    try {
      for (;;) {
        const c = new pg.Client({ connectionString: cluster.url });
        c.on('error', () => {});
        try {
          await c.connect();
          hogs.push(c);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('53300');
          break;
        }
        if (hogs.length > 200) throw new Error('max_connections did not bite');
      }
      const l = (load = startLoad(server, experimentId, { writers: WRITERS * 2, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
      await l.until((a) => a.length >= 60, '60 answers while the slots are taken');
      const releasedAt = Date.now();
      await Promise.all(hogs.splice(0).map((c) => c.end().catch(() => {})));
      await l.until((a) => oks(a, releasedAt) >= 30, '30 writes after connections were freed');
      const answers = await finish(l, experimentId);
      expectOnlyRefusals(answers.filter((a) => a.status !== 200), 0, releasedAt);
      // The pool queued for the connections it had rather than failing every request.
      expect(oks(answers.filter((a) => a.sentAt < releasedAt))).toBeGreaterThan(0);
      expect(cluster.log()).toMatch(/too many clients/);
    } finally {
      await Promise.all(hogs.map((c) => c.end().catch(() => {})));
    }
  }, 120_000);
});

describe('--db-timeout and migrations', () => {
  it('bounds requests, not the schema migrations nor their wait for another process applying them', async () => {
    cluster.psql('CREATE DATABASE fresh_migrate');
    const url = cluster.url.replace(/\/cairn$/, '/fresh_migrate');
    // Another process "applying migrations": it holds the migration lock until the migrate below waits on it.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(727274)');
      const migrate = spawn(process.execPath, ['bin/cairn.js', 'db', 'migrate', '--backend-store-uri', url, '--db-timeout', '0.1'], { cwd: repoRoot });
      let stderr = '';
      migrate.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => migrate.once('exit', resolve));
      const waiting = async () => (await holder.query("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted")).rows[0].n > 0;
      for (let i = 0; i < 1200 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting(), 'db migrate should be waiting for the migration lock').toBe(true);
      // Hold it past both bounds a request would have (0.1 s on the server, +0.5 s in the client):
      // the waiting migrate must not have been failed by them. Then let it through.
      await new Promise((r) => setTimeout(r, 1000));
      expect(migrate.exitCode, stderr).toBeNull();
      expect(await waiting()).toBe(true);
      await holder.query('select pg_advisory_unlock(727274)');
      expect(await exited, stderr).toBe(0);
    } finally {
      await holder.end();
    }
    expect(cluster.psql("select count(*) from information_schema.tables where table_name = 'experiments'", 'fresh_migrate').trim()).toBe('1');
  }, 120_000);
});
