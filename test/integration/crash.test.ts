import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, startServer, stopServer, type ServerProcess } from '../harness/crash-server.js';
import { uniqueName } from '../harness/app.js';

// SIGKILL the real server while log-batch requests are in flight, restart it on the same database,
// and check what survived: every acknowledged batch in full, no point twice, and every other batch
// all or nothing. On PGlite this is also the test that a killed data dir opens again.

const TS = 1_700_000_000_000;
const STEPS_PER_KEY = 50; // two keys: 100 metrics per batch
const KEYS = ['loss', 'acc'] as const;
const CONCURRENCY = 4;
// The kill is event-driven, not timed: it lands at the first moment after the `killAfter`-th 200 when
// at least `delivered` requests have been handed whole to the server's socket and not answered yet:
// one (the server may be between transactions) up to all the workers' (some are mid-transaction).
const ROUNDS = [
  { firstBatch: 0, killAfter: 25, delivered: 1 },
  { firstBatch: 1000, killAfter: 15, delivered: 2 },
  { firstBatch: 2000, killAfter: 10, delivered: CONCURRENCY },
];

const valueOf = (key: string, step: number) => (key === 'loss' ? step / 8 : 1 - step / 4);

function batchBody(runId: string, batch: number) {
  const metrics = KEYS.flatMap((key) =>
    Array.from({ length: STEPS_PER_KEY }, (_, j) => {
      const step = batch * STEPS_PER_KEY + j;
      return { key, value: valueOf(key, step), timestamp: TS + step, step };
    }),
  );
  return { run_id: runId, metrics, params: [{ key: `batch_${batch}`, value: String(batch) }] };
}

interface Metric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

interface RoundResult {
  sent: Set<number>;
  acked: Set<number>;
  /** Batches answered with something other than 200 (must not happen before the kill). */
  rejected: Map<number, string>;
  /** Requests whose bytes were all with the server, unanswered, when it was killed. */
  deliveredAtKill: number;
}

