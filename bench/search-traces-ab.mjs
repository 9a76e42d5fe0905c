// A/B helpers for search_traces over the traces bench/seed_mlflow_traces.py writes (T0 and the
// shapes of bench/traces.ts, at 100,000 traces), against Cairn servers already running on one
// database (docs/bench.md, "search_traces prepared"):
//   node bench/search-traces-ab.mjs pages URL EXPERIMENT OUT.json
//     each shape's first page and the page after it, as the answers' bytes: `cmp` two servers' files;
//   node bench/search-traces-ab.mjs walk URL EXPERIMENTS OUT.json [PAGE_SIZE]
//     whole paginations (EXPERIMENTS comma-separated; the default order, with filters, and two other
//     orders), following each server's own tokens: each page's bytes without its next_page_token
//     (keyset tokens differ from offset tokens by design), `cmp` two servers' files;
//   node bench/search-traces-ab.mjs cpu URL SERVER_PID DATABASE_URL SHAPE [N]
//     the server's CPU time per request (its /proc stat) and its Postgres backends' (those of
//     DATABASE_URL's database, when they run on this machine) over N (300) sequential searches.
// Server CPU, unlike latency, stays readable on a loaded machine; alternate servers between rounds.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const T0 = 1_767_000_000_000;
const N_TRACES = 100_000;
const from = T0 + Math.floor(N_TRACES / 2) * 1000;
const to = from + Math.floor(N_TRACES / 100) * 1000;
const SHAPES = {
  newest100: { max_results: 100 },
  one: { max_results: 1 },
  error: { filter: "trace.status = 'ERROR'", max_results: 100 },
  name: { filter: "tags.`mlflow.traceName` = 'agent-7'", max_results: 100 },
  tag: { filter: "tags.customer = 'c-42'", max_results: 100 },
  metadata: { filter: "metadata.`mlflow.trace.user` = 'user-7'", max_results: 100 },
  range: { filter: `trace.timestamp_ms >= ${from} AND trace.timestamp_ms < ${to}`, max_results: 100 },
  slowest: { order_by: ['execution_time DESC'], max_results: 100 },
  deep: { max_results: 100, page_token: Buffer.from(JSON.stringify({ offset: N_TRACES / 2 })).toString('base64') },
  nameIn: { filter: "trace.name IN ('agent-1', 'agent-2') AND tags.env = 'prod'", max_results: 37, order_by: ['timestamp_ms ASC'] },
  like: { filter: "metadata.`mlflow.trace.user` LIKE 'user-1%' AND trace.execution_time_ms > 5000", max_results: 50 },
  none: { filter: "tags.customer = 'nope'" },
};

const search = async (url, experiment, body) => {
  const locations = String(experiment).split(',').map((id) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } }));
  const res = await fetch(`${url}/api/3.0/mlflow/traces/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locations, ...body }) });
  return res.text();
};

/** utime + stime of a process, in ms (clock ticks of 10 ms); 0 once it has gone. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === 'pages') {
  const [experiment, out] = rest;
  const pages = {};
  for (const [name, body] of Object.entries(SHAPES)) {
    pages[name] = await search(url, experiment, body);
    const token = JSON.parse(pages[name]).next_page_token;
    if (token) pages[`${name} (next page)`] = await search(url, experiment, { ...body, page_token: token });
  }
  fs.writeFileSync(out, JSON.stringify(pages));
  console.log(Object.entries(pages).map(([k, v]) => `${k}: ${v.length} bytes`).join('\n'));
} else if (mode === 'walk') {
  const [experiments, out, size = '100'] = rest;
  const walks = {
    newest: {},
    spelledOut: { order_by: ['timestamp_ms DESC'] },
    error: { filter: "trace.status = 'ERROR'" },
    tag: { filter: "tags.env = 'prod'" },
    range: { filter: `trace.timestamp_ms >= ${from} AND trace.timestamp_ms < ${to}` },
    oldest: { order_by: ['timestamp_ms ASC'] },
    slowest: { order_by: ['execution_time DESC'] },
  };
  const pages = {};
  for (const [name, body] of Object.entries(walks)) {
    const bodies = [];
    let token;
    do {
      const text = await search(url, experiments, { ...body, max_results: Number(size), ...(token ? { page_token: token } : {}) });
      const page = JSON.parse(text);
      token = page.next_page_token;
      // The page's bytes up to its token (the traces come first, the token last).
      bodies.push(token ? text.slice(0, text.lastIndexOf(',"next_page_token":')) : text);
    } while (token && bodies.length < 5000);
    pages[name] = bodies;
    console.log(`${name}: ${bodies.length} pages, ${bodies.reduce((n, b) => n + b.length, 0)} bytes`);
  }
  fs.writeFileSync(out, JSON.stringify(pages));
} else if (mode === 'cpu') {
  const [pid, databaseUrl, shape, n = '300'] = rest;
  const experiment = process.env.EXPERIMENT ?? '1';
  const count = Number(n);
  const database = new URL(databaseUrl).pathname.slice(1);
  const backends = execFileSync('psql', [databaseUrl, '-qtA', '-c', `select pid from pg_stat_activity where datname = '${database.replace(/'/g, "''")}' and pid <> pg_backend_pid()`])
    .toString().trim().split('\n').filter(Boolean);
  const pgMs = () => backends.reduce((sum, p) => sum + cpuMs(p), 0);
  for (let i = 0; i < 20; i++) await search(url, experiment, SHAPES[shape]);
  const [c0, p0, t0] = [cpuMs(pid), pgMs(), performance.now()];
  for (let i = 0; i < count; i++) await search(url, experiment, SHAPES[shape]);
  const [c1, p1, t1] = [cpuMs(pid), pgMs(), performance.now()];
  // A backend that closed during the run takes its CPU time with it: the Postgres figure is then low.
  console.log(JSON.stringify({ shape, serverCpuMs: (c1 - c0) / count, postgresCpuMs: (p1 - p0) / count, wallMs: (t1 - t0) / count }));
} else {
  console.error('usage: search-traces-ab.mjs pages URL EXPERIMENT OUT.json | walk URL EXPERIMENTS OUT.json [PAGE_SIZE] | cpu URL SERVER_PID DATABASE_URL SHAPE [N]');
  process.exit(2);
}
