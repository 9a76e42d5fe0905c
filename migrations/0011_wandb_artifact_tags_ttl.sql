ALTER TABLE "wandb_artifacts" ADD COLUMN "tags" text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "wandb_artifacts" ADD COLUMN "ttl_seconds" bigint;