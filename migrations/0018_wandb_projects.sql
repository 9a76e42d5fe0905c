CREATE TABLE "wandb_projects" (
	"entity" text NOT NULL,
	"name" text NOT NULL,
	"experiment_id" bigint NOT NULL,
	CONSTRAINT "wandb_projects_entity_name_pk" PRIMARY KEY("entity","name")
);
--> statement-breakpoint
ALTER TABLE "wandb_projects" ADD CONSTRAINT "wandb_projects_experiment_id_experiments_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("experiment_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "wandb_projects_experiment_idx" ON "wandb_projects" USING btree ("experiment_id");