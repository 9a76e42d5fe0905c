-- W&B namespaces (docs/teams.md#namespaces): before them an entity was a label on each run and
-- every entity's project `p` was the one experiment `p`. Each entity that logged runs or sweeps
-- into a project, and each team that owns one, keeps that experiment as its project `p`, so old
-- runs are found under every path they were logged with.
INSERT INTO "wandb_projects" ("entity", "name", "experiment_id")
SELECT DISTINCT w."entity", w."project", w."experiment_id" FROM "wandb_runs" w
JOIN "experiments" e ON e."experiment_id" = w."experiment_id" AND e."name" = w."project"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "wandb_projects" ("entity", "name", "experiment_id")
SELECT DISTINCT s."entity", s."project", s."experiment_id" FROM "wandb_sweeps" s
JOIN "experiments" e ON e."experiment_id" = s."experiment_id" AND e."name" = s."project"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "wandb_projects" ("entity", "name", "experiment_id")
SELECT t."name", e."name", e."experiment_id" FROM "team_experiments" te
JOIN "teams" t ON t."id" = te."team_id"
JOIN "experiments" e ON e."experiment_id" = te."experiment_id"
ON CONFLICT DO NOTHING;
