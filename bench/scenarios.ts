import { randomBytes } from 'node:crypto';
import { drive, parallel, simpleLoop, type Client, type Recorder, type Req, type Stats } from './load.js';
import { API, createExperiment, createRun, createRunBody, logBatch, metricBatchJson, metricGrid, params, uniqueName } from './mlflow-api.js';
import type { Sizes } from './options.js';
import { measureShapes } from './search-shapes.js';
import { sleep } from './util.js';

export type Unit = 'req/s' | 'MiB/s' | 'points/s' | 'ms';

/** One line of the result table for one server. */
export interface Row {
  name: string;
  title: string;
  unit: Unit;
  /** The figure compared: a rate (higher is better) or, for unit ms, a latency (lower is better). */
  value?: number;
  stats?: Stats;
  /** Set when the server does not implement the endpoint yet (501). */
  notYet?: string;
  /** Minimum Cairn/MLflow ratio the issue asks for (none for informational rows). */
  target?: number;
  peakRssMiB?: number;
  /** Set when the scenario could not run (a setup call failed). */
  error?: string;
}

export interface Ctx {
  client: Client;
  sizes: Sizes;
  log: (msg: string) => void;
  /** Growth measurements on this server (search_runs at several sizes, ingestion to N points). */
  growth: boolean;
  /** Writes search runs [first, end) straight into the server's database (MLflow; else the API is used). */
  seed?: (experimentId: string, first: number, end: number, t0: number) => Promise<void>;
  /** Refreshes the planner statistics after seeding (Postgres; a no-op elsewhere). */
  analyze?: () => Promise<void>;
}

export interface Scenario {
  name: string;
  run(ctx: Ctx): Promise<Row[]>;
}

/**
 * Requests in flight for the throughput scenarios, the same for both servers. 8 keeps every core
 * busy on both; at 16, MLflow's workers run out of database connections (SQLAlchemy's pool of 5 + 10
 * per worker: "QueuePool limit ... reached", after a 30 s wait) and the figure measures that instead.
 */
const CONCURRENCY = 8;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Warm-up (discarded) then the measured phase, both through the same loop so its counters carry on. */
async function measure(ctx: Ctx, concurrency: number, loop: (rec: Recorder, w: number) => Promise<void>, requests?: number): Promise<Stats> {
  await drive(ctx.client, { seconds: ctx.sizes.warmupSeconds, concurrency }, loop);
  return drive(ctx.client, { seconds: ctx.sizes.seconds, concurrency, requests }, loop);
}

const post = (path: string, json: unknown): Req => ({ method: 'POST', path: `${API}${path}`, json });
const row = (name: string, title: string, stats: Stats, target?: number, unit: Unit = 'req/s', value = stats.rps): Row => ({ name, title, unit, value, stats, target });

const createRunScenario: Scenario = {
  name: 'create_run',
  async run(ctx) {
    const exp = await createExperiment(ctx.client, uniqueName('create-run'));
    const stats = await measure(ctx, CONCURRENCY, simpleLoop((i) => post('/runs/create', createRunBody(exp, i))));
    return [row('create_run', 'create_run', stats, 3)];
  },
};

/** Each of `concurrency` loops logs into its own run (as one training process would), steps counting up. */
async function perWorkerRuns(ctx: Ctx, prefix: string, n: number): Promise<string[]> {
  const exp = await createExperiment(ctx.client, uniqueName(prefix));
  const runs: string[] = [];
  for (const i of range(n)) runs.push(await createRun(ctx.client, exp, i));
  return runs;
}

const logMetricScenario: Scenario = {
  name: 'log_metric',
  async run(ctx) {
    const runs = await perWorkerRuns(ctx, 'log-metric', CONCURRENCY);
    const step = runs.map(() => 0);
    const stats = await measure(
      ctx,
      CONCURRENCY,
      simpleLoop((_, w) => post('/runs/log-metric', { run_id: runs[w], key: 'loss', value: Math.random(), timestamp: Date.now(), step: step[w]++ })),
    );
    return [row('log_metric', 'log-metric (single point)', stats, 3)];
  },
};

