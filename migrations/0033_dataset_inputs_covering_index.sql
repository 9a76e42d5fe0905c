DROP INDEX "run_dataset_inputs_dataset_idx";--> statement-breakpoint
CREATE INDEX "run_dataset_inputs_dataset_run_idx" ON "run_dataset_inputs" USING btree ("dataset_id","run_id");