CREATE TABLE "metric_blocks" (
	"run_id" text NOT NULL,
	"key" text NOT NULL,
	"block" bigint NOT NULL,
	"count" integer NOT NULL,
	"min_value" double precision,
	"max_value" double precision,
	"last_step" bigint NOT NULL,
	"last_timestamp" bigint NOT NULL,
	"last_value" double precision NOT NULL,
	CONSTRAINT "metric_blocks_run_id_key_block_pk" PRIMARY KEY("run_id","key","block")
);
--> statement-breakpoint
ALTER TABLE "latest_metrics" ADD COLUMN "blocks_ready" boolean DEFAULT false NOT NULL;