function logBatchScenario(name: string, title: string, keys: number, steps: number, concurrency: number): Scenario {
  return {
    name,
    async run(ctx) {
      const runs = await perWorkerRuns(ctx, name, concurrency);
      const next = runs.map(() => 0);
      const loop = simpleLoop((_, w) => {
        const first = next[w];
        next[w] += steps;
        return { method: 'POST', path: `${API}/runs/log-batch`, jsonText: metricBatchJson(runs[w], keys, steps, first) };
      });
      const stats = await measure(ctx, concurrency, loop);
      stats.extra = { points_per_s: Math.round(stats.rps * keys * steps) };
      return [row(name, title, stats, 10)];
    },
  };
}

const logParamsScenario: Scenario = {
  name: 'log_batch_100_params',
  async run(ctx) {
    // Params are immutable, so every request writes 100 new ones into a fresh run, made beforehand.
    const exp = await createExperiment(ctx.client, uniqueName('params'));
    const runs: string[] = new Array(ctx.sizes.paramRuns);
    await parallel(CONCURRENCY, range(ctx.sizes.paramRuns), async (i) => {
      runs[i] = await createRun(ctx.client, exp, i);
    });
    let next = 0;
    const loop = async (rec: Recorder) => {
      while (next < runs.length && rec.claim()) await rec.call(post('/runs/log-batch', { run_id: runs[next++], params: params(100) }));
    };
    await drive(ctx.client, { seconds: ctx.sizes.warmupSeconds, concurrency: CONCURRENCY, requests: Math.ceil(runs.length / 10) }, loop);
    const stats = await drive(ctx.client, { seconds: ctx.sizes.seconds, concurrency: CONCURRENCY, requests: runs.length - next }, loop);
    return [row('log_batch_100_params', 'log-batch, 100 params', stats, 10)];
  },
};

const getRunScenario: Scenario = {
  name: 'get_run',
  async run(ctx) {
    const exp = await createExperiment(ctx.client, uniqueName('get-run'));
    const run = await createRun(ctx.client, exp);
    await logBatch(ctx.client, run, { params: params(20), tags: range(10).map((i) => ({ key: `tag_${i}`, value: `v${i}` })), metrics: metricGrid(20, 10, 0) });
    const stats = await measure(ctx, CONCURRENCY, simpleLoop(() => ({ method: 'GET', path: `${API}/runs/get?run_id=${run}` })));
    return [row('get_run', 'get_run (20 params, 10 tags, 20 metrics)', stats, 3)];
  },
};

const searchExperimentsScenario: Scenario = {
  name: 'search_experiments',
  async run(ctx) {
    const prefix = uniqueName('exps');
    const n = ctx.sizes.experiments;
    await parallel(CONCURRENCY, range(n), async (i) => {
      await createExperiment(ctx.client, `${prefix}-${i}`);
    });
    const body = { max_results: n, filter: `name LIKE '${prefix}-%'`, order_by: ['name ASC'] };
    const check = await ctx.client.api<{ experiments: unknown[] }>('POST', `${API}/experiments/search`, body);
    if (check.experiments.length !== n) throw new Error(`search_experiments returned ${check.experiments.length} of ${n}`);
    const stats = await measure(ctx, 8, simpleLoop(() => post('/experiments/search', body)));
    return [row('search_experiments', `search_experiments (${n} of ${n})`, stats, 3)];
  },
};

const historyScenario: Scenario = {
  name: 'get_history',
  async run(ctx) {
    const exp = await createExperiment(ctx.client, uniqueName('history'));
    const run = await createRun(ctx.client, exp);
    const points = ctx.sizes.historyPoints;
    await parallel(4, range(Math.ceil(points / 1000)), async (b) => {
      const steps = Math.min(1000, points - b * 1000);
      await logBatch(ctx.client, run, { metrics: metricGrid(1, steps, b * 1000, 'loss') });
    });
    const path = `${API}/metrics/get-history?run_id=${run}&metric_key=loss0`;
    const check = await ctx.client.api<{ metrics: unknown[] }>('GET', path);
    if (check.metrics.length !== points) throw new Error(`get-history returned ${check.metrics.length} of ${points} points`);
    const stats = await measure(ctx, 4, simpleLoop(() => ({ method: 'GET', path }), { countOnly: true }));
    return [row('get_history', `get-history, ${fmtCount(points)} points`, stats, 3)];
  },
};

