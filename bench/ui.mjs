#!/usr/bin/env node
// UI benchmark (issue 11): times pages of the web UI in Debian's chromium against a built Cairn with
// data logged through the real REST API. Reports figures; asserts nothing.
//
//   npm run build && node bench/ui.mjs [--points 100000] [--metrics 20] [--big 1000000] [--runs 10] [--rounds 3]
//                                      [--backend-store-uri pglite://...] [--chromium /usr/bin/chromium]
//
// Pages (each timed from navigation until what it must show is drawn, median of --rounds cold loads):
//   run page    a run with --metrics metrics of --points points each: until every chart in the first
//               screen has its (downsampled) series drawn
//   1M chart    a run with one metric of --big points: until the chart has drawn it
//   compare     --runs runs (5 params, 3 metrics of 1,000 points): until the params diff, parallel
//               coordinates and scatter are drawn; then until the first overlaid chart is
//   runs table  the experiment of those runs: until its rows are drawn
//
// Then the same pages of MLflow's own UI, served by the real `mlflow server` (the compat venv's
// 3.18.0) on the same data, timed the same way, reported as a ratio (--no-mlflow skips it). Its
// database is a sibling of Cairn's: `<db>_mlflow` on the same Postgres server, or SQLite in the data
// folder when Cairn is on PGlite. --reuse keeps and reuses both data sets (with a Postgres URI or
// --data-dir) so a second run skips the seeding.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import pg from 'pg';
import { freePort } from './free-port.mjs';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const POINTS = Number(opt('points', 100_000));
const METRICS = Number(opt('metrics', 20));
const BIG = Number(opt('big', 1_000_000));
const RUNS = Number(opt('runs', 10));
const ROUNDS = Number(opt('rounds', 3));
const CHROMIUM = opt('chromium', process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium');

let url;
const call = (apiPath, body) => callAt(url, apiPath, body);
async function callAt(base, apiPath, body) {
  const res = await fetch(`${base}/api/2.0/mlflow/${apiPath}`, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${apiPath}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// The data set, named by its sizes: with --reuse (and a store that outlives the run: a Postgres URI,
// or --data-dir) a second run finds it and skips the seeding.
const DATASET = `ui-bench-${METRICS}x${POINTS}-${BIG}-${RUNS}`;
const START = Date.now() - 3_600_000;

/** Every run of the data set: its params and `n` steps of each key, one point per 10 ms. */
function plan() {
  const out = [];
  for (let r = 0; r < RUNS; r++) {
    out.push({
      name: `cmp-${r}`,
      params: { lr: String(10 ** -(1 + (r % 4))), batch: String(32 << r % 3), optimizer: r % 2 ? 'adam' : 'sgd', depth: String(18 + r), seed: String(r) },
      keys: ['loss', 'accuracy', 'val_loss'],
      n: 1000,
      value: (k, s) => (k === 1 ? 1 - Math.exp(-s / 200) : Math.exp(-s / (150 + r * 20))),
    });
  }
  out.push({ name: 'million', params: {}, keys: ['loss'], n: BIG, value: (_, s) => 1 / (1 + s / 10_000) + (s % 99_991 === 0 ? 3 : 0) });
  out.push({
    name: 'many-metrics',
    params: { lr: '0.001' },
    keys: Array.from({ length: METRICS }, (_, k) => `train/metric_${String(k).padStart(2, '0')}`),
    n: POINTS,
    value: (k, s) => Math.exp(-s / (POINTS / 4)) * (1 + k / 10) + 0.05 * Math.sin(s / 50 + k),
  });
  return out;
}
const pointTime = (s) => START + s * 10;

/** Each step's points of one planned run, `perCall` steps at a time. */
function* stepChunks(p, perCall) {
  for (let a = 0; a < p.n; a += perCall) {
    const metrics = [];
    for (let s = a; s < Math.min(p.n, a + perCall); s++) for (const [k, key] of p.keys.entries()) metrics.push({ key, value: p.value(k, s), timestamp: pointTime(s), step: s });
    yield metrics;
  }
}

/** Finds the data set in a server (--reuse) or returns null. */
async function findDataset(base) {
  if (!args.includes('--reuse')) return null;
  const found = await callAt(base, `experiments/get-by-name?experiment_name=${DATASET}`).catch(() => null);
  if (!found) return null;
  const exp = found.experiment.experiment_id;
  const { runs = [] } = await callAt(base, 'runs/search', { experiment_ids: [exp], max_results: 1000 });
  const ids = new Map(runs.map((r) => [r.info.run_name, r.info.run_id]));
  if (!plan().every((p) => ids.has(p.name))) throw new Error(`${base}: experiment ${DATASET} exists but is incomplete: delete it or use another store`);
  return { exp, ids };
}

async function createRuns(base) {
  const { experiment_id: exp } = await callAt(base, 'experiments/create', { name: args.includes('--reuse') ? DATASET : `${DATASET}-${Date.now()}` });
  const ids = new Map();
  for (const p of plan()) {
    const { run } = await callAt(base, 'runs/create', { experiment_id: exp, run_name: p.name, start_time: START });
    const params = Object.entries(p.params).map(([key, value]) => ({ key, value }));
    if (params.length) await callAt(base, 'runs/log-batch', { run_id: run.info.run_id, params });
    ids.set(p.name, run.info.run_id);
  }
  return { exp, ids };
}

const finishRuns = (base, ids) => Promise.all([...ids.values()].map((run_id) => callAt(base, 'runs/update', { run_id, status: 'FINISHED', end_time: pointTime(BIG) })));

/** Cairn: everything through its REST API, 1,000 metric values per log-batch call, 4 calls in flight. */
async function seedCairn() {
  const t = Date.now();
  const found = await findDataset(url);
  if (found) {
    console.log(`Cairn: reusing experiment ${DATASET} (${found.exp})`);
    await finishRuns(url, found.ids);
    return found;
  }
  const ds = await createRuns(url);
  for (const p of plan()) {
    const chunks = stepChunks(p, Math.max(1, Math.floor(1000 / p.keys.length)));
    const worker = async () => {
      for (let c = chunks.next(); !c.done; c = chunks.next()) await call('runs/log-batch', { run_id: ds.ids.get(p.name), metrics: c.value });
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }
  await finishRuns(url, ds.ids);
  console.log(`Cairn: seeded ${METRICS}x${POINTS.toLocaleString()} + ${BIG.toLocaleString()} + ${RUNS}x3x1,000 points through its API in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  return ds;
}

/**
 * MLflow: the same runs and params through its REST API; the points straight into its tables by
 * seed_mlflow_metrics.py (its log-batch manages ~10-15k points/s here, minutes for this data set).
 */
async function seedMlflow(ml) {
  const t = Date.now();
  const found = await findDataset(ml.url);
  if (found) {
    console.log(`MLflow: reusing experiment ${DATASET} (${found.exp})`);
    return found;
  }
  const ds = await createRuns(ml.url);
  const py = spawn(path.join(ml.venv, 'bin', 'python'), [path.join(root, 'bench/seed_mlflow_metrics.py'), ml.store], { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise((resolve, reject) => py.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seed_mlflow_metrics.py exited ${code}`)))));
  for (const p of plan()) {
    const run = ds.ids.get(p.name);
    for (const metrics of stepChunks(p, 1000)) {
      const text = metrics.map((m) => `${run}\t${m.key}\t${m.step}\t${m.timestamp}\t${m.value}\n`).join('');
      if (!py.stdin.write(text)) await new Promise((r) => py.stdin.once('drain', r));
    }
  }
  py.stdin.end();
  await done;
  await finishRuns(ml.url, ds.ids);
  console.log(`MLflow: seeded the same data in ${((Date.now() - t) / 1000).toFixed(0)} s (runs and params through its API, points into its tables)`);
  return ds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(browser, target, ready, base = url) {
  const out = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    // (MLflow's own UI asks for endpoints its server does not have, like users/current: not ours to report.)
    if (base === url) page.on('response', (r) => r.status() >= 400 && console.error(`HTTP ${r.status()} ${r.url()}`));
    page.setDefaultTimeout(base === url ? 300_000 : 120_000);
    const t0 = performance.now();
    await page.goto(`${base}/${target}`);
    const marks = await ready(page, t0);
    out.push(marks);
    await ctx.close();
  }
  const keys = Object.keys(out[0]);
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(out.map((o) => o[k])))]));
}

