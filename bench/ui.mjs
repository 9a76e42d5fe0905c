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
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';

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

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

let url;
async function call(apiPath, body) {
  const res = await fetch(`${url}/api/2.0/mlflow/${apiPath}`, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${apiPath}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function createRun(exp, name, params = {}) {
  const { run } = await call('runs/create', { experiment_id: exp, run_name: name, start_time: Date.now() - 3_600_000 });
  if (Object.keys(params).length) await call('runs/log-batch', { run_id: run.info.run_id, params: Object.entries(params).map(([key, value]) => ({ key, value })) });
  return run.info.run_id;
}

/** `n` steps of each key, 1,000 metric values per log-batch call, 4 calls in flight. */
async function logSteps(runId, keys, n, value) {
  const perCall = Math.max(1, Math.floor(1000 / keys.length));
  const calls = Math.ceil(n / perCall);
  const t0 = Date.now() - n * 10;
  let next = 0;
  const worker = async () => {
    for (let c; (c = next++) < calls; ) {
      const metrics = [];
      for (let s = c * perCall; s < Math.min(n, (c + 1) * perCall); s++) for (const [k, key] of keys.entries()) metrics.push({ key, value: value(k, s), timestamp: t0 + s * 10, step: s });
      await call('runs/log-batch', { run_id: runId, metrics });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(browser, target, ready) {
  const out = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    page.on('response', (r) => r.status() >= 400 && console.error(`HTTP ${r.status()} ${r.url()}`));
    page.setDefaultTimeout(300_000);
    const t0 = performance.now();
    await page.goto(`${url}/${target}`);
    const marks = await ready(page, t0);
    out.push(marks);
    await ctx.close();
  }
  const keys = Object.keys(out[0]);
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(out.map((o) => o[k])))]));
}

async function main() {
  if (!fs.existsSync(path.join(root, 'dist/ui/index.html'))) throw new Error('run `npm run build` first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-bench-'));
  const store = opt('backend-store-uri', `pglite://${path.join(dir, 'db')}`);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', store, '--data-dir', dir], { cwd: root, stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        /* starting */
      }
      if (i > 1200) throw new Error('Cairn did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t = Date.now();
    const { experiment_id: exp } = await call('experiments/create', { name: `ui-bench-${Date.now()}` });
    const many = await createRun(exp, 'many-metrics', { lr: '0.001' });
    const keys = Array.from({ length: METRICS }, (_, k) => `train/metric_${String(k).padStart(2, '0')}`);
    await logSteps(many, keys, POINTS, (k, s) => Math.exp(-s / (POINTS / 4)) * (1 + k / 10) + 0.05 * Math.sin(s / 50 + k));
    const big = await createRun(exp, 'million');
    await logSteps(big, ['loss'], BIG, (_, s) => 1 / (1 + s / 10_000) + (s % 99_991 === 0 ? 3 : 0));
    const cmp = [];
    for (let r = 0; r < RUNS; r++) {
      const id = await createRun(exp, `cmp-${r}`, { lr: String(10 ** -(1 + (r % 4))), batch: String(32 << r % 3), optimizer: r % 2 ? 'adam' : 'sgd', depth: String(18 + r), seed: String(r) });
      await logSteps(id, ['loss', 'accuracy', 'val_loss'], 1000, (k, s) => (k === 1 ? 1 - Math.exp(-s / 200) : Math.exp(-s / (150 + r * 20))));
      cmp.push(id);
    }
    const seeded = (Date.now() - t) / 1000;
    console.log(`seeded ${METRICS}x${POINTS.toLocaleString()} + ${BIG.toLocaleString()} + ${RUNS}x3x1,000 points in ${seeded.toFixed(0)} s`);

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      const drawn = (sel) => `${sel}[data-total-points]`;
      const runPage = await timed(browser, `#/experiments/${exp}/runs/${many}`, async (page, t0) => {
        await page.waitForSelector(drawn('[data-testid=metric-chart]'));
        // Every chart that is on screen has drawn.
        await page.waitForFunction(() => {
          const cards = [...document.querySelectorAll('[data-testid=metric-chart]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight);
          return cards.length > 0 && cards.every((el) => el.hasAttribute('data-total-points'));
        });
        const first = performance.now() - t0;
        const onScreen = await page.evaluate(() => [...document.querySelectorAll('[data-testid=metric-chart]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight).length);
        // Then all of them, scrolling down.
        // (Charts load as they scroll into view, so scroll a screen at a time.)
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
      });
      const bigChart = await timed(browser, `#/experiments/${exp}/runs/${big}`, async (page, t0) => {
        await page.waitForSelector('[data-testid=metric-chart][data-total-points] canvas');
        const drawnMs = performance.now() - t0;
        // Where the time went: the series request as the browser timed it.
        const series = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/metrics/series')).map((e) => [e.startTime, e.responseEnd]));
        return { drawnMs, seriesRequestStartMs: series[0]?.[0] ?? NaN, seriesRequestMs: series[0] ? series[0][1] - series[0][0] : NaN };
      });
      const compare = await timed(browser, `#/compare?runs=${cmp.join(',')}`, async (page, t0) => {
        await page.waitForSelector('[data-testid=compare-table]');
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid=pc-line]').length === n && document.querySelectorAll('[data-testid=scatter-dot]').length === n, cmp.length);
        const table = performance.now() - t0;
        await page.locator('[data-testid=metric-chart]').first().scrollIntoViewIfNeeded();
        await page.waitForSelector(drawn('[data-testid=metric-chart]'));
        return { tableAndPlotsMs: table, firstChartMs: performance.now() - t0 };
      });
      const result = { date: new Date().toISOString(), cpus: os.cpus().length, store: store.split(':')[0], points: POINTS, metrics: METRICS, big: BIG, runs: RUNS, rounds: ROUNDS, runPage, bigChart, compare };
      console.log('\n| Page | Figure (median of %d cold loads) | Target |', ROUNDS);
      console.log('| --- | --- | --- |');
      console.log(`| Run page, ${METRICS} metrics x ${POINTS.toLocaleString()} points | first screen (${runPage.chartsOnFirstScreen} charts) ${runPage.firstScreenMs} ms; all ${METRICS} charts after scrolling ${runPage.allChartsMs} ms | < 1,500 ms |`);
      console.log(`| One metric of ${BIG.toLocaleString()} points | drawn in ${bigChart.drawnMs} ms (series request sent at ${bigChart.seriesRequestStartMs} ms, answered in ${bigChart.seriesRequestMs} ms) | < 1,000 ms |`);
      console.log(`| Compare ${RUNS} runs | diff table + parallel coordinates + scatter ${compare.tableAndPlotsMs} ms; first overlaid chart ${compare.firstChartMs} ms | < 1,000 ms |`);
      fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
      fs.writeFileSync(path.join(root, 'bench/results/ui-latest.json'), JSON.stringify(result, null, 2));
    } finally {
      await browser.close();
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
