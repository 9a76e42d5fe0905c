-- traces.tags_json and traces.metadata_json (0034) hold json_object_agg's text of each trace's
-- trace_tags and trace_metadata rows, keys in byte order, null for none: search_traces, get_trace
-- and the UI read them from the trace row instead of aggregating each trace's rows (docs/bench.md,
-- "Tags and metadata kept in the trace row"). Kept by statement triggers, as run_json is (0030), so
-- that no writer (StartTrace v2/v3, OTLP, set/delete tag, link-prompts, import) can forget them.
--
-- Each function first locks the trace rows (in id order, as writers of several traces do): under
-- READ COMMITTED the UPDATE after it then takes a snapshot that sees every transaction that wrote
-- these traces' tags and committed while this one waited. Without the lock, two transactions
-- tagging one trace at once could each store an aggregate missing the other's tag. The UPDATE skips
-- a trace whose text did not change (a retried write), which writes no new row version.
CREATE FUNCTION cairn_trace_tags_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET tags_json = j.body
    FROM (SELECT c.trace_id, (SELECT json_object_agg(kv.key, kv.value ORDER BY kv.key COLLATE "C")::text
                               FROM trace_tags kv WHERE kv.trace_id = c.trace_id) AS body
            FROM (SELECT DISTINCT trace_id FROM changed) c) j
    WHERE t.trace_id = j.trace_id AND t.tags_json IS DISTINCT FROM j.body;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION cairn_trace_metadata_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET metadata_json = j.body
    FROM (SELECT c.trace_id, (SELECT json_object_agg(kv.key, kv.value ORDER BY kv.key COLLATE "C")::text
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
  tags_json = (SELECT json_object_agg(kv.key, kv.value ORDER BY kv.key COLLATE "C")::text FROM trace_tags kv WHERE kv.trace_id = t.trace_id),
  metadata_json = (SELECT json_object_agg(kv.key, kv.value ORDER BY kv.key COLLATE "C")::text FROM trace_metadata kv WHERE kv.trace_id = t.trace_id);
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
