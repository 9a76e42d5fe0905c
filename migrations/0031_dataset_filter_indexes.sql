CREATE INDEX "datasets_name_idx" ON "datasets" USING btree ("name");--> statement-breakpoint
CREATE INDEX "datasets_digest_idx" ON "datasets" USING btree ("digest");--> statement-breakpoint
CREATE INDEX "run_dataset_inputs_dataset_idx" ON "run_dataset_inputs" USING btree ("dataset_id");