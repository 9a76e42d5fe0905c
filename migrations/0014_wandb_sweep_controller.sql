ALTER TABLE "wandb_sweeps" ADD COLUMN "controller" text;--> statement-breakpoint
ALTER TABLE "wandb_sweeps" ADD COLUMN "scheduler" text;