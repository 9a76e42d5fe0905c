// Start-up times (issue 15, item 1): how long until a new `cairn server` answers /health.
//   node bench/startup.mjs [--quick] [--repeats N] [--postgres URL]
// Four cases, each the median of N runs (5; 1 with --quick):
//   - warm `npm start`: everything built, nothing changed (start.mjs checks and compiles nothing);
//   - warm restart: `node bin/cairn.js server` again on an embedded data folder that exists;
//   - first start: an empty data folder (the database is copied from the build's template);
//   - Postgres: `--backend-store-uri URL --workers 1` on a migrated database (URL: --postgres,
//     CAIRN_BENCH_POSTGRES_URL or TEST_DATABASE_URL; skipped without one).
// Each figure is printed with its target, and with the CPU time the server used to get there (the
// wall-clock time on a machine shared with other jobs measures mostly their load). A full run exits 1 when a target is missed; --quick is
// informational (one sample on a shared CI machine says little). Run `npm run build` first.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './free-port.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, repeats: { type: 'string' }, postgres: { type: 'string' } } });
const quick = values.quick === true;
const repeats = Number(values.repeats ?? (quick ? 1 : 5));
const postgres = values.postgres ?? process.env.CAIRN_BENCH_POSTGRES_URL ?? process.env.TEST_DATABASE_URL;
const TARGETS_MS = { npmStart: 3000, restart: 1500, firstStart: 3000, postgres: 1000 };

const live = new Set();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-startup-'));
function cleanup() {
  for (const child of live) killGroup(child, 'SIGKILL');
  fs.rmSync(scratch, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone
  }
}

/**
 * The /proc stat fields (from field 3, the state, on) of each process in the group. fields[0] is the
 * state, fields[2] the pgrp (field 5), fields[11..14] utime..cstime (fields 14-17).
 */
function groupStats(pgid) {
  const stats = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) stats.push(fields);
  }
  return stats;
}

// CPU time the process group has used (Linux /proc; utime + stime of each process, and of its
// waited-for children). On a machine shared with other jobs the wall-clock figure says more about
// the load than about Cairn; the CPU time is what a quiet machine would need, if it ran on one core.
function groupCpuMs(pgid) {
  try {
    const ticks = groupStats(pgid).reduce((sum, f) => sum + Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), 0);
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

// A zombie (state Z) holds nothing any more.
const groupAlive = (pgid) => groupStats(pgid).some((f) => f[0] !== 'Z');

/** Wall-clock ms from spawn to the first 200 from /health, and the CPU ms used by then; then the server is stopped. */
async function timeToHealth(cmd, args) {
  const port = await freePort();
  const log = fs.openSync(path.join(scratch, 'server.log'), 'a');
  const started = performance.now();
  const child = spawn(cmd, [...args, '--port', String(port), '--host', '127.0.0.1'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, CAIRN_ACCESS_LOG: 'false', MLFLOW_PORT: '' },
  });
  fs.closeSync(log);
  live.add(child);
  let exited;
  child.on('exit', (code) => (exited = code));
  try {
    for (;;) {
      if (exited !== undefined) {
        // The scratch folder is removed on exit: say why it failed here.
        const tail = fs.readFileSync(path.join(scratch, 'server.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
        throw new Error(`${cmd} ${args.join(' ')} exited (${exited}); the end of its log:\n${tail}`);
      }
      if (performance.now() - started > 180_000) throw new Error(`${cmd} did not answer /health within 180 s`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.ok) return { wall: performance.now() - started, cpu: groupCpuMs(child.pid) };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    // The whole group must be gone before the next start: `npm start` exits before its server has
    // closed the embedded database, and a second server on the same folder is refused (exit 2).
    killGroup(child, 'SIGTERM');
    for (let i = 0; i < 200 && groupAlive(child.pid); i++) await new Promise((r) => setTimeout(r, 50));
    killGroup(child, 'SIGKILL');
    for (let i = 0; i < 100 && groupAlive(child.pid); i++) await new Promise((r) => setTimeout(r, 50));
    live.delete(child);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(name, target, run) {
  const samples = [];
  for (let i = 0; i < repeats; i++) samples.push(await run(i));
  const ms = median(samples.map((s) => s.wall));
  const cpu = median(samples.map((s) => s.cpu));
  return { name, ms: Math.round(ms), cpu: Math.round(cpu), samples: samples.map((s) => Math.round(s.wall)), target, met: ms <= target };
}

if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'main.js'))) {
  console.error('bench/startup: Cairn is not built: run `npm run build` first');
  process.exit(2);
}
const node = process.execPath;
const cairn = path.join(REPO, 'bin', 'cairn.js');
const results = [];
try {
  const warmDir = path.join(scratch, 'warm');
  await timeToHealth(node, [cairn, 'server', '--data-dir', warmDir]); // makes the folder
  results.push(await measure('warm `npm start`', TARGETS_MS.npmStart, () => timeToHealth('npm', ['start', '--silent', '--', '--data-dir', warmDir])));
  results.push(await measure('warm restart (embedded)', TARGETS_MS.restart, () => timeToHealth(node, [cairn, 'server', '--data-dir', warmDir])));
  results.push(
    await measure('first start, empty data folder', TARGETS_MS.firstStart, (i) => timeToHealth(node, [cairn, 'server', '--data-dir', path.join(scratch, `fresh-${i}`)])),
  );
  if (postgres) {
    const args = [cairn, 'server', '--backend-store-uri', postgres, '--workers', '1', '--data-dir', path.join(scratch, 'pg')];
    await timeToHealth(node, args); // migrations applied once, as on any restart after the first
    results.push(await measure('restart on Postgres', TARGETS_MS.postgres, () => timeToHealth(node, args)));
  }
} finally {
  cleanup();
}

console.log(`\nStart-up to /health (median of ${repeats}; ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)}, Node ${process.version})\n`);
console.log('| case | time | CPU time | target | samples |');
console.log('| --- | ---: | ---: | ---: | --- |');
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
for (const r of results) console.log(`| ${r.name} | ${sec(r.ms)}${r.met ? '' : ' (missed)'} | ${sec(r.cpu)} | < ${(r.target / 1000).toFixed(1)} s | ${r.samples.map(sec).join(', ')} |`);
if (!postgres) console.log('\n(Postgres case skipped: pass --postgres URL or set CAIRN_BENCH_POSTGRES_URL)');
const missed = results.filter((r) => !r.met);
if (missed.length && !quick) {
  console.error(`\nbench/startup: ${missed.length} target(s) missed: ${missed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
