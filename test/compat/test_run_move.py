"""Moving a run between projects (docs/teams.md#moving-runs) with the real wandb and mlflow clients.

bob logs a W&B run (config, history, summary, a file) to his own project and moves it into his
team's project with Cairn's endpoint (he manages the source, the team's member role gives EDIT on
the destination). Afterwards wandb's public API reads it at `team/dst/<id>` and no longer at
`bob/src/<id>`, and mlflow's client sees the new experiment with the same metric history and
artifacts. carol, not in the team, and bob on a run of the team's project he only edits, are
refused, and nothing moves.
"""

from __future__ import annotations

import json
import uuid

import mlflow
import requests

from test_auth import ADMIN, ADMIN_PASSWORD, auth_server, login  # noqa: F401 (fixtures)
from test_teams import envs, three  # noqa: F401 (fixture)
from test_wandb import run_python

LOG = """
    import json, sys
    import wandb
    entity, project, out = sys.argv[1:4]
    run = wandb.init(entity=entity, project=project, config={"lr": 0.1, "layers": 3})
    for i in range(3):
        wandb.log({"loss": 1.0 / (i + 1)})
    run.summary["best"] = 0.9
    with open("notes.txt", "w") as f:
        f.write("moved with me")
    wandb.save("notes.txt", policy="now")
    json.dump({"id": run.id}, open(out, "w"))
    run.finish()
"""

READ = """
    import json, sys
    import wandb
    new_path, old_path, out = sys.argv[1:4]
    api = wandb.Api(timeout=60)
    run = api.run(new_path)
    res = {
        "path": run.path,
        "config": {k: run.config[k] for k in ("lr", "layers")},
        "summary_best": run.summary.get("best"),
        "loss": [row["loss"] for row in run.scan_history(keys=["loss"])],
        "file": run.file("notes.txt").download(root="dl", replace=True).read(),
        "listed": [r.id for r in api.runs("/".join(new_path.split("/")[:2]))],
    }
    try:
        wandb.Api(timeout=60).run(old_path)
        res["old"] = "found"
    except Exception as e:
        res["old"] = type(e).__name__ + ": " + str(e)[:500]
    json.dump(res, open(out, "w"))
"""


def test_move_a_wandb_run_into_a_team_project(auth_server, login, three, tmp_path):
    alice, bob, carol = three
    url = auth_server.url
    (a_dir, a_env), (b_dir, b_env), (c_dir, c_env) = envs(tmp_path, url, alice, bob, carol)
    team = f"team-{uuid.uuid4().hex[:8]}"
    src, dst = f"src-{uuid.uuid4().hex[:8]}", f"dst-{uuid.uuid4().hex[:8]}"

    def call(who, path, body):
        return requests.post(f"{url}/api/2.0/cairn/{path}", json=body, auth=(who, f"{who}-pw"), timeout=30)

    assert call(alice, "teams/create", {"name": team}).status_code == 200
    assert call(alice, "teams/members/set", {"team": team, "username": bob, "role": "member"}).status_code == 200

    # alice creates the team's project; bob logs a run to his own project.
    done = run_python(a_dir, a_env, LOG, team, dst, str(a_dir / "run.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    team_run = json.loads((a_dir / "run.json").read_text())["id"]
    done = run_python(b_dir, b_env, LOG, bob, src, str(b_dir / "run.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    wb_id = json.loads((b_dir / "run.json").read_text())["id"]

    login(bob, f"{bob}-pw")
    client = mlflow.MlflowClient()
    src_id = client.get_experiment_by_name(src).experiment_id
    dst_id = client.get_experiment_by_name(dst).experiment_id
    [run] = mlflow.search_runs([src_id], filter_string=f"tags.`wandb.run_id` = '{wb_id}'", output_format="list")
    run_id = run.info.run_id
    client.log_text(run_id, "weights", "model/w.txt")
    [team_mlflow_run] = mlflow.search_runs([dst_id], filter_string=f"tags.`wandb.run_id` = '{team_run}'", output_format="list")

    # Refused, nothing moves: carol (not in the team, READ by the server's default) on bob's run;
    # bob (member: EDIT, not MANAGE) taking a run out of the team's project.
    refused = call(carol, "runs/move", {"run_id": run_id, "experiment_id": dst_id})
    assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED", refused.text
    refused = call(bob, "runs/move", {"run_id": team_mlflow_run.info.run_id, "experiment_id": src_id})
    assert refused.status_code == 403 and "manage access" in refused.json()["message"], refused.text
    assert client.get_run(run_id).info.experiment_id == src_id
    assert client.get_run(team_mlflow_run.info.run_id).info.experiment_id == dst_id

    # bob moves his run into the team's project; a retry answers the same.
    moved = call(bob, "runs/move", {"run_id": run_id, "experiment_id": dst_id})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"experiment_id": dst_id, "entity": team, "project": dst}
    assert call(bob, "runs/move", {"run_id": run_id, "experiment_id": dst_id}).json() == moved.json()

    # wandb reads it at its new path only, as bob and as carol (the server's default READ).
    for d, env in ((b_dir, b_env), (c_dir, c_env)):
        out = d / "read.json"
        done = run_python(d, env, READ, f"{team}/{dst}/{wb_id}", f"{bob}/{src}/{wb_id}", str(out))
        assert done.returncode == 0, done.stderr[-3000:]
        res = json.loads(out.read_text())
        assert res["path"] == [team, dst, wb_id]
        assert res["config"] == {"lr": 0.1, "layers": 3}
        assert res["summary_best"] == 0.9
        assert res["loss"] == [1.0, 0.5, 1.0 / 3]
        assert res["file"] == "moved with me"
        assert sorted(res["listed"]) == sorted([team_run, wb_id])
        # The client's own not-found (wandb wraps its RunNotFoundError in a CommError).
        assert "Could not find run" in res["old"], res["old"]

    # mlflow: the new experiment, the same history, params and artifacts; the W&B tags follow.
    got = client.get_run(run_id)
    assert got.info.experiment_id == dst_id
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [1.0, 0.5, 1.0 / 3]
    assert got.data.params["lr"] == "0.1"
    assert (got.data.tags["wandb.entity"], got.data.tags["wandb.project"]) == (team, dst)
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/model/w.txt") == "weights"
    assert [r.info.run_id for r in mlflow.search_runs([src_id], output_format="list")] == []
