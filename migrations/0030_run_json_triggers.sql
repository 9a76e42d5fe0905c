-- Every write to what a run's JSON holds (src/domain/run-read.ts) clears the run's cached body in
-- run_json and records the writing transaction, so that a reader never stores a body built from a
-- snapshot that missed that write (src/domain/run-cache.ts). Done by triggers rather than by each
-- writer so that no writer (MLflow, W&B, import, deletion, one added later) can forget it. Statement
-- triggers with transition tables: one UPDATE per statement, whatever its rows (a log-batch of 1,000
-- metrics of one run touches one run_json row), and a second write in the same transaction changes
-- nothing. Every run has its row (made with the run, and below for the runs before this migration),
-- so readers only ever update rows, and a deleted run's row goes with it (ON DELETE CASCADE).
-- A run's id never changes, so an UPDATE's new rows name the runs it touched.
CREATE FUNCTION cairn_run_json_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE run_json SET body = NULL, dirty_xid = pg_current_xact_id()
    WHERE run_id IN (SELECT run_id FROM changed)
      AND (body IS NOT NULL OR dirty_xid IS DISTINCT FROM pg_current_xact_id());
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A dataset's own columns are part of each run's JSON that uses it (never updated today).
CREATE FUNCTION cairn_run_json_dirty_dataset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE run_json SET body = NULL, dirty_xid = pg_current_xact_id()
    WHERE run_id IN (SELECT i.run_id FROM changed c JOIN run_dataset_inputs i ON i.dataset_id = c.dataset_id)
      AND (body IS NOT NULL OR dirty_xid IS DISTINCT FROM pg_current_xact_id());
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION cairn_run_json_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_json (run_id, dirty_xid) SELECT run_id, pg_current_xact_id() FROM changed ON CONFLICT (run_id) DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
INSERT INTO run_json (run_id) SELECT run_id FROM runs ON CONFLICT (run_id) DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER runs_run_json_ins AFTER INSERT ON runs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_new();
--> statement-breakpoint
CREATE TRIGGER runs_run_json_upd AFTER UPDATE ON runs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER params_run_json_ins AFTER INSERT ON params REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER params_run_json_upd AFTER UPDATE ON params REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER params_run_json_del AFTER DELETE ON params REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_tags_run_json_ins AFTER INSERT ON run_tags REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_tags_run_json_upd AFTER UPDATE ON run_tags REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_tags_run_json_del AFTER DELETE ON run_tags REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER latest_metrics_run_json_ins AFTER INSERT ON latest_metrics REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER latest_metrics_run_json_upd AFTER UPDATE ON latest_metrics REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER latest_metrics_run_json_del AFTER DELETE ON latest_metrics REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_dataset_inputs_run_json_ins AFTER INSERT ON run_dataset_inputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_dataset_inputs_run_json_upd AFTER UPDATE ON run_dataset_inputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_dataset_inputs_run_json_del AFTER DELETE ON run_dataset_inputs REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_inputs_run_json_ins AFTER INSERT ON run_model_inputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_inputs_run_json_upd AFTER UPDATE ON run_model_inputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_inputs_run_json_del AFTER DELETE ON run_model_inputs REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_outputs_run_json_ins AFTER INSERT ON run_model_outputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_outputs_run_json_upd AFTER UPDATE ON run_model_outputs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER run_model_outputs_run_json_del AFTER DELETE ON run_model_outputs REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty();
--> statement-breakpoint
CREATE TRIGGER datasets_run_json_upd AFTER UPDATE ON datasets REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty_dataset();
--> statement-breakpoint
CREATE TRIGGER datasets_run_json_del AFTER DELETE ON datasets REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cairn_run_json_dirty_dataset();