const bulkIntervalScenario: Scenario = {
  name: 'get_history_bulk_interval',
  async run(ctx) {
    const { bulkRuns, bulkSteps, bulkMaxResults } = ctx.sizes;
    const exp = await createExperiment(ctx.client, uniqueName('bulk'));
    const runs: string[] = new Array(bulkRuns);
    await parallel(8, range(bulkRuns), async (i) => {
      runs[i] = await createRun(ctx.client, exp, i);
      for (let s = 0; s < bulkSteps; s += 1000) {
        await logBatch(ctx.client, runs[i], { metrics: metricGrid(1, Math.min(1000, bulkSteps - s), s, 'loss') });
      }
    });
    const query = runs.map((r) => `run_ids=${r}`).join('&');
    const path = `/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?${query}&metric_key=loss0&max_results=${bulkMaxResults}`;
    const check = await ctx.client.api<{ metrics: unknown[] }>('GET', path);
    const expected = bulkRuns * Math.min(bulkSteps, bulkMaxResults);
    // Both servers sample evenly and keep the last step, so the count may be off by one per run.
    if (Math.abs(check.metrics.length - expected) > bulkRuns) throw new Error(`bulk-interval returned ${check.metrics.length} points, expected about ${expected}`);
    const stats = await measure(ctx, 4, simpleLoop(() => ({ method: 'GET', path }), { countOnly: true }));
    return [row('get_history_bulk_interval', `get-history-bulk-interval, ${bulkRuns} runs`, stats, 3)];
  },
};

const artifactsScenario: Scenario = {
  name: 'artifacts',
  async run(ctx) {
    const mib = ctx.sizes.artifactMiB;
    const names = { up: `artifact_upload`, down: `artifact_download` };
    const titles = { up: `artifact upload, ${mib} MiB`, down: `artifact download, ${mib} MiB` };
    const base = `/api/2.0/mlflow-artifacts/artifacts/bench/${uniqueName('a')}`;
    const probe = await ctx.client.send({ method: 'PUT', path: `${base}/probe.txt`, raw: Buffer.from('probe') });
    if (probe.status === 501 || probe.status === 404) {
      const why = `${probe.status}: ${probe.text.slice(0, 120)}`;
      return [
        { name: names.up, title: titles.up, unit: 'MiB/s', notYet: why, target: 3 },
        { name: names.down, title: titles.down, unit: 'MiB/s', notYet: why, target: 3 },
      ];
    }
    if (probe.status !== 200) throw new Error(`artifact probe upload -> ${probe.status}: ${probe.text.slice(0, 200)}`);
    const blob = randomBytes(mib * 1024 * 1024);
    const rounds = ctx.sizes.artifactRounds;
    // One transfer at a time, as a client uploads a checkpoint. One unmeasured round trip first, so
    // that neither server's first large transfer (cold JIT, buffers, page cache) is in the figures.
    const warm = await ctx.client.send({ method: 'PUT', path: `${base}/warm-up.bin`, raw: blob });
    if (warm.status !== 200) throw new Error(`artifact warm-up upload -> ${warm.status}: ${warm.text.slice(0, 200)}`);
    await ctx.client.send({ method: 'GET', path: `${base}/warm-up.bin` }, { countOnly: true });
    let i = 0;
    const up = await drive(ctx.client, { seconds: 3600, requests: rounds, concurrency: 1 }, async (rec) => {
      while (rec.claim()) await rec.call({ method: 'PUT', path: `${base}/model-${i++}.bin`, raw: blob });
    });
    let j = 0;
    const size = blob.length;
    const down = await drive(ctx.client, { seconds: 3600, requests: rounds, concurrency: 1 }, async (rec) => {
      while (rec.claim()) {
        await rec.call(
          { method: 'GET', path: `${base}/model-${j++ % rounds}.bin` },
          { countOnly: true, check: (a) => (a.bytes === size ? undefined : `download returned ${a.bytes} of ${size} bytes`) },
        );
      }
    });
    // Per transfer (one at a time): size over the mean time of one request.
    const mibps = (s: Stats) => (s.errors ? 0 : Number((mib / (s.mean / 1000)).toFixed(1)));
    return [row(names.up, titles.up, up, 3, 'MiB/s', mibps(up)), row(names.down, titles.down, down, 3, 'MiB/s', mibps(down))];
  },
};

