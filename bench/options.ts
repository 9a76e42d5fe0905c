import { parseArgs } from 'node:util';

/** Every size the bench uses; --quick shrinks them so CI proves the whole thing runs in a minute or two. */
export interface Sizes {
  /** Seconds of warm-up and of measurement per scenario. */
  warmupSeconds: number;
  seconds: number;
  /** search_runs: runs in the experiment, and how many one page returns. */
  searchRuns: number;
  searchPage: number;
  experiments: number;
  historyPoints: number;
  bulkRuns: number;
  bulkSteps: number;
  /** max_results of get-history-bulk-interval (points per run), as the UI's charts ask. */
  bulkMaxResults: number;
  artifactMiB: number;
  artifactRounds: number;
  paramRuns: number;
  mixedClients: number;
  mixedSeconds: number;
  mixedSteps: number;
  /** Paced mixed workload: one log-batch per client every this many ms (the training step). */
  mixedStepMs: number;
  /** Growth: search_runs latency at these run counts, and ingestion up to this many metric points. */
  growthRuns: number[];
  growthSearchRepeats: number;
  /** The growth sizes at which every search shape is timed (search-shapes.ts). */
  shapeRuns: number[];
  /** Seconds each shape is searched, one at a time and untimed, before it is timed. */
  shapeWarmupSeconds: number;
  /** Each shape is timed for at least growthSearchRepeats searches and at least this many seconds. */
  shapeTimedSeconds: number;
  growthPoints: number;
  growthSlices: number;
}

export const FULL: Sizes = {
  warmupSeconds: 3,
  seconds: 15,
  searchRuns: 25_000,
  searchPage: 1000,
  experiments: 1000,
  historyPoints: 30_000,
  bulkRuns: 100,
  bulkSteps: 1000,
  bulkMaxResults: 320,
  artifactMiB: 100,
  artifactRounds: 5,
  paramRuns: 1500,
  mixedClients: 50,
  mixedSeconds: 60,
  mixedSteps: 20,
  mixedStepMs: 100,
  growthRuns: [1000, 10_000, 100_000],
  growthSearchRepeats: 10,
  shapeRuns: [1000, 10_000, 100_000],
  shapeWarmupSeconds: 1,
  shapeTimedSeconds: 1,
  growthPoints: 10_000_000,
  growthSlices: 10,
};

export const QUICK: Sizes = {
  warmupSeconds: 0.1,
  seconds: 0.5,
  searchRuns: 300,
  searchPage: 100,
  experiments: 20,
  historyPoints: 2000,
  bulkRuns: 5,
  bulkSteps: 50,
  bulkMaxResults: 20,
  artifactMiB: 2,
  artifactRounds: 1,
  paramRuns: 30,
  mixedClients: 10,
  mixedSeconds: 2,
  mixedSteps: 5,
  mixedStepMs: 100,
  growthRuns: [100, 300],
  growthSearchRepeats: 2,
  shapeRuns: [300],
  shapeWarmupSeconds: 0.05,
  shapeTimedSeconds: 0,
  growthPoints: 20_000,
  growthSlices: 2,
};

export interface Options {
  quick: boolean;
  sizes: Sizes;
  /** Which pairs: postgres (MLflow and Cairn on one Postgres server), laptop (SQLite vs PGlite). */
  pairs: ('postgres' | 'laptop')[];
  servers: ('mlflow' | 'cairn')[];
  /** Scenario names to run (all when empty). */
  only: string[];
  growth: boolean;
  /** Growth for the laptop pair too (off by default: 10M points into SQLite takes very long). */
  growthLaptop: boolean;
  out?: string;
  /** Extra flags for `cairn server` (e.g. --workers 1), to compare configurations. */
  cairnArgs: string[];
  /**
   * Extra flags for `mlflow server`. `--workers 1` keeps it alive on an overloaded machine: with
   * several workers, uvicorn's supervisor kills a worker that misses its 5 s health check, and the
   * requests it held fail with "other side closed".
   */
  mlflowArgs: string[];
  /** Flags for the node process that runs Cairn. */
  cairnNodeOptions: string[];
}

/**
 * Node's default old-space limit is sized from the machine's memory (about 4 GB here), and V8 then
 * lets the heap grow lazily: under the 1000-metric log-batch load RSS reached 225-330 MiB. A 512 MB
 * limit makes it collect sooner, for ~135 MiB at the same throughput (measured); the recommended
 * way to run Cairn (README), so the bench runs it that way. `--cairn-node-options ''` runs Node's defaults.
 */
export const CAIRN_NODE_OPTIONS = '--max-old-space-size=512';

const USAGE = `usage: npm run bench -- [--quick] [--pairs postgres,laptop] [--servers mlflow,cairn] [--only a,b]
                      [--no-growth] [--growth-laptop] [--set key=value ...] [--out file.json]
                      [--cairn-arg='--workers 2'] [--mlflow-arg='--workers 1'] [--cairn-node-options='--max-old-space-size=512']
  --set overrides one size, e.g. --set searchRuns=10000 --set growthRuns=1000,10000 --set seconds=5`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      pairs: { type: 'string' },
      servers: { type: 'string' },
      only: { type: 'string' },
      'no-growth': { type: 'boolean' },
      'growth-laptop': { type: 'boolean' },
      set: { type: 'string', multiple: true },
      out: { type: 'string' },
      'cairn-arg': { type: 'string', multiple: true },
      'mlflow-arg': { type: 'string', multiple: true },
      'cairn-node-options': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = !!values.quick;
  const sizes: Sizes = { ...(quick ? QUICK : FULL) };
  for (const kv of values.set ?? []) {
    const [key, value] = kv.split('=');
    if (!(key in sizes) || value === undefined) throw new Error(`--set ${kv}: unknown size (known: ${Object.keys(sizes).join(', ')})`);
    const k = key as keyof Sizes;
    (sizes as unknown as Record<string, unknown>)[k] = Array.isArray(sizes[k]) ? value.split(',').map(Number) : Number(value);
  }
  const list = <T extends string>(v: string | undefined, all: T[]): T[] => {
    if (!v) return all;
    const items = v.split(',').map((s) => s.trim()) as T[];
    for (const i of items) if (!all.includes(i)) throw new Error(`unknown value '${i}' (use ${all.join(', ')})`);
    return items;
  };
  return {
    quick,
    sizes,
    pairs: list(values.pairs, ['postgres', 'laptop']),
    servers: list(values.servers, ['mlflow', 'cairn']),
    only: values.only ? values.only.split(',') : [],
    growth: !values['no-growth'],
    growthLaptop: !!values['growth-laptop'],
    out: values.out,
    cairnArgs: (values['cairn-arg'] ?? []).flatMap((a) => a.split(' ')),
    mlflowArgs: (values['mlflow-arg'] ?? []).flatMap((a) => a.split(' ')),
    cairnNodeOptions: (values['cairn-node-options'] ?? CAIRN_NODE_OPTIONS).split(' ').filter(Boolean),
  };
}
