// Tracing throughput, Cairn beside the real `mlflow server`, each on its own database of one fresh
// Postgres cluster (the main bench's setup, bench/postgres.ts and servers.ts):
//   1. client: traces/s through the mlflow 3.18 client's default path (`mlflow.start_span`, three
//      spans a trace, flushed by its async export queue), one Python process per server, and the
//      same path as a server's load: the real client's requests for a trace, captured, sent again by
//      --exporters senders under fresh trace ids (bench/client-replay.ts);
//   2. otlp: concurrent OTLP/HTTP exporters (`POST /v1/traces`, OTLP JSON, one trace of three spans a
//      request), twice (bench/otlp-load.ts): saturating (each sends again as soon as answered: traces/s,
//      and a latency that is only the queue) and paced (each sends one trace every --pace-ms, the same
//      load offered to both servers: the latency at that load);
//   3. search: search_traces latency over --search-traces traces of an experiment of their own, written
//      straight into each server's tables by bench/seed_mlflow_traces.py (the same traces for both:
//      names, states, tags, metadata, times), then the same search shapes against both, whose answers
//      (the trace ids of each first page) must agree.
// Slow (minutes), so it is not part of `npm run bench`; figures only, no thresholds.
//
//   npm run bench:traces                                # 300 client traces, 50 exporters x (100 warm-up, 60 saturating, 60 paced), 10,000 searched
//   npm run bench:traces -- --search-traces 100000      # 100k traces searched (seeded in about a minute each)
//   npm run bench:traces -- --servers cairn             # Cairn alone (a quick check; no ratios)
//   npm run bench:traces -- --pace-ms 50                # the paced run at 1,000 traces/s offered (50 exporters)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { captureClientTrace, checkReplayedTrace, CLIENT_TRACE_PY, clientEnv, replayClientPath } from './client-replay.js';
import { paced, postOk, saturating, type LoadResult } from './otlp-load.js';
import { startCluster } from './postgres.js';
import { killAllLaunched, launch, type RunningServer, type ServerKind } from './servers.js';
import { log } from './util.js';
import { mlflowVenv } from './venv.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const CLIENT_TRACES = flag('client-traces', 300);
const EXPORTERS = flag('exporters', 50);
// 60 saturating requests an exporter (3,000, as the paced run): with 20 (1,000 requests, under a
// second against Cairn) the p99 was the tenth-worst request, and one pause of any of the three
// processes sharing the machine (the server, Postgres, this bench's own garbage collector) moved it.
const PER_EXPORTER = flag('per-exporter', 60);
// The paced run: each exporter sends one trace every PACE_MS (50 x 1 / 100 ms: 500 traces/s offered),
// PACED_PER_EXPORTER times (6 s offered: 3,000 requests, so the p99 is not the tenth-worst of 1,000).
const PACE_MS = flag('pace-ms', 100);
const PACED_PER_EXPORTER = flag('paced-per-exporter', 60);
// Untimed OTLP requests of each exporter before the timed ones, as the searches' warm-up: a fresh
// Node process serves its first few thousand OTLP requests slower, until V8 has compiled their path
// (a fresh Cairn took 3,000-7,500 requests to reach its steady rate, 830 -> 1,470 traces/s, on the
// development machine: docs/bench.md). Both servers get the same.
const OTLP_WARMUP = flag('otlp-warmup', 100);
// The client's path replayed (bench/client-replay.ts): the traces the real client sends while its
// requests are captured, then each of --exporters senders sends --replay-warmup untimed traces and
// --replay-per-sender timed ones (40: 2,000 traces, about a minute against mlflow server).
const REPLAY_CAPTURE = flag('replay-capture', 30);
const REPLAY_WARMUP = flag('replay-warmup', 20);
const REPLAY_PER_SENDER = flag('replay-per-sender', 40);
const SEARCH_TRACES = flag('search-traces', 10_000);
const SEARCH_REPS = flag('search-reps', 30);
// Untimed rounds of every shape before the timed searches: a server is measured warm, as it runs
// (a fresh Node process answers its first hundred searches up to twice as slowly, until V8 has
// compiled its hot paths; docs/bench.md). Both servers get the same.
const SEARCH_WARMUP = flag('search-warmup', 30);
// Only the searches (no client path, no OTLP load): for iterating on search.
const SEARCH_ONLY = args.includes('--search-only');
const serversAt = args.indexOf('--servers');
const SERVERS = (serversAt === -1 ? 'mlflow,cairn' : args[serversAt + 1]).split(',').filter((k): k is ServerKind => k === 'mlflow' || k === 'cairn');
if (!SERVERS.includes('cairn')) throw new Error('--servers must name cairn (mlflow is optional: it is the reference)');

