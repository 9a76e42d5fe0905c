import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from './load.js';
import { parseOptions, type Options } from './options.js';
import { startCluster, type PgCluster } from './postgres.js';
import { report, type PairResult, type ServerResult } from './report.js';
import { SCENARIOS, searchRunsSides, type Ctx, type Row } from './scenarios.js';
import { killAllLaunched, launch, type RunningServer, type ServerKind } from './servers.js';
import { log } from './util.js';
import { mlflowVenv } from './venv.js';

// bench/main.ts compiles to dist/bench/main.js: the repository is two levels up either way.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  log(`${opts.quick ? 'quick' : 'full'} run: pairs ${opts.pairs.join(', ')}; servers ${opts.servers.join(', ')}${opts.only.length ? `; only ${opts.only.join(', ')}` : ''}`);
  if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'main.js'))) throw new Error('Cairn is not built: run `npm run build` (npm run bench does)');
  const venv = opts.servers.includes('mlflow') ? mlflowVenv(REPO, log) : undefined;
  const mlflowVersion = venv ? execFileSync(path.join(venv, 'bin', 'python'), ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim() : undefined;

  let cluster: PgCluster | undefined;
  const live = new Set<RunningServer>();
  const cleanup = async () => {
    for (const s of live) await s.stop().catch(() => {});
    cluster?.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping servers and Postgres`);
      // A server still starting is not in `live` yet: launched ones are killed by their group.
      killAllLaunched();
      void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }

  const pairs: PairResult[] = [];
  try {
    if (opts.pairs.includes('postgres')) cluster = await startCluster({ log });
    for (const pair of opts.pairs) {
      const result: PairResult = { pair, servers: {} };
      pairs.push(result);
      const growth = pair === 'postgres' ? opts.growth : opts.growth && opts.growthLaptop;
      // search_runs with both servers on one Postgres runs with both up, its shapes timed in turn
      // (measureShapes); the other scenarios run one server after the other.
      const interleave = pair === 'postgres' && growth && opts.servers.length > 1 && (!opts.only.length || opts.only.includes('search_runs'));
      const stores = new Map(opts.servers.map((kind) => [kind, pair === 'postgres' ? { type: 'postgres' as const, url: cluster!.createDatabase(`bench_${kind}`) } : { type: 'embedded' as const }]));
      const start = async (kind: ServerKind) => {
        const server = await launch({ kind, store: stores.get(kind)!, repo: REPO, venv, log, extraArgs: kind === 'cairn' ? opts.cairnArgs : opts.mlflowArgs, nodeOptions: opts.cairnNodeOptions });
        live.add(server);
        return server;
      };
      const stop = async (server: RunningServer) => {
        await server.stop();
        live.delete(server);
      };
      const hooksOf = (kind: ServerKind, server: RunningServer): Hooks => {
        const db = pair === 'postgres' ? `bench_${kind}` : undefined;
        return {
          seed: kind === 'mlflow' ? (exp, first, end, t0) => seedMlflow(venv!, server.storeUri, exp, first, end, t0) : undefined,
          // Postgres' autovacuum would vacuum and analyze the freshly filled tables a little later (a
          // user searches runs that were logged minutes or days before); do it now, for both servers.
          // The checkpoint too: the 15-minute one otherwise wrote the seeded pages out while some
          // shapes were timed (fsync on) and not others.
          analyze: db ? async () => void (cluster!.psql(db, 'VACUUM ANALYZE'), cluster!.psql(db, 'CHECKPOINT')) : undefined,
        };
      };
      // With only search_runs asked for, nothing runs one server after the other.
      const sequential = interleave && opts.only.length === 1 ? [] : opts.servers;
      for (const kind of sequential) {
        const server = await start(kind);
        try {
          result.servers[kind] = await runScenarios(server, opts, growth, hooksOf(kind, server), interleave ? ['search_runs'] : []);
        } finally {
          await stop(server);
        }
      }
      if (interleave) {
        log('search_runs: both servers up, the shapes timed in turn');
        const servers: RunningServer[] = [];
        try {
          for (const kind of opts.servers) servers.push(await start(kind));
          const resultOf = (i: number) => (result.servers[opts.servers[i]] ??= { label: servers[i].label, peakRssMiB: 0, rows: [], failed: [] });
          await searchBothWays(servers, opts, resultOf, (i) => hooksOf(opts.servers[i], servers[i]));
        } finally {
          for (const server of servers) await stop(server);
        }
      }
    }
  } finally {
    await cleanup();
  }

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: cluster?.version,
    mlflow: mlflowVersion,
  };
  const finishedAt = new Date();
  const { text, failures, missed } = report(pairs, opts);
  const outDir = path.join(REPO, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const out = opts.out ?? path.join(outDir, opts.quick ? 'quick.json' : `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
  const json = { startedAt, finishedAt, minutes: Number(((+finishedAt - +startedAt) / 60_000).toFixed(1)), machine, quick: opts.quick, sizes: opts.sizes, pairs };
  fs.writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
  if (!opts.quick && !opts.out) fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  console.log(`\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}; ${machine.postgres ?? ''}; mlflow ${machine.mlflow ?? '-'}`);
  console.log(text);
  console.log(`\nRaw figures: ${path.relative(process.cwd(), out)} (${json.minutes} min)`);
  if (failures.length) {
    console.error(`\nbench: ${failures.length} failure(s):\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
  // A full run is the evidence for the targets: a miss must not pass silently.
  if (missed.length && !opts.quick) {
    console.error(`\nbench: ${missed.length} target(s) missed:\n  ${missed.join('\n  ')}`);
    process.exitCode = 1;
  }
}

type Hooks = Pick<Ctx, 'seed' | 'analyze'>;

function seedMlflow(venv: string, storeUri: string, exp: string, first: number, end: number, t0: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path.join(venv, 'bin', 'python'), [path.join(REPO, 'bench', 'seed_mlflow.py'), storeUri, exp, String(first), String(end), String(t0)], (err, _out, stderr) =>
      err ? reject(new Error(`seeding MLflow's database failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`)) : resolve(),
    );
  });
}

