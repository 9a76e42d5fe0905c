import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { experimentIdOf } from '../ids.js';
import { loggedModelSearchQuery, type DatasetFilter, type LoggedModelOrderBy } from '../search/logged-models-sql.js';
import { loadLoggedModels, type LoggedModelWire } from './logged-models-read.js';

const DEFAULT_MAX_RESULTS = 100;
const MAX_RESULTS = 10_000;

export interface SearchLoggedModelsInput {
  experiment_ids: string[];
  filter?: string;
  datasets?: DatasetFilter[];
  max_results?: number;
  order_by?: LoggedModelOrderBy[];
  page_token?: string;
}

const canonicalOrder = (orderBy: LoggedModelOrderBy[] | undefined) =>
  orderBy?.length
    ? orderBy.map((o) => ({
        field_name: o.field_name,
        ascending: o.ascending ?? true,
        dataset_name: o.dataset_name ?? null,
        dataset_digest: o.dataset_digest ?? null,
      }))
    : null;

// As MLflow's SearchLoggedModelsPaginationToken: the token carries the query it belongs to, and a
// token replayed with another query is refused rather than silently paging something else.
interface PageToken {
  offset: number;
  experiment_ids: string[];
  filter: string | null;
  order_by: ReturnType<typeof canonicalOrder>;
}

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64');
}

// A token's fields are the client's bytes: one nested thousands deep overflows JSON.stringify's
// stack, and is simply not the same value.
function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

function decodeToken(token: string, input: SearchLoggedModelsInput): number {
  let t: Partial<PageToken>;
  try {
    t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Partial<PageToken>;
  } catch {
    throw invalidParam(`Invalid page token: ${token.slice(0, 100)}`);
  }
  if (!t || typeof t !== 'object' || typeof t.offset !== 'number' || !Number.isSafeInteger(t.offset) || t.offset < 0) {
    throw invalidParam(`Invalid page token: ${token.slice(0, 100)}`);
  }
  if (!sameJson(t.experiment_ids, input.experiment_ids)) {
    throw invalidParam('Experiment IDs in the page token do not match the requested experiment IDs.');
  }
  if ((t.filter ?? null) !== (input.filter || null)) {
    throw invalidParam('Filter string in the page token does not match the requested filter string.');
  }
  if (!sameJson(t.order_by ?? null, canonicalOrder(input.order_by))) {
    throw invalidParam('Order by in the page token does not match the requested order by.');
  }
  return t.offset;
}

export async function searchLoggedModels(deps: Deps, input: SearchLoggedModelsInput): Promise<{ models?: LoggedModelWire[]; next_page_token?: string }> {
  const limit = input.max_results || DEFAULT_MAX_RESULTS;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RESULTS) {
    throw invalidParam(`Invalid value for request parameter max_results. It must be at most ${MAX_RESULTS}, but got value ${limit}`);
  }
  const offset = input.page_token ? decodeToken(input.page_token, input) : 0;
  const ids = await rows<{ model_id: string }>(
    deps.db,
    loggedModelSearchQuery({
      experimentIds: input.experiment_ids.map(experimentIdOf),
      filter: input.filter,
      datasets: input.datasets,
      orderBy: input.order_by,
      offset,
      limit: limit + 1,
    }),
  );
  const models = await loadLoggedModels(deps.db, ids.slice(0, limit).map((r) => r.model_id));
  const out: { models?: LoggedModelWire[]; next_page_token?: string } = {};
  if (models.length) out.models = models;
  if (ids.length > limit) {
    out.next_page_token = encodeToken({
      offset: offset + limit,
      experiment_ids: input.experiment_ids,
      filter: input.filter || null,
      order_by: canonicalOrder(input.order_by),
    });
  }
  return out;
}
