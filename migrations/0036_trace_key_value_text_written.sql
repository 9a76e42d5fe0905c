-- The triggers of 0035 skip their work in a transaction that set `cairn.kv_text_written` (with
-- set_config(..., true), so for that transaction only): its writer stored each trace row's
-- tags_json and metadata_json as they will stand after its writes to trace_tags and
-- trace_metadata, holding those traces' row locks. OTLP ingestion does (src/domain/traces/otlp-batch.ts);
-- aggregating the rows again was a quarter of a batch's database time (docs/bench.md). The
-- bodies are otherwise those of 0035.
CREATE OR REPLACE FUNCTION cairn_trace_tags_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('cairn.kv_text_written', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) AND xmin <> cairn_own_xid() ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET tags_json = j.body
    FROM (SELECT c.trace_id, (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}'
                               FROM trace_tags kv WHERE kv.trace_id = c.trace_id AND kv.key <> 'mlflow.artifactLocation') AS body
            FROM (SELECT DISTINCT trace_id FROM changed) c) j
    WHERE t.trace_id = j.trace_id AND t.tags_json IS DISTINCT FROM j.body;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_trace_metadata_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('cairn.kv_text_written', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM 1 FROM traces WHERE trace_id IN (SELECT trace_id FROM changed) AND xmin <> cairn_own_xid() ORDER BY trace_id FOR UPDATE;
  UPDATE traces t SET metadata_json = j.body
    FROM (SELECT c.trace_id, (SELECT '{' || string_agg(to_json(kv.key)::text || ':' || to_json(kv.value)::text, ',' ORDER BY kv.key COLLATE "C") || '}'
                               FROM trace_metadata kv WHERE kv.trace_id = c.trace_id) AS body
            FROM (SELECT DISTINCT trace_id FROM changed) c) j
    WHERE t.trace_id = j.trace_id AND t.metadata_json IS DISTINCT FROM j.body;
  RETURN NULL;
END $$;
