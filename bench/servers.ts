import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './util.js';

export type ServerKind = 'mlflow' | 'cairn';

export interface RunningServer {
  kind: ServerKind;
  label: string;
  url: string;
  pid: number;
  /** The backend store as the server was given it. */
  storeUri: string;
  /** Peak RSS (MiB) of the whole process tree since the last reset. */
  peakRss(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

export interface LaunchSpec {
  kind: ServerKind;
  /** postgresql://… or, for the laptop pair, sqlite (mlflow) / pglite (cairn). */
  store: { type: 'postgres'; url: string } | { type: 'embedded' };
  repo: string;
  venv?: string;
  extraArgs?: string[];
  nodeOptions?: string[];
  log: (msg: string) => void;
}

export async function launch(spec: LaunchSpec): Promise<RunningServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cairn-bench-${spec.kind}.`));
  let cmd: string;
  let args: string[];
  let storeUri: string;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (spec.kind === 'mlflow') {
    // +psycopg2: the driver the venv has (SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3).
    const store = spec.store.type === 'postgres' ? spec.store.url.replace(/^postgresql:/, 'postgresql+psycopg2:') : `sqlite:///${path.join(dir, 'mlflow.db')}`;
    storeUri = store;
    // `python -m mlflow`, not bin/mlflow: the venv is built in a temp folder and moved, so the
    // scripts' #! lines point at a path that no longer exists.
    cmd = path.join(spec.venv!, 'bin', 'python');
    // Its defaults otherwise: uvicorn with 4 workers, artifacts proxied (--serve-artifacts).
    args = ['-m', 'mlflow', 'server', '--backend-store-uri', store, '--host', '127.0.0.1', '--port', String(port), '--artifacts-destination', path.join(dir, 'mlartifacts')];
    args.push(...(spec.extraArgs ?? []));
    Object.assign(env, { PATH: `${path.join(spec.venv!, 'bin')}:${env.PATH ?? ''}`, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', PYTHONUNBUFFERED: '1' });
  } else {
    const store = spec.store.type === 'postgres' ? spec.store.url : `pglite://${path.join(dir, 'db')}`;
    storeUri = store;
    cmd = process.execPath;
    if (spec.store.type === 'embedded') {
      // initdb of a new PGlite folder runs inside the process and leaves ~400 MB of WebAssembly memory
      // that only a restart gives back; a user's server meets an existing folder on every later start.
      // Create it the way a user would before deploying (`cairn db migrate`), so RSS is the steady state.
      execFileSync(cmd, [path.join(spec.repo, 'bin', 'cairn.js'), 'db', 'migrate', '--backend-store-uri', store], { cwd: dir, stdio: 'ignore' });
    }
    // On the embedded database, V8's young generation is held small too (the laptop setup README
    // recommends, docs/bench.md): 2 MB semi-spaces instead of 16 took ~30 MiB off the peak RSS.
    const nodeOptions = [...(spec.nodeOptions ?? [])];
    if (spec.store.type === 'embedded' && !nodeOptions.some((o) => o.startsWith('--max-semi-space-size'))) nodeOptions.push(PGLITE_NODE_OPTION);
    args = [...nodeOptions, path.join(spec.repo, 'bin', 'cairn.js'), 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', store, '--data-dir', dir];
    // Postgres and the load generator share this machine's cores: Cairn gets half of them (its
    // default is one worker per core, for a host of its own). On 2 cores, 2 workers measured no
    // faster than 1 and cost ~100 MiB more. PGlite always runs in one process.
    const extra = spec.extraArgs ?? [];
    if (spec.store.type === 'postgres' && !extra.some((a) => a === '--workers' || a === '-w' || a.startsWith('--workers='))) {
      args.push('--workers', String(cairnWorkers()));
    }
    args.push(...extra);
  }
  const logFile = path.join(dir, 'server.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd: dir, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  launched.add(child);
  child.on('exit', () => launched.delete(child));
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const url = `http://127.0.0.1:${port}`;
  const label = `${spec.kind} on ${spec.store.type === 'postgres' ? 'Postgres' : spec.kind === 'mlflow' ? 'SQLite' : 'PGlite'}`;
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const started = Date.now();
  for (;;) {
    if (spawnError) throw new Error(`${label}: cannot start ${cmd}: ${spawnError.message}`);
    if (exited !== undefined) throw new Error(`${label} exited (${exited}) during start-up:\n${tail(logFile)}`);
    if (Date.now() - started > 180_000) {
      killTree(child);
      throw new Error(`${label} did not answer /health within 180 s:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  spec.log(`${label}: up at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (log ${logFile})`);
  const sampler = new RssSampler(child.pid!);
  return {
    kind: spec.kind,
    label,
    url,
    pid: child.pid!,
    storeUri,
    peakRss: () => sampler.peak(),
    resetPeak: () => sampler.reset(),
    async stop() {
      sampler.stop();
      killTree(child, 'SIGTERM');
      for (let i = 0; i < 100 && exited === undefined; i++) await sleep(100);
      if (exited === undefined) killTree(child, 'SIGKILL');
      await sleep(200);
      // Kill any straggler in the group (uvicorn workers, cluster workers), then drop the data.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // group already gone
      }
      // CAIRN_BENCH_KEEP=1 keeps the folder (the server's log) to find out why a scenario failed.
      if (!process.env.CAIRN_BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Every server process group started and not yet gone, including one still starting (not yet
// handed to the caller), so an interrupted bench leaves none running.
const launched = new Set<ChildProcess>();

/** SIGKILLs every launched server's process group (the bench's SIGINT/SIGTERM handler). */
export function killAllLaunched(): void {
  for (const child of launched) killTree(child, 'SIGKILL');
}

export const cairnWorkers = () => Math.max(1, Math.floor(os.availableParallelism() / 2));

function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

export const PGLITE_NODE_OPTION = '--max-semi-space-size=2';

/** Samples VmRSS of a process and all its descendants every 100 ms; keeps the peak of the sum. */
class RssSampler {
  private max = 0;
  private timer: NodeJS.Timeout;
  constructor(private root: number) {
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
    this.sample();
  }
  peak(): number {
    this.sample();
    return this.max / 1024;
  }
  reset(): void {
    this.max = 0;
    this.sample();
  }
  stop(): void {
    clearInterval(this.timer);
  }
  private sample(): void {
    let total = 0;
    for (const pid of descendants(this.root)) total += rssKb(pid);
    if (total > this.max) this.max = total;
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
