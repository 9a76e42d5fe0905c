"""Teams (docs/teams.md) with the real wandb 0.31.0 client, unchanged: three users, two teams.

A user's default entity (W&B's viewer.entity): wandb.init() without an entity logs into the team
chosen with Cairn's API, and the project lands in that entity's namespace; a viewer may not choose
a team they cannot log into. run.delete(delete_artifacts=True) deletes the artifact versions the run
logged (without it they stay), and MLflow sees the run deleted. The activity record names who created a run and changed it, from
either client.
"""

from __future__ import annotations

import json
import uuid

import mlflow
import requests

from test_auth import ADMIN, ADMIN_PASSWORD, auth_server, login, new_key  # noqa: F401 (fixtures)
from test_teams import envs, three  # noqa: F401 (fixture)
from test_wandb import run_python

LOG_WITHOUT_ENTITY = """
    import json, sys
    import wandb
    project, out = sys.argv[1:3]
    api = wandb.Api(timeout=60)
    res = {"default_entity": api.default_entity, "viewer_entity": api.viewer.entity}
    run = wandb.init(project=project)
    wandb.log({"loss": 0.5})
    res.update(id=run.id, entity=run.entity)
    run.finish()
    json.dump(res, open(out, "w"))
"""

LOG_WITH_ARTIFACT = """
    import json, sys
    import wandb
    entity, project, name, out = sys.argv[1:5]
    run = wandb.init(entity=entity, project=project)
    art = wandb.Artifact(name, type="dataset")
    with art.new_file("data.txt") as f:
        f.write("hello")
    run.log_artifact(art, aliases=["best"])
    run.finish()
    json.dump({"id": run.id}, open(out, "w"))
"""

UPDATE_NOTES = """
    import sys
    import wandb
    path = sys.argv[1]
    run = wandb.Api(timeout=60).run(path)
    run.notes = "reviewed"
    run.update()
"""

DELETE_RUN = """
    import json, sys
    import wandb
    entity, project, run_id, name, flag, out = sys.argv[1:7]
    api = wandb.Api(timeout=60)
    api.run(f"{entity}/{project}/{run_id}").delete(delete_artifacts=flag == "yes")
    try:
        wandb.Api(timeout=60).artifact(f"{entity}/{project}/{name}:v0")
        res = {"artifact": "kept"}
    except Exception as e:
        res = {"artifact": "gone", "error": str(e)[:300]}
    json.dump(res, open(out, "w"))
"""


def post(url, path, who, body):
    return requests.post(f"{url}/api/2.0/cairn/{path}", json=body, auth=(who, f"{who}-pw"), timeout=30)


def test_default_entity_and_delete_artifacts(auth_server, login, three, tmp_path):
    alice, bob, carol = three
    (a_dir, a_env), (b_dir, b_env), (c_dir, c_env) = envs(tmp_path, auth_server.url, alice, bob, carol)
    vision, audio = f"vision-{uuid.uuid4().hex[:6]}", f"audio-{uuid.uuid4().hex[:6]}"
    project = f"defproj-{uuid.uuid4().hex[:8]}"
    url = auth_server.url
    assert post(url, "teams/create", alice, {"name": vision}).status_code == 200
    assert post(url, "teams/members/set", alice, {"team": vision, "username": bob, "role": "member"}).status_code == 200
    assert post(url, "teams/members/set", alice, {"team": vision, "username": carol, "role": "viewer"}).status_code == 200
    assert post(url, "teams/create", carol, {"name": audio}).status_code == 200

    # A default is one's own name or a team one logs into: a viewer, or a stranger, is refused.
    r = post(url, "users/default-entity", carol, {"entity": vision})
    assert r.status_code == 400 and "viewer" in r.json()["message"], r.text
    r = post(url, "users/default-entity", bob, {"entity": audio})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text
    assert post(url, "users/default-entity", bob, {"entity": vision}).json() == {"default_entity": vision}
    assert post(url, "users/default-entity", carol, {"entity": audio}).json() == {"default_entity": audio}
    got = requests.get(f"{url}/api/2.0/cairn/users/default-entity", auth=(bob, f"{bob}-pw"), timeout=30).json()
    assert got == {"default_entity": vision}

    # wandb.init() without an entity logs into the default: bob's run goes to the team, carol's to
    # hers; the same project name is two projects (the second is MLflow's `<entity>/<project>`).
    results = {}
    for who, d, env in ((bob, b_dir, b_env), (carol, c_dir, c_env)):
        o = d / "default.json"
        done = run_python(d, env, LOG_WITHOUT_ENTITY, project, str(o))
        assert done.returncode == 0, done.stderr[-3000:]
        results[who] = json.loads(o.read_text())
    assert results[bob]["default_entity"] == results[bob]["viewer_entity"] == results[bob]["entity"] == vision
    assert results[carol]["entity"] == audio
    login(alice, f"{alice}-pw")
    team_exp = mlflow.get_experiment_by_name(project)
    runs = mlflow.search_runs([team_exp.experiment_id], output_format="list")
    assert [r.data.tags["wandb.run_id"] for r in runs] == [results[bob]["id"]]
    assert runs[0].data.tags["wandb.entity"] == vision
    login(carol, f"{carol}-pw")
    assert mlflow.get_experiment_by_name(f"{audio}/{project}") is not None

    # The activity record: bob created the run (wandb), alice changed its notes with run.update()
    # (wandb's public API) and set a tag with MLflow.
    done = run_python(a_dir, a_env, UPDATE_NOTES, f"{vision}/{project}/{results[bob]['id']}")
    assert done.returncode == 0, done.stderr[-3000:]
    login(alice, f"{alice}-pw")
    mlflow.MlflowClient().set_tag(runs[0].info.run_id, "reviewed", "yes")
    act = requests.get(f"{url}/api/2.0/cairn/ui/runs/activity", params={"run_id": runs[0].info.run_id}, auth=(alice, f"{alice}-pw"), timeout=30).json()
    assert [(e["kind"], e["username"]) for e in act["events"]] == [("created", bob), ("notes", alice), ("tags", alice)]

    # Resetting goes back to the username.
    assert post(url, "users/default-entity", bob, {"entity": ""}).json() == {"default_entity": bob}

    # run.delete(delete_artifacts=True), by the team's admin: the run's artifact versions go too;
    # without the flag they stay.
    ids = {}
    for name in ("kept-data", "gone-data"):
        o = b_dir / f"{name}.json"
        done = run_python(b_dir, b_env, LOG_WITH_ARTIFACT, vision, project, name, str(o))
        assert done.returncode == 0, done.stderr[-3000:]
        ids[name] = json.loads(o.read_text())["id"]
    for name, flag, expect in (("kept-data", "no", "kept"), ("gone-data", "yes", "gone")):
        o = a_dir / f"del-{name}.json"
        done = run_python(a_dir, a_env, DELETE_RUN, vision, project, ids[name], name, flag, str(o))
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(o.read_text())["artifact"] == expect, o.read_text()
    login(alice, f"{alice}-pw")
    deleted = mlflow.search_runs([team_exp.experiment_id], run_view_type=mlflow.entities.ViewType.DELETED_ONLY, output_format="list")
    assert sorted(r.data.tags["wandb.run_id"] for r in deleted) == sorted(ids.values())
