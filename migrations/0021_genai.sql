CREATE TABLE "evaluation_dataset_experiments" (
	"dataset_id" text NOT NULL,
	"experiment_id" bigint NOT NULL,
	CONSTRAINT "evaluation_dataset_experiments_dataset_id_experiment_id_pk" PRIMARY KEY("dataset_id","experiment_id")
);
--> statement-breakpoint
CREATE TABLE "evaluation_dataset_records" (
	"dataset_record_id" text PRIMARY KEY NOT NULL,
	"dataset_id" text NOT NULL,
	"input_hash" text NOT NULL,
	"inputs" text NOT NULL,
	"outputs" text,
	"expectations" text,
	"tags" text,
	"source" text,
	"source_id" text,
	"source_type" text,
	"created_time" bigint NOT NULL,
	"last_update_time" bigint NOT NULL,
	"created_by" text,
	"last_updated_by" text
);
--> statement-breakpoint
CREATE TABLE "evaluation_dataset_tags" (
	"dataset_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "evaluation_dataset_tags_dataset_id_key_pk" PRIMARY KEY("dataset_id","key")
);
--> statement-breakpoint
CREATE TABLE "evaluation_datasets" (
	"dataset_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"digest" text NOT NULL,
	"schema" text,
	"profile" text,
	"created_time" bigint NOT NULL,
	"last_update_time" bigint NOT NULL,
	"created_by" text,
	"last_updated_by" text
);
--> statement-breakpoint
CREATE TABLE "scorer_versions" (
	"scorer_id" text NOT NULL,
	"scorer_version" integer NOT NULL,
	"serialized_scorer" text NOT NULL,
	"creation_time" bigint NOT NULL,
	CONSTRAINT "scorer_versions_scorer_id_scorer_version_pk" PRIMARY KEY("scorer_id","scorer_version")
);
--> statement-breakpoint
CREATE TABLE "scorers" (
	"scorer_id" text PRIMARY KEY NOT NULL,
	"experiment_id" bigint NOT NULL,
	"scorer_name" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "evaluation_dataset_experiments" ADD CONSTRAINT "evaluation_dataset_experiments_dataset_id_evaluation_datasets_dataset_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."evaluation_datasets"("dataset_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_dataset_experiments" ADD CONSTRAINT "evaluation_dataset_experiments_experiment_id_experiments_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("experiment_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_dataset_records" ADD CONSTRAINT "evaluation_dataset_records_dataset_id_evaluation_datasets_dataset_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."evaluation_datasets"("dataset_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_dataset_tags" ADD CONSTRAINT "evaluation_dataset_tags_dataset_id_evaluation_datasets_dataset_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."evaluation_datasets"("dataset_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scorer_versions" ADD CONSTRAINT "scorer_versions_scorer_id_scorers_scorer_id_fk" FOREIGN KEY ("scorer_id") REFERENCES "public"."scorers"("scorer_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scorers" ADD CONSTRAINT "scorers_experiment_id_experiments_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("experiment_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "evaluation_dataset_experiments_exp_idx" ON "evaluation_dataset_experiments" USING btree ("experiment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "evaluation_dataset_records_input_idx" ON "evaluation_dataset_records" USING btree ("dataset_id","input_hash");--> statement-breakpoint
CREATE INDEX "evaluation_dataset_records_order_idx" ON "evaluation_dataset_records" USING btree ("dataset_id","created_time","dataset_record_id");--> statement-breakpoint
CREATE UNIQUE INDEX "scorers_experiment_name_idx" ON "scorers" USING btree ("experiment_id","scorer_name");