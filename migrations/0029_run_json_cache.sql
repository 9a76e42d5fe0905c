CREATE TABLE "run_json" (
	"run_id" text PRIMARY KEY NOT NULL,
	"body" text,
	"dirty_xid" "xid8"
);
--> statement-breakpoint
ALTER TABLE "run_json" ADD CONSTRAINT "run_json_run_id_runs_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("run_id") ON DELETE cascade ON UPDATE no action;