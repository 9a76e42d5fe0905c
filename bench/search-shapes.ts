import { drive, driveRecorder, pooledStats, simpleLoop, type Recorder, type Req } from './load.js';
import { API } from './mlflow-api.js';
import { fmtCount, type Ctx, type Row } from './scenarios.js';

// search_runs shapes (issue 15 item 9): one kind of filter or ordering each, over the search
// experiment at each growth size, timed one request at a time (p50) on both servers. The target is
// 10x MLflow for every shape. The runs are the ones seedRunApi / seed_mlflow.py write: params lr,
// batch_size, optimizer (adam/sgd), seed (i), layers; metrics acc, loss, lr; tags mlflow.user,
// mlflow.source.name; every 10th run has a dataset input ds-0..ds-4 (digest d0..d4, context training).

export const SHAPE_TARGET = 10;
const PAGE = 100;

interface Shape {
  id: string;
  title: string;
  body: (exp: string, size: number, t0: number) => Record<string, unknown>;
  /** Paging deep: the page token of this offset is fetched first (untimed), then that page timed. */
  offset?: (size: number) => number;
}

const filter = (id: string, title: string, f: (size: number, t0: number) => string, orderBy?: string[]): Shape => ({
  id,
  title,
  body: (exp, size, t0) => ({ experiment_ids: [exp], filter: f(size, t0), ...(orderBy ? { order_by: orderBy } : {}), max_results: PAGE }),
});
const order = (id: string, orderBy: string[]): Shape => ({
  id,
  title: `order by ${orderBy.join(', ')}`,
  body: (exp) => ({ experiment_ids: [exp], order_by: orderBy, max_results: PAGE }),
});

export const SHAPES: Shape[] = [
  filter('param_eq', "params.optimizer = 'adam'", () => "params.optimizer = 'adam'"),
  filter('param_like', "params.seed LIKE '1%'", () => "params.seed LIKE '1%'"),
  filter('param_ilike', "params.optimizer ILIKE '%DAM'", () => "params.optimizer ILIKE '%DAM'"),
  filter('metric_range', 'metrics.loss < 0.3', () => 'metrics.loss < 0.3'),
  filter('param_and_metric', "params.optimizer = 'adam' and metrics.acc > 0.2, order by metrics.loss DESC", () => "params.optimizer = 'adam' and metrics.acc > 0.2", ['metrics.loss DESC']),
  filter('tag_eq', "tags.mlflow.source.name = 'train.py'", () => "tags.mlflow.source.name = 'train.py'"),
  filter('tag_like', "tags.mlflow.user LIKE 'ben%'", () => "tags.mlflow.user LIKE 'ben%'"),
  filter('attr_name_like', "attributes.run_name LIKE 'run-1%'", () => "attributes.run_name LIKE 'run-1%'"),
  filter('attr_name_ilike', "attributes.run_name ILIKE '%-99'", () => "attributes.run_name ILIKE '%-99'"),
  filter('attr_status', "attributes.status = 'RUNNING'", () => "attributes.status = 'RUNNING'"),
  filter('attr_start_time', 'attributes.start_time > (the middle run)', (size, t0) => `attributes.start_time > ${t0 + Math.floor(size / 2)}`),
  filter('attr_run_id_in', 'attributes.run_id IN (3 ids that do not exist)', () => "attributes.run_id IN ('00000000000000000000000000000001', '00000000000000000000000000000002', '00000000000000000000000000000003')"),
  filter('dataset_name', "datasets.name = 'ds-1'", () => "datasets.name = 'ds-1'"),
  filter('dataset_digest_in', "datasets.digest IN ('d1', 'd2')", () => "datasets.digest IN ('d1', 'd2')"),
  filter('dataset_context', "datasets.context = 'training'", () => "datasets.context = 'training'"),
  order('order_metric', ['metrics.loss DESC']),
  order('order_param', ['params.seed ASC']),
  order('order_tag', ['tags.mlflow.user ASC']),
  order('order_attr', ['attributes.run_name ASC']),
  order('order_start_asc', ['attributes.start_time ASC']),
  order('order_status', ['attributes.status ASC']),
  {
    id: 'deep_page',
    title: 'the page 90% deep (default order)',
    body: (exp) => ({ experiment_ids: [exp], max_results: PAGE }),
    // MLflow caps max_results at 50,000: the token is fetched with one call of that many at most.
    offset: (size) => Math.min(Math.floor(size * 0.9), 50_000),
  },
];