async function waitHealthy(base, what, proc, limitMs) {
  const t = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) during start-up`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      /* starting */
    }
    if (Date.now() - t > limitMs) throw new Error(`${what} did not answer /health within ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `mlflow server` 3.18.0 from the compat venv, with its defaults, on a sibling of Cairn's database. */
async function startMlflow(store, dir) {
  const venv = execFileSync('bash', [path.join(root, 'scripts/venv.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  let mlStore;
  if (store.startsWith('postgres')) {
    const u = new URL(store);
    const db = `${u.pathname.slice(1)}_mlflow`;
    const admin = new pg.Client({ connectionString: store });
    await admin.connect();
    const exists = await admin.query('select 1 from pg_database where datname = $1', [db]);
    if (!exists.rowCount) await admin.query(`create database "${db.replace(/"/g, '""')}"`);
    await admin.end();
    u.pathname = `/${db}`;
    // +psycopg2: the driver the venv has (SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3).
    mlStore = u.toString().replace(/^postgres(ql)?:/, 'postgresql+psycopg2:');
  } else {
    mlStore = `sqlite:///${path.join(dir, 'mlflow.db')}`;
  }
  const port = await freePort();
  const mlUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(dir, 'mlflow-server.log'), 'a');
  // `python -m mlflow`: the venv's scripts may carry a #! line of the folder it was built in.
  const proc = spawn(path.join(venv, 'bin', 'python'), ['-m', 'mlflow', 'server', '--backend-store-uri', mlStore, '--host', '127.0.0.1', '--port', String(port), '--artifacts-destination', path.join(dir, 'mlartifacts')], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, PATH: `${path.join(venv, 'bin')}:${process.env.PATH}`, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
  });
  fs.closeSync(log);
  const stop = async () => {
    try {
      process.kill(-proc.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    // At most 15 s for a graceful exit, then the whole group goes.
    await new Promise((r) => {
      if (proc.exitCode !== null) return r();
      const t = setTimeout(r, 15_000);
      proc.once('exit', () => (clearTimeout(t), r()));
    });
    try {
      process.kill(-proc.pid, 'SIGKILL'); // its uvicorn workers and job runner
    } catch {
      /* gone */
    }
  };
  try {
    await waitHealthy(mlUrl, 'mlflow server', proc, 300_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: mlUrl, store: mlStore, venv, stop };
}

// What each page must show before it counts as drawn, in each UI.
const CAIRN_PAGES = {
  async runPage(page, t0) {
    await page.waitForSelector('[data-testid=metric-chart][data-total-points]');
    // Every chart that is on screen has drawn.
    await page.waitForFunction(() => {
      const cards = [...document.querySelectorAll('[data-testid=metric-chart]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight);
      return cards.length > 0 && cards.every((el) => el.hasAttribute('data-total-points'));
    });
    const first = performance.now() - t0;
    const onScreen = await page.evaluate(() => [...document.querySelectorAll('[data-testid=metric-chart]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight).length);
    // Then all of them: charts load as they scroll into view, so scroll a screen at a time.
    await page.waitForFunction(
      (n) => {
        const main = document.querySelector('.main');
        main.scrollBy(0, main.clientHeight * 0.8);
        return document.querySelectorAll('[data-testid=metric-chart][data-total-points]').length >= n;
      },
      METRICS,
      { polling: 100, timeout: 300_000 },
    );
    return { firstScreenMs: first, chartsOnFirstScreen: onScreen, allChartsMs: performance.now() - t0 };
  },
  async bigChart(page, t0) {
    await page.waitForSelector('[data-testid=metric-chart][data-total-points] canvas');
    const drawnMs = performance.now() - t0;
    // Where the time went: the series request as the browser timed it.
    const series = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/metrics/series')).map((e) => [e.startTime, e.responseEnd]));
    return { drawnMs, seriesRequestStartMs: series[0]?.[0] ?? NaN, seriesRequestMs: series[0] ? series[0][1] - series[0][0] : NaN };
  },
  async compare(page, t0) {
    await page.waitForSelector('[data-testid=compare-table]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=pc-line]').length === n && document.querySelectorAll('[data-testid=scatter-dot]').length === n, RUNS);
    const table = performance.now() - t0;
    await page.locator('[data-testid=metric-chart]').first().scrollIntoViewIfNeeded();
    await page.waitForSelector('[data-testid=metric-chart][data-total-points]');
    return { tableAndPlotsMs: table, firstChartMs: performance.now() - t0 };
  },
  async runsTable(page, t0) {
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=run-row]').length >= n, RUNS + 2);
    return { rowsMs: performance.now() - t0 };
  },
};

// MLflow 3.18's UI: plotly charts (a line path per trace), an ag-grid runs table, and a compare page
// with a parallel coordinates plot above its run details table. Its run page keeps charts on the
// "Model metrics" tab; its compare page has no overlaid history charts, so only the first figure
// of compare has a counterpart.
const MLFLOW_PAGES = {
  async runPage(page, t0) {
    const drawnOnScreen = () => {
      const cards = [...document.querySelectorAll('[data-testid=experiment-view-compare-runs-card]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight);
      return cards.length > 0 && cards.every((el) => el.querySelector('.scatterlayer .trace path.js-line')?.getAttribute('d')?.length > 1);
    };
    await page.waitForFunction(drawnOnScreen, null, { polling: 50 });
    const first = performance.now() - t0;
    const onScreen = await page.evaluate(() => [...document.querySelectorAll('[data-testid=experiment-view-compare-runs-card]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight).length);
    return { firstScreenMs: first, chartsOnFirstScreen: onScreen };
  },
  async bigChart(page, t0) {
    await page.waitForFunction(() => document.querySelector('[data-testid=experiment-view-compare-runs-card] .scatterlayer .trace path.js-line')?.getAttribute('d')?.length > 1, null, { polling: 50 });
    return { drawnMs: performance.now() - t0 };
  },
  async compare(page, t0) {
    await page.waitForFunction(
      (names) => document.querySelector('.js-plotly-plot .parcoords') && names.every((n) => document.body.innerText.includes(n)),
      Array.from({ length: RUNS }, (_, r) => `cmp-${r}`).concat(['optimizer']),
      { polling: 50 },
    );
    return { tableAndPlotsMs: performance.now() - t0 };
  },
  async runsTable(page, t0) {
    await page.waitForFunction((n) => [...document.querySelectorAll('.ag-row a')].filter((a) => /^(cmp-\d+|million|many-metrics)$/.test(a.textContent.trim())).length >= n, Math.min(RUNS + 2, 10), { polling: 50 });
    return { rowsMs: performance.now() - t0 };
  },
};

async function timePages(browser, base, pages, ds, paths) {
  const id = (name) => ds.ids.get(name);
  const cmp = Array.from({ length: RUNS }, (_, r) => id(`cmp-${r}`));
  const out = {};
  for (const [name, target] of Object.entries(paths(ds.exp, id, cmp))) {
    try {
      out[name] = await timed(browser, target, pages[name], base);
    } catch (err) {
      // A page that never draws is a result, not a reason to lose the others (MLflow's UI once
      // left a chart undrawn under load): reported as such.
      if (err?.name !== 'TimeoutError') throw err;
      console.error(`${base}/${target}: not drawn within the time limit`);
      out[name] = null;
    }
  }
  return out;
}

async function main() {
  if (!fs.existsSync(path.join(root, 'dist/ui/index.html'))) throw new Error('run `npm run build` first');
  const keepDir = opt('data-dir', undefined);
  const dir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  const store = opt('backend-store-uri', `pglite://${path.join(dir, 'db')}`);
  const withMlflow = !args.includes('--no-mlflow');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', store, '--data-dir', dir], { cwd: root, stdio: 'ignore' });
  let ml;
  try {
    await waitHealthy(url, 'Cairn', server, 300_000);
    const ds = await seedCairn();
    let mlDs;
    if (withMlflow) {
      ml = await startMlflow(store, dir);
      mlDs = await seedMlflow(ml);
    }
    const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      const loadBefore = load();
      const cairn = await timePages(browser, url, CAIRN_PAGES, ds, (exp, id, cmp) => ({
        runPage: `#/experiments/${exp}/runs/${id('many-metrics')}`,
        bigChart: `#/experiments/${exp}/runs/${id('million')}`,
        compare: `#/compare?runs=${cmp.join(',')}`,
        runsTable: `#/experiments/${exp}`,
      }));
      const mlflow = ml
        ? await timePages(browser, ml.url, MLFLOW_PAGES, mlDs, (exp, id, cmp) => ({
            runPage: `#/experiments/${exp}/runs/${id('many-metrics')}/model-metrics`,
            bigChart: `#/experiments/${exp}/runs/${id('million')}/model-metrics`,
            compare: `#/compare-runs?runs=${encodeURIComponent(JSON.stringify(cmp))}&experiments=${encodeURIComponent(JSON.stringify([exp]))}`,
            runsTable: `#/experiments/${exp}/runs`,
          }))
        : undefined;
      const loadAfter = load();
      const result = { date: new Date().toISOString(), cpus: os.cpus().length, loadavg: { before: loadBefore, after: loadAfter }, store: store.split(':')[0], points: POINTS, metrics: METRICS, big: BIG, runs: RUNS, rounds: ROUNDS, cairn, mlflow };
      report(result);
      fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
      fs.writeFileSync(path.join(root, 'bench/results/ui-latest.json'), JSON.stringify(result, null, 2));
    } finally {
      await browser.close();
    }
  } finally {
    await ml?.stop();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report({ cairn, mlflow: m, loadavg, store }) {
  const never = { firstScreenMs: 'never', chartsOnFirstScreen: '?', allChartsMs: 'never', drawnMs: 'never', seriesRequestStartMs: '?', seriesRequestMs: '?', tableAndPlotsMs: 'never', firstChartMs: 'never', rowsMs: 'never' };
  const c = Object.fromEntries(Object.entries(cairn).map(([k, v]) => [k, v ?? never]));
  const ratio = (mine, theirs) =>
    !m ? 'not measured' : theirs === undefined ? 'MLflow did not draw it within the time limit' : typeof mine !== 'number' ? `Cairn did not draw it (MLflow ${theirs.toLocaleString()} ms)` : `${(theirs / mine).toFixed(1)}x (MLflow ${theirs.toLocaleString()} ms)`;
  console.log(`\nCairn on ${store}${m ? ', MLflow on the same kind of store' : ''}; median of ${ROUNDS} cold loads; load average ${loadavg.before} before, ${loadavg.after} after (1/5/15 min, ${os.cpus().length} cores)\n`);
  console.log('| Page | Cairn | Target | MLflow / Cairn |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| Run page, ${METRICS} metrics x ${POINTS.toLocaleString()} points | first screen (${c.runPage.chartsOnFirstScreen} charts) ${c.runPage.firstScreenMs} ms; all ${METRICS} after scrolling ${c.runPage.allChartsMs} ms | < 1,500 ms | first screen ${ratio(c.runPage.firstScreenMs, m?.runPage?.firstScreenMs)}${m?.runPage ? `, ${m.runPage.chartsOnFirstScreen} charts` : ''} |`);
  console.log(`| One metric of ${BIG.toLocaleString()} points | drawn in ${c.bigChart.drawnMs} ms (series request sent at ${c.bigChart.seriesRequestStartMs} ms, answered in ${c.bigChart.seriesRequestMs} ms) | < 1,000 ms | ${ratio(c.bigChart.drawnMs, m?.bigChart?.drawnMs)} |`);
  console.log(`| Compare ${RUNS} runs | diff table + parallel coordinates + scatter ${c.compare.tableAndPlotsMs} ms; first overlaid chart ${c.compare.firstChartMs} ms | < 1,000 ms | table + parallel coordinates ${ratio(c.compare.tableAndPlotsMs, m?.compare?.tableAndPlotsMs)} |`);
  console.log(`| Runs table of that experiment (${RUNS + 2} runs) | rows drawn in ${c.runsTable.rowsMs} ms | | ${ratio(c.runsTable.rowsMs, m?.runsTable?.rowsMs)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
