CREATE TABLE "team_experiment_shares" (
	"team_id" bigint NOT NULL,
	"experiment_id" bigint NOT NULL,
	"permission" text NOT NULL,
	CONSTRAINT "team_experiment_shares_team_id_experiment_id_pk" PRIMARY KEY("team_id","experiment_id")
);
--> statement-breakpoint
CREATE TABLE "team_model_shares" (
	"team_id" bigint NOT NULL,
	"registered_model_id" bigint NOT NULL,
	"permission" text NOT NULL,
	CONSTRAINT "team_model_shares_team_id_registered_model_id_pk" PRIMARY KEY("team_id","registered_model_id")
);
--> statement-breakpoint
CREATE TABLE "team_models" (
	"registered_model_id" bigint PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "team_experiment_shares" ADD CONSTRAINT "team_experiment_shares_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_experiment_shares" ADD CONSTRAINT "team_experiment_shares_experiment_id_experiments_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("experiment_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_model_shares" ADD CONSTRAINT "team_model_shares_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_model_shares" ADD CONSTRAINT "team_model_shares_registered_model_id_registered_models_id_fk" FOREIGN KEY ("registered_model_id") REFERENCES "public"."registered_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_models" ADD CONSTRAINT "team_models_registered_model_id_registered_models_id_fk" FOREIGN KEY ("registered_model_id") REFERENCES "public"."registered_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_models" ADD CONSTRAINT "team_models_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "team_experiment_shares_experiment_idx" ON "team_experiment_shares" USING btree ("experiment_id");--> statement-breakpoint
CREATE INDEX "team_model_shares_model_idx" ON "team_model_shares" USING btree ("registered_model_id");--> statement-breakpoint
CREATE INDEX "team_models_team_idx" ON "team_models" USING btree ("team_id");