/** One server's part in a shape measurement: its context and its search experiment. */
export interface ShapeSide {
  ctx: Ctx;
  exp: string;
  label: string;
}

// Both servers up, each shape is timed in this many slices per server, taken in turn (A B, B A, …).
// Timed one server after the other, minutes apart, a ratio took in whatever the machine was doing
// in each period: two full runs 30 minutes apart on a quiet machine had the 1k shapes 2.1 against
// 4.0 ms (Cairn) and 95 against 68 ms (MLflow), in opposite directions (docs/bench.md).
const SLICES = 4;

/**
 * One row per shape at this size and server: p50 of its searches, one at a time, after a warm-up.
 * With two sides (servers) the timed searches alternate between them in slices. A shape whose setup
 * call fails on a server is reported as failed there and the others still run.
 */
export async function measureShapes(sides: ShapeSide[], size: number, t0: number): Promise<Row[][]> {
  const rows: Row[][] = sides.map(() => []);
  const slices = sides.length > 1 ? SLICES : 1;
  for (const shape of SHAPES) {
    const name = `shape_${shape.id}_${size}`;
    const title = `search_runs shape at ${fmtCount(size)} runs: ${shape.title}`;
    const ready: { side: number; search: ReturnType<typeof simpleLoop>; parts: Recorder[] }[] = [];
    for (const [i, { ctx, exp, label }] of sides.entries()) {
      try {
        let body = shape.body(exp, size, t0);
        if (shape.offset) {
          const first = await ctx.client.api<{ next_page_token?: string }>('POST', `${API}/runs/search`, { ...body, max_results: shape.offset(size) });
          body = { ...body, page_token: first.next_page_token };
        }
        const req: Req = { method: 'POST', path: `${API}/runs/search`, json: body };
        const search = simpleLoop(() => req, { countOnly: true });
        // Four first, so that each of MLflow's four workers has served one (its first is much slower).
        await drive(ctx.client, { seconds: 3600, requests: 4, concurrency: 4 }, search);
        // Then a second of the shape alone, as a server that has been up a while has served it: Cairn's
        // JIT compiles a shape's own code (its filter's parse and SQL) after some hundred calls. The
        // 1k shapes, timed first after a start, took 2.3–2.5 ms cold where 1.3–1.5 ms warm (docs/bench.md).
        await drive(ctx.client, { seconds: ctx.sizes.shapeWarmupSeconds, concurrency: 1 }, search);
        ready.push({ side: i, search, parts: [] });
      } catch (err) {
        ctx.log(`  ${label} ${name} FAILED: ${(err as Error).message}`);
        rows[i].push({ name, title, unit: 'ms', target: SHAPE_TARGET, error: (err as Error).message });
      }
    }
    // Timed for a second at least: a p50 of ten searches of a 1.5 ms shape moved by 10% from run to
    // run on either server (MLflow's too: 14-18 ms), a p50 of hundreds does not. Slow shapes take
    // their ten searches, which last longer.
    for (let k = 0; k < slices; k++) {
      for (const r of k % 2 ? [...ready].reverse() : ready) {
        const { ctx } = sides[r.side];
        const limits = { seconds: 3600, requests: Math.ceil(ctx.sizes.growthSearchRepeats / slices), atLeastSeconds: ctx.sizes.shapeTimedSeconds / slices, concurrency: 1 };
        r.parts.push(await driveRecorder(ctx.client, limits, r.search));
      }
    }
    for (const r of ready) {
      const stats = pooledStats(r.parts);
      rows[r.side].push({ name, title, unit: 'ms', value: stats.p50, stats, target: SHAPE_TARGET });
      sides[r.side].ctx.log(`  ${sides[r.side].label} ${name}: p50 ${stats.p50} ms${stats.errors ? `, ${stats.errors} errors (${stats.firstError})` : ''}`);
    }
  }
  return rows;
}