/**
 * 50 training loops at once: create a run, log its params, one log-batch (10 metrics) per step,
 * finish. Twice: saturating (no time between steps: the throughput the server sustains; latency then
 * only says how long the queue is, 50 clients / throughput) and paced (one step per `mixedStepMs`,
 * as a training loop that computes between its log calls: the latency a client sees at a fixed load).
 */
function mixedScenario(paced: boolean): Scenario {
  return {
    name: paced ? 'mixed_paced' : 'mixed',
    async run(ctx) {
      const { mixedClients, mixedSeconds, mixedSteps, mixedStepMs, warmupSeconds } = ctx.sizes;
      const exp = await createExperiment(ctx.client, uniqueName('mixed'));
      const loop = async (rec: Recorder, w: number) => {
        while (!rec.done) {
          const created = await rec.call(post('/runs/create', createRunBody(exp, w)));
          if (!created) continue;
          const runId = (JSON.parse(created.text) as { run: { info: { run_id: string } } }).run.info.run_id;
          await rec.call(post('/runs/log-batch', { run_id: runId, params: params(10), tags: [{ key: 'phase', value: 'train' }] }));
          const start = performance.now();
          for (let s = 0; s < mixedSteps && !rec.done; s++) {
            if (paced) {
              // The step's compute: wait for the step's slot (none if the loop has fallen behind).
              const wait = start + (s + 1) * mixedStepMs - performance.now();
              if (wait > 0) await sleep(wait);
            }
            await rec.call({ method: 'POST', path: `${API}/runs/log-batch`, jsonText: metricBatchJson(runId, 10, 1, s) });
          }
          await rec.call(post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() }));
          rec.count('runs', 1);
        }
      };
      // Start the clients spread over one step, as independent jobs would be.
      const staggered = async (rec: Recorder, w: number) => {
        if (paced) await sleep((w / mixedClients) * mixedStepMs);
        return loop(rec, w);
      };
      await drive(ctx.client, { seconds: warmupSeconds, concurrency: mixedClients }, staggered);
      const stats = await drive(ctx.client, { seconds: mixedSeconds, concurrency: mixedClients }, staggered);
      const title = paced
        ? `mixed, paced: ${mixedClients} clients × 1 step / ${mixedStepMs} ms, ${mixedSeconds} s`
        : `mixed, saturating: ${mixedClients} clients × ${mixedSeconds} s`;
      // Paced, both servers are offered the same load: its figure is the latency (target in report.ts).
      return [row(paced ? 'mixed_paced' : 'mixed', title, stats, paced ? undefined : 3)];
    },
  };
}

/**
 * search_runs over one experiment grown step by step: the latency at each growth size, and the
 * throughput scenario ("1000 of 25,000") when the experiment reaches that size.
 */
const searchRunsScenario: Scenario = {
  name: 'search_runs',
  async run(ctx) {
    return (await searchRunsSides([{ ctx, label: '' }]))[0];
  },
};

/**
 * The search_runs scenario on one or more servers at once (their rows in the same order): each
 * size is seeded into every server before any is timed, and the shapes alternate between them
 * (measureShapes). The other figures are timed one server after the other.
 */
