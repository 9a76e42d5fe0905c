import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { decodeOffsetToken, encodeOffsetToken } from '../lib/page-token.js';
import type { ViewType } from '../lib/zod-wire.js';
import { experimentIdOf } from './ids.js';
import { loadRuns, type RunWire } from './run-read.js';
import { runSearchQuery } from './search/runs-sql.js';
import { LIMITS, validateMaxResults } from './validation.js';

export async function searchRuns(
  deps: Deps,
  input: { experiment_ids?: string[]; filter?: string; run_view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string },
): Promise<{ runs?: RunWire[]; next_page_token?: string }> {
  const limit = validateMaxResults(input.max_results, LIMITS.searchRunsMaxResults, 1000);
  const offset = decodeOffsetToken(input.page_token);
  const experimentIds = (input.experiment_ids ?? []).map(experimentIdOf);
  if (!experimentIds.length) return {};
  // One more id than asked for tells whether another page exists without a count query.
  const ids = await rows<{ run_id: string }>(
    deps.db,
    runSearchQuery({
      experimentIds,
      filter: input.filter,
      runViewType: input.run_view_type ?? 'ACTIVE_ONLY',
      orderBy: input.order_by,
      offset,
      limit: limit + 1,
    }),
  );
  const runs = await loadRuns(deps.db, ids.slice(0, limit).map((r) => r.run_id));
  const out: { runs?: RunWire[]; next_page_token?: string } = {};
  if (runs.length) out.runs = runs;
  if (ids.length > limit) out.next_page_token = encodeOffsetToken(offset + limit);
  return out;
}