async function runScenarios(server: RunningServer, opts: Options, growth: boolean, hooks: Hooks, skip: string[]): Promise<ServerResult> {
  const client = new Client(server.url, 64);
  const rows: Row[] = [];
  const failed: string[] = [];
  let peak = 0;
  try {
    for (const scenario of SCENARIOS) {
      if ((opts.only.length && !opts.only.includes(scenario.name)) || skip.includes(scenario.name)) continue;
      log(`${server.label}: ${scenario.name}`);
      server.resetPeak();
      try {
        const out = await scenario.run({ client, sizes: opts.sizes, log, growth, ...hooks });
        const rss = Number(server.peakRss().toFixed(1));
        peak = Math.max(peak, rss);
        for (const r of out) {
          r.peakRssMiB = rss;
          rows.push(r);
          const s = r.stats;
          if (r.notYet) log(`  ${r.name}: not yet (${r.notYet})`);
          else if (s) log(`  ${r.name}: ${r.value} ${r.unit}, p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.requests} requests, ${s.errors} errors${s.firstError ? ` (first: ${s.firstError})` : ''}, peak RSS ${rss} MiB`);
        }
      } catch (err) {
        const message = (err as Error).message;
        log(`  ${scenario.name} FAILED: ${message}`);
        failed.push(`${scenario.name}: ${message}`);
        rows.push({ name: scenario.name, title: scenario.name, unit: 'req/s', error: message });
      }
    }
  } finally {
    await client.close();
  }
  return { label: server.label, peakRssMiB: peak, rows, failed };
}

/** The search_runs scenario on all servers at once (searchRunsSides), its rows added to each one's result. */
async function searchBothWays(servers: RunningServer[], opts: Options, resultOf: (i: number) => ServerResult, hooksOf: (i: number) => Hooks): Promise<void> {
  const clients = servers.map((s) => new Client(s.url, 64));
  try {
    for (const s of servers) s.resetPeak();
    const sides = servers.map((server, i) => ({ ctx: { client: clients[i], sizes: opts.sizes, log, growth: true, ...hooksOf(i) }, label: server.label }));
    const rows = await searchRunsSides(sides).catch((err: Error) => {
      log(`  search_runs FAILED: ${err.message}`);
      for (const [i] of servers.entries()) {
        resultOf(i).failed.push(`search_runs: ${err.message}`);
        resultOf(i).rows.push({ name: 'search_runs', title: 'search_runs', unit: 'req/s', error: err.message });
      }
      return undefined;
    });
    for (const [i, server] of servers.entries()) {
      const rss = Number(server.peakRss().toFixed(1));
      const result = resultOf(i);
      result.peakRssMiB = Math.max(result.peakRssMiB, rss);
      for (const r of rows?.[i] ?? []) {
        r.peakRssMiB = rss;
        result.rows.push(r);
        if (r.stats) log(`  ${server.label} ${r.name}: ${r.value} ${r.unit}, p50 ${r.stats.p50} ms, p99 ${r.stats.p99} ms, ${r.stats.requests} requests, ${r.stats.errors} errors, peak RSS ${rss} MiB`);
      }
    }
  } finally {
    for (const c of clients) await c.close();
  }
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});

export type { ServerKind };
