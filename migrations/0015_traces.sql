CREATE TABLE "assessments" (
	"assessment_id" text PRIMARY KEY NOT NULL,
	"trace_id" text NOT NULL,
	"body" jsonb NOT NULL,
	"create_time" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trace_metadata" (
	"trace_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "trace_metadata_trace_id_key_pk" PRIMARY KEY("trace_id","key")
);
--> statement-breakpoint
CREATE TABLE "trace_tags" (
	"trace_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "trace_tags_trace_id_key_pk" PRIMARY KEY("trace_id","key")
);
--> statement-breakpoint
CREATE TABLE "traces" (
	"trace_id" text PRIMARY KEY NOT NULL,
	"experiment_id" bigint NOT NULL,
	"client_request_id" text,
	"request_time" bigint NOT NULL,
	"execution_duration" bigint,
	"state" text NOT NULL,
	"request_preview" text,
	"response_preview" text,
	"artifact_location" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trace_metadata" ADD CONSTRAINT "trace_metadata_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trace_tags" ADD CONSTRAINT "trace_tags_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traces" ADD CONSTRAINT "traces_experiment_id_experiments_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("experiment_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assessments_trace_idx" ON "assessments" USING btree ("trace_id","create_time");--> statement-breakpoint
CREATE INDEX "traces_experiment_time_idx" ON "traces" USING btree ("experiment_id","request_time" DESC NULLS LAST,"trace_id");--> statement-breakpoint
CREATE INDEX "traces_experiment_state_idx" ON "traces" USING btree ("experiment_id","state");