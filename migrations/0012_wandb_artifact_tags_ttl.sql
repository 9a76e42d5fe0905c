ALTER TABLE "wandb_artifact_collections" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "wandb_artifact_collections" ADD COLUMN "tags" text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "wandb_artifact_collections" ADD COLUMN "updated_at" bigint;--> statement-breakpoint
ALTER TABLE "wandb_artifacts" ADD COLUMN "tags" text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "wandb_artifacts" ADD COLUMN "ttl_seconds" bigint;