CREATE TABLE "wandb_artifact_links" (
	"collection_id" bigint NOT NULL,
	"artifact_id" bigint NOT NULL,
	"version_index" integer NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "wandb_artifact_links_collection_id_artifact_id_pk" PRIMARY KEY("collection_id","artifact_id"),
	CONSTRAINT "wandb_artifact_links_version" UNIQUE("collection_id","version_index")
);
--> statement-breakpoint
ALTER TABLE "wandb_artifact_collections" ADD COLUMN "portfolio" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "wandb_artifact_files" ADD COLUMN "ref" text;--> statement-breakpoint
ALTER TABLE "wandb_artifacts" ADD COLUMN "manifest_type" text;--> statement-breakpoint
ALTER TABLE "wandb_artifacts" ADD COLUMN "base_artifact_id" bigint;--> statement-breakpoint
ALTER TABLE "wandb_artifact_links" ADD CONSTRAINT "wandb_artifact_links_collection_id_wandb_artifact_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."wandb_artifact_collections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wandb_artifact_links" ADD CONSTRAINT "wandb_artifact_links_artifact_id_wandb_artifacts_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."wandb_artifacts"("id") ON DELETE cascade ON UPDATE no action;