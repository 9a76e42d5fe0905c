import type { PGlite } from '@electric-sql/pglite';

// PGlite runs Postgres in one process without its background workers, so no autovacuum ever
// runs: a store written only through Cairn was never analyzed (no planner statistics: reading 200,000
// points of one metric was planned as a bitmap heap scan) and never vacuumed (no visibility map,
// so index-only scans read the table too). Measured on a store of 3.2M metric points: 1.9 s for
// that read before `VACUUM (ANALYZE)`, 0.56 s after. This does what autovacuum would: now and then,
// each table that has grown by half since it was last vacuumed (or never was) is vacuumed and
// analyzed. PGlite runs one statement at a time, so a vacuum holds up requests while it runs
// (about 4 s for 3.2M points): it waits for a quiet moment, and growth by half keeps it rare.

export interface MaintenanceOptions {
  /** How often to look, in ms. */
  intervalMs?: number;
  /** Told about a failed run (the next one tries again). */
  onError?: (err: unknown) => void;
  /** Told about each table vacuumed, with the time it took. */
  onVacuum?: (table: string, ms: number) => void;
}

/** Tables below this size (8 KiB pages) are read whole anyway: not worth a vacuum. */
const MIN_PAGES = 256;
const GROWTH = 1.5;
/** The look-up answers at once when nothing else is queued; slower means requests are waiting. */
const QUIET_MS = 50;

export function startPgliteMaintenance(client: PGlite, opts: MaintenanceOptions = {}): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = maintain(client, opts)
      .then(() => undefined, (err) => opts.onError?.(err))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, opts.intervalMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** One pass: vacuums and analyzes the tables that grew; skipped when requests are waiting. */
export async function maintain(client: PGlite, opts: Pick<MaintenanceOptions, 'onVacuum'> & { quietMs?: number } = {}): Promise<string[]> {
  const t0 = performance.now();
  const { rows } = await client.query<{ table: string; pages: number; vacuumed_pages: number }>(
    `select c.relname as table, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages,
            case when c.reltuples < 0 then 0 else c.relpages end as vacuumed_pages
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r'`,
  );
  if (performance.now() - t0 > (opts.quietMs ?? QUIET_MS)) return [];
  const grown = rows.filter((r) => r.pages >= MIN_PAGES && r.pages >= r.vacuumed_pages * GROWTH).map((r) => r.table);
  for (const table of grown) {
    const t = performance.now();
    await client.exec(`vacuum (analyze) "${table.replace(/"/g, '""')}"`);
    opts.onVacuum?.(table, performance.now() - t);
  }
  return grown;
}