// Request times of the searched traces: trace i at T0 + i seconds (bench/seed_mlflow_traces.py).
const SEARCH_T0 = 1_767_000_000_000;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
let traceSeq = 0;

/** One OTLP JSON span set: a root and two children, ~10 ms apart, with inputs and outputs like the client's. */
function traceSpans(serverTag: number, t0: bigint) {
  const id = `${hex(serverTag, 8)}${hex(++traceSeq, 24)}`;
  const root = hex(traceSeq * 4 + 1, 16);
  const s = (v: string) => ({ stringValue: v });
  const span = (spanId: string, parent: string | undefined, name: string, start: bigint, end: bigint, attrs: [string, string][]) => ({
    traceId: id, spanId, ...(parent ? { parentSpanId: parent } : {}), name,
    startTimeUnixNano: String(start), endTimeUnixNano: String(end),
    attributes: attrs.map(([key, v]) => ({ key, value: s(v) })), status: { code: traceSeq % 10 === 0 ? 2 : 1 },
  });
  return [
    span(root, undefined, `agent-${traceSeq % 50}`, t0, t0 + 30_000_000n, [['mlflow.spanType', '"AGENT"'], ['mlflow.spanInputs', `{"question": "q${traceSeq}"}`], ['mlflow.spanOutputs', '"an answer"']]),
    span(hex(traceSeq * 4 + 2, 16), root, 'retrieve', t0 + 1_000_000n, t0 + 11_000_000n, [['mlflow.spanType', '"RETRIEVER"'], ['mlflow.spanOutputs', '[{"doc": "d", "score": 0.5}]']]),
    span(hex(traceSeq * 4 + 3, 16), root, 'generate', t0 + 12_000_000n, t0 + 29_000_000n, [['mlflow.spanType', '"LLM"'], ['mlflow.spanOutputs', '"an answer"']]),
  ];
}

const otlpBody = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const post = postOk;

interface Result {
  clientTracesPerS: number;
  replay: LoadResult;
  otlpTracesPerS: number;
  otlpP50: number;
  otlpP99: number;
  paced: LoadResult;
  search: Record<string, { p50: number; p99: number }>;
  /** Each search shape's first page, as trace ids: both servers must answer the same. */
  answers: Record<string, string[]>;
}

