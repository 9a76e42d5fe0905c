DROP INDEX "traces_experiment_state_idx";--> statement-breakpoint
CREATE INDEX "trace_metadata_key_value_idx" ON "trace_metadata" USING btree ("key",left("value", 200));--> statement-breakpoint
CREATE INDEX "trace_tags_key_value_idx" ON "trace_tags" USING btree ("key",left("value", 200));--> statement-breakpoint
CREATE INDEX "traces_experiment_duration_idx" ON "traces" USING btree ("experiment_id","execution_duration" DESC NULLS LAST,"request_time" DESC NULLS LAST,"trace_id");--> statement-breakpoint
CREATE INDEX "traces_experiment_state_idx" ON "traces" USING btree ("experiment_id","state","request_time" DESC NULLS LAST,"trace_id");