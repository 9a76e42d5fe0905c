// An interrupted bench (Ctrl-C, or SIGTERM from a CI timeout) leaves no server running: neither
// one it is measuring nor one still starting (issue 15, item 12).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt } from '../harness/crash-server.js';
import { childrenOf } from '../harness/pg-cluster.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

// bench/tsconfig.json emits the src/ files the bench imports into dist/src as well. Compiling it
// while scripts/test.sh's other lane runs bin/cairn.js from dist/ let a process read a half-written
// module (a CI failure: "does not provide an export named ..."), so compile only when out of date:
// scripts/test.sh has compiled it before the lanes start.
function newestMtime(abs: string): number {
  const stat = fs.statSync(abs);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(abs).filter((e) => e !== 'results').map((e) => newestMtime(path.join(abs, e))));
}
function benchStale(): boolean {
  const out = path.join(repo, 'dist', 'bench', 'main.js');
  if (!fs.existsSync(out)) return true;
  const built = fs.statSync(out).mtimeMs;
  return ['bench', 'src'].some((dir) => newestMtime(path.join(repo, dir)) > built);
}

beforeAll(() => {
  ensureBuilt();
  if (benchStale()) {
    execFileSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'bench/tsconfig.json'], { cwd: repo, stdio: 'inherit' });
  }
}, 600_000);

const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};
const cairnServers = (benchPid: number) => childrenOf(benchPid).filter((pid) => cmdline(pid).includes('cairn.js server'));
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it.each([
  ['SIGINT', 'while the server starts'],
  ['SIGTERM', 'once the server is up'],
] as const)('%s %s: the bench stops its server and exits', async (signal, when) => {
  let out = '';
  const bench = spawn(process.execPath, ['dist/bench/main.js', '--quick', '--pairs', 'laptop', '--servers', 'cairn', '--out', 'bench/results/interrupt-test.tmp'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bench.stdout!.on('data', (d) => (out += d));
  bench.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
  let servers: number[] = [];
  await until('the bench to start a server', () => (servers = cairnServers(bench.pid!)).length > 0, 120_000);
  if (when === 'once the server is up') await until('the server to answer', () => /up at http/.test(out), 180_000);
  else expect(out).not.toMatch(/up at http/);
  try {
    bench.kill(signal);
    const code = await exited;
    expect(code, out).toBe(signal === 'SIGINT' ? 130 : 143);
    await until('the servers to be gone', () => servers.every((pid) => !alive(pid)), 15_000);
  } finally {
    // A failure here must not leave a server behind either.
    for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    bench.kill('SIGKILL');
  }
}, 400_000);