function clientPath(venv: string, url: string, experiment: string): number {
  const script = `${CLIENT_TRACE_PY}
import time
mlflow.tracing.enable()
mlflow.set_experiment(experiment_id=${JSON.stringify(experiment)})
one(-1); mlflow.flush_trace_async_logging()  # connections and the server's first answers, not measured
t0 = time.perf_counter()
for i in range(${CLIENT_TRACES}):
    one(i)
mlflow.flush_trace_async_logging()
print("SECONDS", time.perf_counter() - t0)
`;
  const out = execFileSync(path.join(venv, 'bin', 'python'), ['-c', script], {
    encoding: 'utf8',
    env: clientEnv(url),
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(/SECONDS ([\d.]+)/.exec(out)?.[1]);
  return CLIENT_TRACES / seconds;
}

async function otlpLoad(pool: Pool, experiment: string, tag: number): Promise<{ saturated: LoadResult; paced: LoadResult }> {
  const headers = { 'x-mlflow-experiment-id': experiment };
  const send = () => post(pool, '/v1/traces', otlpBody(traceSpans(tag, 1_772_000_000_000_000_000n + BigInt(traceSeq) * 1_000_000_000n)), headers);
  await saturating(pool, EXPORTERS, OTLP_WARMUP, send);
  const saturated = await saturating(pool, EXPORTERS, PER_EXPORTER, send);
  log(`  saturating: ${saturated.perS.toFixed(0)} traces/s, p50 ${saturated.p50.toFixed(1)} ms, p99 ${saturated.p99.toFixed(1)} ms`);
  const pacedResult = await paced(EXPORTERS, PACED_PER_EXPORTER, PACE_MS, send);
  log(`  paced (${EXPORTERS} x 1 / ${PACE_MS} ms): p50 ${pacedResult.p50.toFixed(1)} ms, p99 ${pacedResult.p99.toFixed(1)} ms`);
  return { saturated, paced: pacedResult };
}

/** Writes the searched traces straight into the server's database (see bench/seed_mlflow_traces.py). */
function seedForSearch(venv: string, kind: ServerKind, dbUrl: string, experiment: string): void {
  execFileSync(path.join(venv, 'bin', 'python'), [path.join(REPO, 'bench', 'seed_mlflow_traces.py'), kind, dbUrl, experiment, '0', String(SEARCH_TRACES), String(SEARCH_T0)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The search shapes measured, as SearchTracesV3 bodies (without locations). */
function searchShapes(): Record<string, Record<string, unknown>> {
  const n = SEARCH_TRACES;
  // 1% of the traces, from the middle of their time span.
  const from = SEARCH_T0 + Math.floor(n / 2) * 1000;
  const to = from + Math.max(1, Math.floor(n / 100)) * 1000;
  const deep = Math.floor(n / 2);
  return {
    'newest 100': { max_results: 100 },
    "status = 'ERROR' (1 in 10)": { filter: "trace.status = 'ERROR'", max_results: 100 },
    'name = one of 50': { filter: "tags.`mlflow.traceName` = 'agent-7'", max_results: 100 },
    'tag = one of 1000': { filter: "tags.customer = 'c-42'", max_results: 100 },
    'metadata = one of 100': { filter: "metadata.`mlflow.trace.user` = 'user-7'", max_results: 100 },
    'time range (1%)': { filter: `trace.timestamp_ms >= ${from} AND trace.timestamp_ms < ${to}`, max_results: 100 },
    'slowest 100': { order_by: ['execution_time DESC'], max_results: 100 },
    'page 10 of 100': { max_results: 100, page_token: 'follow:9' },
    // Deep paging as a client does it: the tokens followed page by page to the page at offset N/2.
    [`page ${Math.floor(deep / 100) + 1} of 100 (tokens followed)`]: { max_results: 100, page_token: `follow:${Math.floor(deep / 100)}` },
    // Both servers' page tokens are base64 of {"offset": N}, so the deep page's token is written, not walked to.
    [`page at offset ${deep.toLocaleString('en-US')}`]: { max_results: 100, page_token: Buffer.from(JSON.stringify({ offset: deep })).toString('base64') },
  };
}

async function searchLatency(pool: Pool, experiment: string): Promise<{ times: Result['search']; answers: Record<string, string[]> }> {
  const locations = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experiment } }];
  const answers: Record<string, string[]> = {};
  const bodies: Record<string, string> = {};
  for (const [name, body] of Object.entries(searchShapes())) {
    if (typeof body.page_token === 'string' && body.page_token.startsWith('follow:')) {
      // A page reached by following page tokens the way a client does (only that page's call is timed).
      const pages = Number(body.page_token.slice('follow:'.length));
      let token: string | undefined;
      for (let i = 0; i < pages; i++) {
        const r = await pool.request({ method: 'POST', path: '/api/3.0/mlflow/traces/search', body: JSON.stringify({ locations, max_results: 100, page_token: token }), headers: { 'content-type': 'application/json' } });
        token = ((await r.body.json()) as { next_page_token?: string }).next_page_token;
      }
      body.page_token = token;
    }
    const text = JSON.stringify({ locations, ...body });
    const res = await pool.request({ method: 'POST', path: '/api/3.0/mlflow/traces/search', body: text, headers: { 'content-type': 'application/json' } });
    const first = (await res.body.json()) as { traces?: { trace_id: string }[] };
    if (res.statusCode !== 200) throw new Error(`search ${name} -> ${res.statusCode}: ${JSON.stringify(first).slice(0, 300)}`);
    answers[name] = (first.traces ?? []).map((t) => t.trace_id);
    bodies[name] = text;
  }
  // The warm-up: rounds of every shape, so that the first shape timed meets the same warm server
  // as the last.
  for (let round = 0; round < SEARCH_WARMUP; round++) {
    for (const text of Object.values(bodies)) await post(pool, '/api/3.0/mlflow/traces/search', text, {});
  }
  const out: Result['search'] = {};
  for (const [name, text] of Object.entries(bodies)) {
    const times: number[] = [];
    for (let i = 0; i < SEARCH_REPS; i++) {
      const s = performance.now();
      await post(pool, '/api/3.0/mlflow/traces/search', text, {});
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    out[name] = { p50: pct(times, 50), p99: pct(times, 99) };
  }
  return { times: out, answers };
}

async function benchOne(server: RunningServer, venv: string, tag: number, dbUrl: string, analyze: () => void): Promise<Result> {
  const pool = new Pool(server.url, { connections: EXPORTERS, pipelining: 1, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000, headersTimeout: 600_000, bodyTimeout: 600_000 });
  try {
    const create = async (name: string) => {
      const r = await pool.request({ method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } });
      return ((await r.body.json()) as { experiment_id: string }).experiment_id;
    };
    let clientTracesPerS = NaN;
    const none = { perS: NaN, p50: NaN, p99: NaN };
    let replay: LoadResult = none;
    let otlp = { saturated: none, paced: none };
    if (!SEARCH_ONLY) {
      const clientExp = await create('bench-traces-client');
      log(`${server.label}: ${CLIENT_TRACES} traces through the mlflow client`);
      clientTracesPerS = clientPath(venv, server.url, clientExp);
      const replayExp = await create('bench-traces-client-replay');
      const captured = await captureClientTrace(venv, server.url, replayExp, REPLAY_CAPTURE);
      log(`${server.label}: the client's requests replayed by ${EXPORTERS} senders x ${REPLAY_PER_SENDER} traces (captured: ${captured.uploads.seen} of ${captured.uploads.of} traces uploaded traces.json)`);
      await replayClientPath(pool, captured, EXPORTERS, REPLAY_WARMUP);
      const replayed = await replayClientPath(pool, captured, EXPORTERS, REPLAY_PER_SENDER);
      // The measure counts only if the server kept what it acknowledged: the last replayed trace,
      // read back as the client reads it, holds its three spans.
      await checkReplayedTrace(venv, server.url, replayed.lastTraceId);
      replay = replayed;
      log(`  replayed: ${replayed.perS.toFixed(0)} traces/s, p50 ${replayed.p50.toFixed(1)} ms, p99 ${replayed.p99.toFixed(1)} ms a trace, ${replayed.uploaded} of ${EXPORTERS * REPLAY_PER_SENDER} uploaded traces.json`);
      const otlpExp = await create('bench-traces-otlp');
      log(`${server.label}: ${EXPORTERS} OTLP exporters x ${PER_EXPORTER} traces`);
      otlp = await otlpLoad(pool, otlpExp, tag);
    }
    const searchExp = await create('bench-traces-search');
    log(`${server.label}: writing ${SEARCH_TRACES} traces for search into its database`);
    const t0 = performance.now();
    seedForSearch(venv, server.kind, dbUrl, searchExp);
    log(`${server.label}: seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // Autovacuum would analyze the freshly filled tables a little later, and a checkpoint write them out; do both now, for both servers.
    analyze();
    // A pool of its own: mlflow server may have dropped the load's connections while it caught up
    // (its paced run is an overload for it), and a request on one of those fails ("other side closed").
    const searchPool = new Pool(server.url, { connections: 1, pipelining: 1, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000, headersTimeout: 600_000, bodyTimeout: 600_000 });
    const search = await searchLatency(searchPool, searchExp).finally(() => searchPool.close());
    return { clientTracesPerS, replay, otlpTracesPerS: otlp.saturated.perS, otlpP50: otlp.saturated.p50, otlpP99: otlp.saturated.p99, paced: otlp.paced, search: search.times, answers: search.answers };
  } finally {
    await pool.close();
  }
}

async function main() {
  const venv = mlflowVenv(REPO, log);
  const cluster = await startCluster({ log });
  const results: Partial<Record<ServerKind, Result>> = {};
  try {
    for (const [i, kind] of (['mlflow', 'cairn'] as const).entries()) {
      if (!SERVERS.includes(kind)) continue;
      const dbUrl = cluster.createDatabase(`traces_${kind}`);
      const server = await launch({ kind, store: { type: 'postgres', url: dbUrl }, repo: REPO, venv, log });
      try {
        results[kind] = await benchOne(server, venv, i + 1, dbUrl, () => void (cluster.psql(`traces_${kind}`, 'VACUUM ANALYZE'), cluster.psql(`traces_${kind}`, 'CHECKPOINT')));
      } finally {
        await server.stop();
      }
    }
  } finally {
    killAllLaunched();
    cluster.stop();
  }
  const c = results.cairn!;
  // Without mlflow (--servers cairn) its column is empty and there is no ratio.
  const none: Result = { clientTracesPerS: NaN, replay: { perS: NaN, p50: NaN, p99: NaN }, otlpTracesPerS: NaN, otlpP50: NaN, otlpP99: NaN, paced: { perS: NaN, p50: NaN, p99: NaN }, search: Object.fromEntries(Object.keys(c.search).map((k) => [k, { p50: NaN, p99: NaN }])), answers: {} };
  const m = results.mlflow ?? none;
  if (results.mlflow) {
    for (const [k, ids] of Object.entries(c.answers)) {
      const theirs = m.answers[k] ?? [];
      if (ids.length !== theirs.length || ids.some((id, j) => id !== theirs[j])) {
        console.error(`search_traces ${k}: the servers' first pages differ (Cairn ${ids.length} traces, mlflow ${theirs.length}; first ${ids[0]} / ${theirs[0]})`);
        process.exitCode = 1;
      }
    }
    log('search answers compared: ' + (process.exitCode ? 'DIFFERENT (see above)' : `the same first pages for all ${Object.keys(c.answers).length} shapes`));
  }
  for (const [k, ids] of Object.entries(c.answers)) log(`search_traces ${k}: ${ids.length} traces on the first page`);
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const rows: [string, number, number, 'higher' | 'lower'][] = [
    [`client default path, traces/s (${CLIENT_TRACES} traces, 3 spans each)`, m.clientTracesPerS, c.clientTracesPerS, 'higher'],
    [`client default path replayed, traces/s (${EXPORTERS} senders x ${REPLAY_PER_SENDER})`, m.replay.perS, c.replay.perS, 'higher'],
    ['client default path replayed, p99 ms a trace', m.replay.p99, c.replay.p99, 'lower'],
    [`OTLP /v1/traces, traces/s (${EXPORTERS} exporters x ${PER_EXPORTER})`, m.otlpTracesPerS, c.otlpTracesPerS, 'higher'],
    ['OTLP request p50, saturating, ms', m.otlpP50, c.otlpP50, 'lower'],
    ['OTLP request p99, saturating, ms', m.otlpP99, c.otlpP99, 'lower'],
    [`OTLP request p50, paced (${EXPORTERS} exporters x ${PACED_PER_EXPORTER}, 1 trace / ${PACE_MS} ms), ms`, m.paced.p50, c.paced.p50, 'lower'],
    [`OTLP request p99, paced (${EXPORTERS} exporters x ${PACED_PER_EXPORTER}, 1 trace / ${PACE_MS} ms), ms`, m.paced.p99, c.paced.p99, 'lower'],
    ...Object.keys(c.search).flatMap((k): [string, number, number, 'higher' | 'lower'][] => [
      [`search_traces ${k} over ${SEARCH_TRACES.toLocaleString('en-US')} traces, p50 ms`, m.search[k].p50, c.search[k].p50, 'lower'],
    ]),
  ];
  console.log('\n| Measure | mlflow server | Cairn | Cairn vs mlflow |\n|---|---:|---:|---:|');
  for (const [name, mv, cv, better] of rows) {
    const ratio = better === 'higher' ? cv / mv : mv / cv;
    const vs = Number.isNaN(ratio) ? '—' : `${ratio.toFixed(1)}× ${better === 'higher' ? 'the throughput' : 'faster'}`;
    if (Number.isNaN(mv) && Number.isNaN(cv)) continue; // --search-only
    console.log(`| ${name} | ${Number.isNaN(mv) ? '—' : f(mv)} | ${f(cv)} | ${vs} |`);
  }
}

main().catch((err) => {
  console.error(err);
  killAllLaunched();
  process.exit(1);
});
