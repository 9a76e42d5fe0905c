ALTER TABLE "traces" ADD COLUMN "tags_json" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "metadata_json" text;