async function api(server: ServerProcess, method: 'GET' | 'POST', endpoint: string, body?: unknown): Promise<any> {
  const url = `${server.baseUrl}/api/2.0/mlflow${endpoint}`;
  const res = await fetch(url, method === 'POST' ? { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : { method });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${endpoint} -> ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** One log-batch POST; `onDelivered` fires once the whole request has been handed to the socket. */
function postBatch(server: ServerProcess, agent: http.Agent, body: string, onDelivered: () => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${server.baseUrl}/api/2.0/mlflow/runs/log-batch`,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('finish', onDelivered);
    req.on('error', reject);
    req.end(body);
  });
}

/** Streams batches from `firstBatch` on, and SIGKILLs the server as ROUNDS describes. */
async function streamAndKill(server: ServerProcess, runId: string, { firstBatch, killAfter, delivered: needDelivered }: (typeof ROUNDS)[number]): Promise<RoundResult> {
  const result: RoundResult = { sent: new Set(), acked: new Set(), rejected: new Map(), deliveredAtKill: -1 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const delivered = new Set<number>();
  let next = firstBatch;
  let killed = false;
  const kill = () => {
    killed = true;
    result.deliveredAtKill = delivered.size;
    server.proc.kill('SIGKILL');
  };
  const maybeKill = () => {
    if (!killed && result.acked.size >= killAfter && delivered.size >= needDelivered) kill();
  };
  const worker = async () => {
    while (!killed && next < firstBatch + 900) {
      const batch = next++;
      result.sent.add(batch);
      try {
        const res = await postBatch(server, agent, JSON.stringify(batchBody(runId, batch)), () => {
          delivered.add(batch);
          maybeKill();
        });
        delivered.delete(batch);
        if (res.status === 200) result.acked.add(batch);
        else result.rejected.set(batch, `${res.status} ${res.text.slice(0, 300)}`);
        maybeKill();
      } catch {
        // The connection died with the server: this batch's fate is unknown to the client.
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  if (!killed) kill(); // ran out of batches first; the checks on the round then fail
  const exit = await server.exited;
  expect(exit.signal, `server should have died of SIGKILL:\n${server.output()}`).toBe('SIGKILL');
  return result;
}

async function pagedHistory(server: ServerProcess, runId: string, key: string): Promise<Metric[]> {
  const out: Metric[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '700' });
    if (token) q.set('page_token', token);
    const body = await api(server, 'GET', `/metrics/get-history?${q}`);
    out.push(...(body.metrics ?? []));
    token = body.next_page_token;
    if (!token) return out;
  }
  throw new Error('get-history paging did not terminate');
}

describe('crash safety: SIGKILL during log-batch', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-crash-'));
  const uri = process.env.TEST_DATABASE_URL ?? `pglite://${path.join(dataDir, 'db')}`;
  let server: ServerProcess | undefined;

  beforeAll(() => ensureBuilt());
  afterAll(async () => {
    await stopServer(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged batch, and every other batch whole or not at all', async () => {
    server = await startServer(uri, dataDir);
    const { experiment_id: experimentId } = await api(server, 'POST', '/experiments/create', { name: uniqueName('crash') });
    const { run } = await api(server, 'POST', '/runs/create', { experiment_id: experimentId, start_time: TS });
    const runId: string = run.info.run_id;

    const sent = new Set<number>();
    const acked = new Set<number>();
    for (const round of ROUNDS) {
      const r = await streamAndKill(server, runId, round);
      expect([...r.rejected], 'no batch may be refused while the server is up').toEqual([]);
      expect(r.acked.size).toBeGreaterThanOrEqual(round.killAfter);
      expect(r.deliveredAtKill, 'the kill must land while the server holds unanswered requests').toBeGreaterThanOrEqual(round.delivered);
      r.sent.forEach((b) => sent.add(b));
      r.acked.forEach((b) => acked.add(b));
      // Same database, new process (and port). On PGlite this reopens a data dir left by a SIGKILL.
      server = await startServer(uri, dataDir);
    }

    const history = new Map<string, Metric[]>();
    for (const key of KEYS) history.set(key, await pagedHistory(server, runId, key));
    const { run: after } = await api(server, 'GET', `/runs/get?run_id=${runId}`);
    const params = new Map<string, string>((after.data.params ?? []).map((p: { key: string; value: string }) => [p.key, p.value]));

    // No point twice, and every point is one the client sent, with the value it sent.
    for (const [key, points] of history) {
      const steps = points.map((m) => m.step);
      expect(new Set(steps).size, `${key}: duplicate steps`).toBe(steps.length);
      expect(steps, `${key}: history out of step order`).toEqual([...steps].sort((a, b) => a - b));
      for (const m of points) {
        expect(sent.has(Math.floor(m.step / STEPS_PER_KEY)), `${key} step ${m.step} was never sent`).toBe(true);
        expect(m).toEqual({ key, value: valueOf(key, m.step), timestamp: TS + m.step, step: m.step });
      }
    }

    // Per batch: acknowledged => complete; otherwise complete or absent (metrics and param together).
    const present: number[] = [];
    for (const batch of [...sent].sort((a, b) => a - b)) {
      const counts = KEYS.map((key) => history.get(key)!.filter((m) => Math.floor(m.step / STEPS_PER_KEY) === batch).length);
      const hasParam = params.get(`batch_${batch}`) === String(batch);
      const complete = counts.every((c) => c === STEPS_PER_KEY) && hasParam;
      const absent = counts.every((c) => c === 0) && !params.has(`batch_${batch}`);
      if (acked.has(batch)) expect(complete, `acknowledged batch ${batch} incomplete: ${counts} param=${hasParam}`).toBe(true);
      else expect(complete || absent, `unacknowledged batch ${batch} is partial: ${counts} param=${hasParam}`).toBe(true);
      if (complete) present.push(batch);
    }
    expect(present.length).toBeGreaterThanOrEqual(acked.size);
    expect([...params.keys()].sort()).toEqual(present.map((b) => `batch_${b}`).sort());

    // The latest value per key is the history's maximum by (step, timestamp, value).
    for (const key of KEYS) {
      const points = history.get(key)!;
      const last = points.reduce((a, b) => (b.step > a.step || (b.step === a.step && b.timestamp > a.timestamp) ? b : a));
      const latest = after.data.metrics.find((m: Metric) => m.key === key);
      expect(latest).toEqual({ key, value: last.value, timestamp: last.timestamp, step: last.step });
    }

    // The unpaged (streamed) history agrees with the paged one.
    const streamed = await api(server, 'GET', `/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(streamed.metrics).toEqual(history.get('loss'));

    // And the recovered database still takes writes.
    await api(server, 'POST', '/runs/log-batch', batchBody(runId, 5000));
    const more = await api(server, 'GET', `/metrics/get-history?run_id=${runId}&metric_key=acc&max_results=25000`);
    expect(more.metrics.length).toBe(history.get('acc')!.length + STEPS_PER_KEY);
  }, 240_000);
});
