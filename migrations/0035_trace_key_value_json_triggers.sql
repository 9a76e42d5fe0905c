-- traces.tags_json and traces.metadata_json (0034) hold each trace's trace_tags and trace_metadata
-- rows as the text of one JSON object, compact (`{"k":"v","k2":"v2"}`, keys in byte order, escaped
-- by to_json as JSON.stringify escapes), null for none; tags_json leaves out the artifact location
-- tag, which the row's artifact_location column holds and every reader adds. Trace reads take them
-- from the row, and search_traces joins them into its answer as they are (src/domain/traces/read.ts),
-- instead of aggregating each trace's rows (docs/bench.md, "Tags and metadata kept in the trace row"). Kept by statement triggers, as
-- run_json is (0030), so that no writer (StartTrace v2/v3, OTLP, set/delete tag, import) can
-- forget them.
--
-- Each function first locks the trace rows (in id order, as writers of several traces do): under
-- READ COMMITTED the UPDATE after it then takes a snapshot that sees every transaction that wrote
-- these traces' tags and committed while this one waited. Without the lock, two transactions
-- tagging one trace at once could each store a text missing the other's tag. The UPDATE skips a
-- trace whose text did not change (a retried write), which writes no new row version. A row this
-- transaction wrote (a new trace, or one its upsert updated) is not locked again: it already holds
-- that row's lock (or no one else can see the row), and locking it again cost a WAL record a row,
-- a quarter of OTLP ingestion's throughput (docs/bench.md).
CREATE FUNCTION cairn_own_xid() RETURNS xid LANGUAGE sql STABLE AS
  $$ SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text::xid $$;
--> statement-breakpoint
CREATE FUNCTION cairn_trace_tags_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) AND xmin <> cairn_own_xid() ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET tags_json = j.body
    FROM (SELECT c.trace_id, (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}'
                               FROM trace_tags kv WHERE kv.trace_id = c.trace_id AND kv.key <> 'mlflow.artifactLocation') AS body
            FROM (SELECT DISTINCT trace_id FROM changed) c) j
    WHERE t.trace_id = j.trace_id AND t.tags_json IS DISTINCT FROM j.body;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION cairn_trace_metadata_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) AND xmin <> cairn_own_xid() ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET metadata_json = j.body
    FROM (SELECT c.trace_id, (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}'
                               FROM trace_metadata kv WHERE kv.trace_id = c.trace_id) AS body
            FROM (SELECT DISTINCT trace_id FROM changed) c) j
    WHERE t.trace_id = j.trace_id AND t.metadata_json IS DISTINCT FROM j.body;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Room in each page for the rows' new versions, so that the triggers' updates (which touch no
-- indexed column) stay on the page (HOT) instead of adding an entry to each of the table's indexes.
ALTER TABLE traces SET (fillfactor = 80);
--> statement-breakpoint
UPDATE traces t SET
  tags_json = (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}' FROM trace_tags kv WHERE kv.trace_id = t.trace_id AND kv.key <> 'mlflow.artifactLocation'),
  metadata_json = (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}' FROM trace_metadata kv WHERE kv.trace_id = t.trace_id);
--> statement-breakpoint
CREATE TRIGGER trace_tags_json_ins AFTER INSERT ON trace_tags REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_tags_json();
--> statement-breakpoint
CREATE TRIGGER trace_tags_json_upd AFTER UPDATE ON trace_tags REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_tags_json();
--> statement-breakpoint
CREATE TRIGGER trace_tags_json_del AFTER DELETE ON trace_tags REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_tags_json();
--> statement-breakpoint
CREATE TRIGGER trace_metadata_json_ins AFTER INSERT ON trace_metadata REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_metadata_json();
--> statement-breakpoint
CREATE TRIGGER trace_metadata_json_upd AFTER UPDATE ON trace_metadata REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_metadata_json();
--> statement-breakpoint
CREATE TRIGGER trace_metadata_json_del AFTER DELETE ON trace_metadata REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_trace_metadata_json();
