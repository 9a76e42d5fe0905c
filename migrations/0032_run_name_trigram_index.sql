-- A trigram index on run names (pg_trgm), which serves `attributes.run_name` LIKE and ILIKE with any
-- pattern, a leading wildcard included, where a btree serves a literal prefix only (docs/bench.md,
-- "Run-name patterns at 100k runs"). pg_trgm ships with Postgres' contrib and is a trusted extension
-- (Postgres 13+: a role with CREATE on the database may create it); Cairn's embedded PGlite loads it
-- at start. A server without it, or a role without the right to create it, keeps every search
-- correct without the index: the migration then skips both with a NOTICE, and the search reads
-- every name for such patterns, as before.
DO $$
DECLARE
  trgm_schema name;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION pg_trgm;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'cairn: pg_trgm is not available (%), so run names get no trigram index; searches stay correct, patterns with a leading wildcard read every name', SQLERRM;
    END;
  END IF;
  -- Where the extension lives (an existing install may be in a schema off the search path).
  SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS "runs_name_trgm_idx" ON "runs" USING gin ("name" %I.gin_trgm_ops)', trgm_schema);
  END IF;
END $$;
