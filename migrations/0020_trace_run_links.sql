CREATE TABLE "trace_run_links" (
	"trace_id" text NOT NULL,
	"run_id" text NOT NULL,
	CONSTRAINT "trace_run_links_trace_id_run_id_pk" PRIMARY KEY("trace_id","run_id")
);
--> statement-breakpoint
ALTER TABLE "trace_run_links" ADD CONSTRAINT "trace_run_links_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trace_run_links" ADD CONSTRAINT "trace_run_links_run_id_runs_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("run_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "trace_run_links_run_idx" ON "trace_run_links" USING btree ("run_id");