// A/B timing of the run page's first screen between builds, on the same data (issue 11).
//
//   node bench/ui-run-page.mjs --store postgresql://…/db --rounds 6 <root A> <root B> …
//
// Each root is a directory with a built Cairn (bin/ and dist/, e.g. this checkout and a copy of an
// older build). One server per root on the same store, then cold loads of the run page of the run
// named `many-metrics` (as `node bench/ui.mjs --reuse` seeds it) alternate between them, each in a
// new browser context at 1440x900. Per load, from chromium's resource timing (ms after navigation):
// when `runs/get` was answered, when the first series request left, when the last series answer
// arrived, and when every chart on the first screen had drawn. Prints each build's samples and medians.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { freePort } from './free-port.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const STORE = opt('store', undefined);
const ROUNDS = Number(opt('rounds', 6));
const CHROMIUM = opt('chromium', '/usr/bin/chromium');
const roots = args.map((r) => path.resolve(r));
if (!STORE || !roots.length) throw new Error('usage: node bench/ui-run-page.mjs --store <uri> [--rounds n] <root>…');

async function start(root) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ab-'));
  const proc = spawn(process.execPath, ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', STORE, '--data-dir', dir], { cwd: root, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { root, url, proc, dir };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`${root}: server did not start`);
}

async function call(url, apiPath, body) {
  const res = await fetch(`${url}/api/2.0/mlflow/${apiPath}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

async function loadOnce(browser, url, target) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const t0 = performance.now();
  await page.goto(`${url}/${target}`);
  await page.waitForFunction(
    () => {
      const cards = [...document.querySelectorAll('[data-testid=metric-chart]')].filter((el) => el.getBoundingClientRect().top < window.innerHeight);
      return cards.length > 0 && cards.every((el) => el.hasAttribute('data-total-points'));
    },
    null,
    { polling: 20, timeout: 120_000 },
  );
  const drawn = performance.now() - t0;
  const t = await page.evaluate(() => {
    const rs = performance.getEntriesByType('resource');
    const run = rs.find((e) => e.name.includes('/runs/get'));
    const series = rs.filter((e) => e.name.includes('/metrics/series'));
    return {
      runAnswered: run?.responseEnd ?? NaN,
      firstSeriesSent: Math.min(...series.map((e) => e.startTime)),
      lastSeriesAnswered: Math.max(...series.map((e) => e.responseEnd)),
      seriesCalls: series.length,
    };
  });
  await ctx.close();
  return { drawn, ...t };
}

const servers = [];
try {
  for (const root of roots) servers.push(await start(root));
  const { experiments } = await call(servers[0].url, 'experiments/search', { max_results: 1000 });
  const { runs } = await call(servers[0].url, 'runs/search', { experiment_ids: experiments.map((e) => e.experiment_id), filter: "attributes.run_name = 'many-metrics'", max_results: 1 });
  if (!runs?.length) throw new Error('no run named many-metrics: seed it with `node bench/ui.mjs --reuse …`');
  const target = `#/experiments/${runs[0].info.experiment_id}/runs/${runs[0].info.run_id}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  const samples = servers.map(() => []);
  // One warm-up load per server (its caches, the database's), then alternate.
  for (const s of servers) await loadOnce(browser, s.url, target);
  for (let i = 0; i < ROUNDS; i++) for (const [j, s] of servers.entries()) samples[j].push(await loadOnce(browser, s.url, target));
  await browser.close();
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = (x) => Math.round(x);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${ROUNDS} cold loads each, alternated`);
  for (const [j, s] of servers.entries()) {
    const xs = samples[j];
    console.log(`\n${s.root}`);
    console.log(`  drawn:               ${xs.map((x) => f(x.drawn)).join(', ')} ms (median ${f(med(xs.map((x) => x.drawn)))})`);
    console.log(`  runs/get answered:   ${xs.map((x) => f(x.runAnswered)).join(', ')}`);
    console.log(`  first series sent:   ${xs.map((x) => f(x.firstSeriesSent)).join(', ')}`);
    console.log(`  last series answer:  ${xs.map((x) => f(x.lastSeriesAnswered)).join(', ')}`);
    console.log(`  series calls:        ${xs.map((x) => x.seriesCalls).join(', ')}`);
  }
} finally {
  for (const s of servers) {
    s.proc.kill();
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
}
