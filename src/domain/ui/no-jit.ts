import { sql } from 'drizzle-orm';
import type { Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';

/**
 * Runs `fn` in a transaction with Postgres' JIT off. The UI's aggregate queries read many rows
 * cheaply per row, so the planner's cost passes the JIT thresholds (20 series of 100k points were
 * planned for inlining and optimization) and compiling took longer than the query: half a second
 * measured on a 100,000-run grouping. PGlite has no JIT.
 */
export async function withoutJit<T>(deps: Deps, fn: (db: Orm) => Promise<T>): Promise<T> {
  if (deps.database.kind === 'pglite') return fn(deps.db);
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return fn(tx as unknown as Orm);
  });
}