export async function searchRunsSides(servers: { ctx: Ctx; label: string }[]): Promise<Row[][]> {
  const s = servers[0].ctx.sizes;
  const growth = servers[0].ctx.growth;
  const sides = await Promise.all(servers.map(async ({ ctx, label }) => ({ ctx, label, exp: await createExperiment(ctx.client, uniqueName('search')) })));
  const sizes = [...new Set([...(growth ? s.growthRuns : []), s.searchRuns])].sort((a, b) => a - b);
  const bodyOf = (exp: string) => ({ experiment_ids: [exp], filter: 'metrics.acc > 0.5', order_by: ['metrics.acc DESC'], max_results: s.searchPage });
  const rows: Row[][] = sides.map(() => []);
  let seeded = 0;
  const t0 = Date.now() - 86_400_000;
  for (const target of sizes) {
    for (const { ctx, exp, label } of sides) {
      const seedStart = performance.now();
      if (ctx.seed) await ctx.seed(exp, seeded, target, t0);
      else await parallel(CONCURRENCY, range(target - seeded), (k) => seedRunApi(ctx.client, exp, seeded + k, t0));
      await ctx.analyze?.();
      ctx.log(`  ${label ? `${label}: ` : ''}seeded ${fmtCount(target)} runs (${((performance.now() - seedStart) / 1000).toFixed(0)} s for ${fmtCount(target - seeded)})`);
      const check = await ctx.client.api<{ runs?: unknown[] }>('POST', `${API}/runs/search`, bodyOf(exp));
      const expected = Math.min(s.searchPage, Math.round(target / 2));
      if (Math.abs((check.runs?.length ?? 0) - expected) > expected * 0.2) {
        throw new Error(`search_runs returned ${check.runs?.length ?? 0} runs at ${target}, expected about ${expected}`);
      }
    }
    seeded = target;
    if (growth && s.growthRuns.includes(target)) {
      for (const [i, { ctx, exp }] of sides.entries()) {
        // Latency of one search at a time: what one user waits for with this many runs. Four searches
        // first, so that each of MLflow's four workers has served one (its first is much slower).
        const search = simpleLoop(() => post('/runs/search', bodyOf(exp)), { countOnly: true });
        await drive(ctx.client, { seconds: 3600, requests: 4, concurrency: 4 }, search);
        const stats = await drive(ctx.client, { seconds: 3600, requests: s.growthSearchRepeats, concurrency: 1 }, search);
        rows[i].push({ name: `growth_search_${target}`, title: `growth: search_runs p50 at ${fmtCount(target)} runs`, unit: 'ms', value: stats.p50, stats });
      }
      if (s.shapeRuns.includes(target)) (await measureShapes(sides, target, t0)).forEach((r, i) => rows[i].push(...r));
    }
    if (target === s.searchRuns) {
      for (const [i, { ctx, exp }] of sides.entries()) {
        const stats = await measure(ctx, 4, simpleLoop(() => post('/runs/search', bodyOf(exp)), { countOnly: true }));
        rows[i].unshift(row('search_runs', `search_runs, ${fmtCount(s.searchPage)} of ${fmtCount(target)} runs`, stats, 10));
      }
    }
  }
  return rows;
}

/**
 * Search run i, as bench/seed_mlflow.py writes it into MLflow's tables: 3 tags (user, source,
 * run name), 5 params, 3 metrics at step 0; acc is spread evenly over [0, 1) so half the runs match.
 * Every 10th run has a dataset input (ds-0..ds-4, digests d0..d4, context training).
 */
