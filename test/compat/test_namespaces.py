"""W&B namespaces (docs/teams.md#namespaces) with the real wandb and mlflow clients, unchanged.

Two entities each log a project of the same name: the runs stay apart for the wandb client
(`api.runs("entity/p")`), and MLflow sees two experiments, `p` for the entity that used the name
first and `<entity>/p` for the other.
"""

from __future__ import annotations

import json
import uuid

import mlflow

from test_wandb import make_wandb_env, run_python, wandb_key  # noqa: F401 (fixture)

LOG = """
    import json, sys
    import wandb
    entity, project, value, out = sys.argv[1:5]
    run = wandb.init(entity=entity, project=project, config={"who": entity})
    wandb.log({"loss": float(value)})
    json.dump({"id": run.id, "entity": run.entity, "project": run.project}, open(out, "w"))
    run.finish()
"""

READ = """
    import json, sys
    import wandb
    out, project = sys.argv[1], sys.argv[2]
    api = wandb.Api(timeout=60)
    res = {}
    for entity in sys.argv[3:]:
        runs = api.runs(f"{entity}/{project}")
        res[entity] = {
            "runs": sorted((r.id, r.config.get("who"), r.summary.get("loss")) for r in runs),
            "projects": sorted(p.name for p in api.projects(entity)),
        }
        one = api.run(f"{entity}/{project}/{runs[0].id}")
        res[entity]["one"] = one.config.get("who")
    json.dump(res, open(out, "w"))
"""


def test_two_entities_keep_their_own_project(tmp_path, cairn_server, wandb_key, client):
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = f"ns-{uuid.uuid4().hex[:10]}"
    first, second = f"lab-{uuid.uuid4().hex[:6]}", f"team-{uuid.uuid4().hex[:6]}"
    logged = {}
    for entity, value in ((first, "1.5"), (second, "2.5")):
        out = tmp_path / f"{entity}.json"
        res = run_python(tmp_path, env, LOG, entity, project, value, str(out))
        assert res.returncode == 0, res.stderr[-3000:]
        logged[entity] = json.loads(out.read_text())
        assert logged[entity]["entity"] == entity and logged[entity]["project"] == project

    out = tmp_path / "read.json"
    res = run_python(tmp_path, env, READ, str(out), project, first, second)
    assert res.returncode == 0, res.stderr[-3000:]
    read = json.loads(out.read_text())
    assert read[first]["runs"] == [[logged[first]["id"], first, 1.5]]
    assert read[second]["runs"] == [[logged[second]["id"], second, 2.5]]
    assert read[first]["one"] == first and read[second]["one"] == second
    assert project in read[first]["projects"] and project in read[second]["projects"]

    # MLflow: the first entity's project is the experiment `p`, the other's is `<entity>/p`.
    plain = client.get_experiment_by_name(project)
    spaced = client.get_experiment_by_name(f"{second}/{project}")
    assert plain is not None and spaced is not None and plain.experiment_id != spaced.experiment_id
    by_exp = {
        e.experiment_id: [(r.data.tags.get("wandb.entity"), r.data.metrics.get("loss")) for r in client.search_runs([e.experiment_id])]
        for e in (plain, spaced)
    }
    assert by_exp[plain.experiment_id] == [(first, 1.5)]
    assert by_exp[spaced.experiment_id] == [(second, 2.5)]

    # Workspace-style filtering with MLflow's own search.
    listed = [e.name for e in mlflow.search_experiments(filter_string=f"name LIKE '{second}/%'")]
    assert listed == [f"{second}/{project}"]
    found = mlflow.search_runs(search_all_experiments=True, filter_string=f"tags.`wandb.entity` = '{second}'", output_format="list")
    assert [r.info.experiment_id for r in found] == [spaced.experiment_id]

    # An MLflow user logging to the namespaced experiment shows up in that entity's project.
    mlflow.set_experiment(f"{second}/{project}")
    with mlflow.start_run(run_name="from-mlflow"):
        mlflow.log_metric("loss", 0.5)
    assert len(client.search_runs([spaced.experiment_id])) == 2
    assert len(client.search_runs([plain.experiment_id])) == 1


def test_mlflow_experiment_is_claimed_by_its_first_wandb_entity(tmp_path, cairn_server, wandb_key, client):
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = f"ns-mlflow-{uuid.uuid4().hex[:8]}"
    exp_id = client.create_experiment(project)
    entity = f"lab-{uuid.uuid4().hex[:6]}"
    out = tmp_path / "log.json"
    res = run_python(tmp_path, env, LOG, entity, project, "3.0", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    runs = client.search_runs([exp_id])
    assert [(r.data.tags.get("wandb.entity"), r.data.metrics.get("loss")) for r in runs] == [(entity, 3.0)]
