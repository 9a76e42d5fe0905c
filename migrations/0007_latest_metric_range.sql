ALTER TABLE "latest_metrics" ADD COLUMN "min_value" double precision;--> statement-breakpoint
ALTER TABLE "latest_metrics" ADD COLUMN "max_value" double precision;