import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { readablePredicate } from './grants.js';
import { principalOf } from './policy.js';
import { isUnrestricted } from './principal.js';

// Search results narrowed to what the caller may read. Searches that name experiments lose the
// unreadable ones before running; other searches are filtered page by page (a page may then hold
// fewer items than max_results, never an item the caller may not read).

/** The requested experiment ids the caller may read. */
export async function readableExperimentIds(deps: Deps, c: Context, ids: string[]): Promise<string[]> {
  const p = principalOf(c);
  if (isUnrestricted(p)) return ids;
  const readable = await readablePredicate(deps, p, 'experiment');
  return ids.filter((id) => /^\d{1,18}$/.test(id) && readable(Number(id)));
}

export async function filterExperiments<T extends { experiment_id: string }>(deps: Deps, c: Context, items: T[] | undefined): Promise<T[] | undefined> {
  const p = principalOf(c);
  if (!items || isUnrestricted(p)) return items;
  const readable = await readablePredicate(deps, p, 'experiment');
  return items.filter((e) => readable(Number(e.experiment_id)));
}

/** Registry items (models or versions) whose registered model the caller may read. */
export async function filterByModelName<T extends { name: string }>(deps: Deps, c: Context, items: T[] | undefined): Promise<T[] | undefined> {
  const p = principalOf(c);
  if (!items?.length || isUnrestricted(p)) return items;
  const readable = await readablePredicate(deps, p, 'registered_model');
  const names = [...new Set(items.map((i) => i.name))];
  const found = await rows<{ id: number | string; name: string }>(
    deps.registryDb,
    sql`select id, name from registered_models where name in (${sql.join(names.map((n) => sql`${n}`), sql`, `)})`,
  );
  const idOf = new Map(found.map((r) => [r.name, Number(r.id)]));
  return items.filter((i) => {
    const id = idOf.get(i.name);
    return id !== undefined && readable(id);
  });
}