async function seedRunApi(c: Client, exp: string, i: number, t0: number): Promise<void> {
  const r = await c.api<{ run: { info: { run_id: string } } }>('POST', `${API}/runs/create`, {
    experiment_id: exp,
    run_name: `run-${i}`,
    start_time: t0 + i,
    tags: [
      { key: 'mlflow.user', value: 'bench' },
      { key: 'mlflow.source.name', value: 'train.py' },
    ],
  });
  await logBatch(c, r.run.info.run_id, {
    metrics: [
      { key: 'acc', value: ((i * 7919) % 10007) / 10007, timestamp: t0, step: 0 },
      { key: 'loss', value: ((i * 104729) % 10009) / 10009, timestamp: t0, step: 0 },
      { key: 'lr', value: 0.001, timestamp: t0, step: 0 },
    ],
    params: [
      { key: 'lr', value: '0.001' },
      { key: 'batch_size', value: String(32 << i % 4) },
      { key: 'optimizer', value: i % 2 ? 'adam' : 'sgd' },
      { key: 'seed', value: String(i) },
      { key: 'layers', value: String(2 + (i % 6)) },
    ],
  });
  if (i % 10 === 0) {
    const k = (i / 10) % 5;
    await c.api('POST', `${API}/runs/log-inputs`, {
      run_id: r.run.info.run_id,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: { name: `ds-${k}`, digest: `d${k}`, source_type: 'local', source: '{}' } }],
    });
  }
}

/** Growth: sustained log-batch ingestion (1000 points per request) while the metrics table fills up. */
const ingestionScenario: Scenario = {
  name: 'ingestion',
  async run(ctx) {
    if (!ctx.growth) return [];
    const { growthPoints, growthSlices } = ctx.sizes;
    const concurrency = 8;
    const exp = await createExperiment(ctx.client, uniqueName('ingest'));
    // Each loop is one training process: its own run, 10 metrics × 100 steps per request, a new run
    // every 100 requests (100k points per run).
    const state = await Promise.all(range(concurrency).map(async (w) => ({ run: await createRun(ctx.client, exp, w), batches: 0 })));
    const loop = async (rec: Recorder, w: number) => {
      const st = state[w];
      while (rec.claim()) {
        if (st.batches === 100) {
          st.run = await createRun(ctx.client, exp, w);
          st.batches = 0;
        }
        const ok = await rec.call({ method: 'POST', path: `${API}/runs/log-batch`, jsonText: metricBatchJson(st.run, 10, 100, st.batches * 100) });
        st.batches++;
        if (ok) rec.count('ingested_points', 1000);
      }
    };
    const rows: Row[] = [];
    const perSlice = Math.ceil(growthPoints / 1000 / growthSlices);
    let total = 0;
    let seconds = 0;
    let errors = 0;
    for (let i = 0; i < growthSlices; i++) {
      const stats = await drive(ctx.client, { seconds: 36_000, requests: perSlice, concurrency }, loop);
      const points = stats.extra?.ingested_points ?? 0;
      total += points;
      seconds += stats.seconds;
      errors += stats.errors;
      const rate = Math.round(points / stats.seconds);
      ctx.log(`  ingested ${fmtCount(total)} points: ${fmtCount(rate)} points/s, p99 ${stats.p99} ms`);
      rows.push({ name: `growth_ingest_${i + 1}`, title: `growth: log-batch points/s, ${fmtCount(total - points)}→${fmtCount(total)}`, unit: 'points/s', value: rate, stats });
    }
    rows.unshift({
      name: 'growth_ingest_total',
      title: `growth: log-batch sustained to ${fmtCount(total)} points`,
      unit: 'points/s',
      value: Math.round(total / seconds),
      stats: { requests: total / 1000, errors, seconds: Number(seconds.toFixed(1)), rps: Number((total / 1000 / seconds).toFixed(1)), p50: NaN, p95: NaN, p99: NaN, mean: NaN, max: NaN },
    });
    return rows;
  },
};

export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e4 && n % 1000 === 0) return `${n / 1000}k`;
  return n.toLocaleString('en-US');
}

export const SCENARIOS: Scenario[] = [
  createRunScenario,
  logMetricScenario,
  logBatchScenario('log_batch_10', 'log-batch, 10 metrics', 10, 1, CONCURRENCY),
  logBatchScenario('log_batch_1000', 'log-batch, 1000 metrics', 20, 50, CONCURRENCY),
  logParamsScenario,
  getRunScenario,
  searchRunsScenario,
  searchExperimentsScenario,
  historyScenario,
  bulkIntervalScenario,
  artifactsScenario,
  mixedScenario(false),
  mixedScenario(true),
  ingestionScenario,
];
