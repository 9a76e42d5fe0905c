DROP INDEX "params_key_value_idx";--> statement-breakpoint
DROP INDEX "run_tags_key_value_idx";--> statement-breakpoint
CREATE INDEX "params_key_value_idx" ON "params" USING btree ("key","value" COLLATE "C");--> statement-breakpoint
CREATE INDEX "run_tags_key_value_idx" ON "run_tags" USING btree ("key","value" COLLATE "C");