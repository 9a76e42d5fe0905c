import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { matches, parseFilters, runDoc, sortRuns } from './run-filters.js';
import { selectRuns, type WandbRunRow } from './run-store.js';

/** Runs one list call loads to filter and sort; a project past this is refused, not truncated. */
const MAX_PROJECT_RUNS = 100_000;
const MAX_PAGE = 1000;

export interface RunPage {
  runs: WandbRunRow[];
  cursors: string[];
  endCursor: string | null;
  hasNextPage: boolean;
}

async function filteredRuns(deps: Deps, experimentId: number, filters: string | null | undefined): Promise<WandbRunRow[]> {
  const filter = parseFilters(filters);
  const all = await selectRuns(
    deps.db,
    sql`w.experiment_id = ${experimentId} and r.lifecycle_stage = 'active' order by w.created_at limit ${MAX_PROJECT_RUNS + 1}`,
  );
  if (all.length > MAX_PROJECT_RUNS) throw invalidParam(`The project has more than ${MAX_PROJECT_RUNS} runs; Cairn lists at most that many through the W&B API`);
  if (!Object.keys(filter).length) return all;
  const now = deps.now();
  return all.filter((r) => matches(runDoc(r, now), filter));
}

export async function countRuns(deps: Deps, experimentId: number, filters: string | null | undefined): Promise<number> {
  return (await filteredRuns(deps, experimentId, filters)).length;
}

const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');

function decodeCursor(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  const m = /^offset:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m) throw invalidParam(`Invalid cursor '${cursor.slice(0, 100)}'`);
  return Number(m[1]);
}

export async function listRuns(
  deps: Deps,
  experimentId: number,
  args: { filters?: string | null; order?: string | null; first?: number | null; after?: string | null },
): Promise<RunPage> {
  const first = Math.min(Math.max(args.first ?? 50, 0), MAX_PAGE);
  const offset = decodeCursor(args.after);
  const sorted = sortRuns(await filteredRuns(deps, experimentId, args.filters), args.order, deps.now());
  const runs = sorted.slice(offset, offset + first);
  const cursors = runs.map((_, i) => encodeCursor(offset + i + 1));
  return { runs, cursors, endCursor: cursors.length ? cursors[cursors.length - 1] : null, hasNextPage: offset + first < sorted.length };
}
