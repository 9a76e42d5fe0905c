CREATE TABLE "trace_prompt_links" (
	"trace_id" text NOT NULL,
	"prompt" text NOT NULL,
	CONSTRAINT "trace_prompt_links_trace_id_prompt_pk" PRIMARY KEY("trace_id","prompt")
);
--> statement-breakpoint
ALTER TABLE "trace_prompt_links" ADD CONSTRAINT "trace_prompt_links_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "trace_prompt_links_prompt_idx" ON "trace_prompt_links" USING btree ("prompt");