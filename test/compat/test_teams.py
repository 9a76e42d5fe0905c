"""Teams (docs/teams.md) with the real wandb and mlflow clients, unchanged: three users, one team.

alice founds the team through wandb's public API and invites bob (member) and carol (viewer, set
over Cairn's HTTP API since W&B's invite has only an admin flag). The team's roles become
permissions on the team's projects for both clients; a non-member is refused with the client's
own permission error and nothing is written. Then the public API's project and run management:
api.projects, api.project (whose runs are api.runs(project.path)), api.runs(order=...), run.update() and run.delete().
"""

from __future__ import annotations

import json
import uuid

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException

from test_auth import ADMIN, ADMIN_PASSWORD, auth_server, login, new_key  # noqa: F401 (fixtures)
from test_wandb import make_wandb_env, run_python


@pytest.fixture
def three(auth_server, login):
    login(ADMIN, ADMIN_PASSWORD)
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    made = []
    for who in ("alice", "bob", "carol"):
        name = f"{who}-{uuid.uuid4().hex[:8]}"
        app.create_user(name, f"{name}-pw")
        made.append(name)
    return tuple(made)


def envs(tmp_path, url, *names):
    out = []
    for n in names:
        d = tmp_path / n
        d.mkdir()
        out.append((d, make_wandb_env(d, url, new_key(url, n, f"{n}-pw"))))
    return out


FOUND_TEAM = """
    import json, sys
    import wandb
    team_name, bob, carol, out = sys.argv[1:5]
    api = wandb.Api(timeout=60)
    team = api.create_team(team_name)
    res = {"first": [(m.username, m.admin) for m in team.members]}
    res["invite_bob"] = team.invite(bob)
    res["invite_bob_again"] = team.invite(bob)
    res["invite_carol"] = team.invite(carol)
    team = api.team(team_name)
    res["members"] = sorted((m.username, m.admin) for m in team.members)
    res["attrs"] = {k: team._attrs[k] for k in ("available", "photoUrl", "readOnly", "isTeam")}
    res["viewer_teams"] = api.viewer.teams
    json.dump(res, open(out, "w"))
"""

LOG_TO_TEAM = """
    import json, sys
    import wandb
    team_name, project, out = sys.argv[1:4]
    run = wandb.init(entity=team_name, project=project, config={"lr": 0.1})
    for i in range(3):
        wandb.log({"loss": 1.0 / (i + 1)})
    json.dump({"id": run.id, "entity": run.entity}, open(out, "w"))
    run.finish()
"""

PUBLIC_API = """
    import json, sys
    import wandb
    team_name, project, out = sys.argv[1:4]
    api = wandb.Api(timeout=60)
    res = {"projects": sorted(p.name for p in api.projects(team_name))}
    p = api.project(project, team_name)
    # wandb 0.31's Project has no `.runs`: its runs are api.runs(project.path).
    res["project"] = [bool(p.id), p.path, p.created_at is not None]
    res["project_runs"] = sorted(r.id for r in api.runs("/".join(p.path)))
    res["asc"] = [r.id for r in api.runs(f"{team_name}/{project}", order="+created_at")]
    res["desc"] = [r.id for r in api.runs(f"{team_name}/{project}", order="-created_at")]
    run = api.run(f"{team_name}/{project}/{res['asc'][0]}")
    run.name = "renamed"
    run.notes = "what we tried"
    run.tags = ["a", "b"]
    run.group = "grp"
    run.update()
    again = api.run(f"{team_name}/{project}/{res['asc'][0]}")
    res["updated"] = [again.name, again.notes, sorted(again.tags), again.group]
    api.run(f"{team_name}/{project}/{res['asc'][1]}").delete()
    # A fresh Api: an Api caches the Runs it listed by path and order.
    res["after_delete"] = [r.id for r in wandb.Api(timeout=60).runs(f"{team_name}/{project}")]
    try:
        api.organization("nope")
        res["org"] = "found"
    except Exception as e:
        res["org"] = str(e)
    json.dump(res, open(out, "w"))
"""

READ_PROJECT = """
    import json, sys
    import wandb
    path, out = sys.argv[1:3]
    json.dump(sorted(r.id for r in wandb.Api(timeout=60).runs(path)), open(out, "w"))
"""

LEAVE = """
    import sys
    import wandb
    team_name, who = sys.argv[1:3]
    team = wandb.Api(timeout=60).team(team_name)
    [m] = [m for m in team.members if m.username == who]
    assert m.delete() is True
"""


def test_team_roles_for_both_clients_and_public_api(auth_server, login, three, tmp_path):
    alice, bob, carol = three
    (a_dir, a_env), (b_dir, b_env), (c_dir, c_env) = envs(tmp_path, auth_server.url, alice, bob, carol)
    team = f"team-{uuid.uuid4().hex[:8]}"
    project = f"teamproj-{uuid.uuid4().hex[:8]}"

    # 1. alice founds the team and invites bob and carol through wandb's public API.
    out = a_dir / "team.json"
    done = run_python(a_dir, a_env, FOUND_TEAM, team, bob, carol, str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(out.read_text())
    assert got["first"] == [[alice, True]]
    assert (got["invite_bob"], got["invite_bob_again"], got["invite_carol"]) == (True, False, True)
    assert got["members"] == sorted([[alice, True], [bob, False], [carol, False]])
    assert got["attrs"] == {"available": False, "photoUrl": None, "readOnly": False, "isTeam": True}
    assert got["viewer_teams"] == [team]

    # carol becomes a viewer (only a team admin may set roles: bob may not).
    r = requests.post(f"{auth_server.url}/api/2.0/cairn/teams/members/set", json={"team": team, "username": carol, "role": "viewer"}, auth=(bob, f"{bob}-pw"), timeout=30)
    assert r.status_code == 403, r.text
    r = requests.post(f"{auth_server.url}/api/2.0/cairn/teams/members/set", json={"team": team, "username": carol, "role": "viewer"}, auth=(alice, f"{alice}-pw"), timeout=30)
    assert r.status_code == 200, r.text
    r = requests.get(f"{auth_server.url}/api/2.0/cairn/teams/list", auth=(carol, f"{carol}-pw"), timeout=30)
    assert r.json()["teams"][0]["name"] == team and r.json()["teams"][0]["role"] == "viewer"

    # 2. alice (admin) creates the team's project by logging to it; bob (member) logs too: the
    #    server's default permission is READ, so his EDIT comes from the team.
    ids = []
    for d, env in ((a_dir, a_env), (b_dir, b_env)):
        o = d / "run.json"
        done = run_python(d, env, LOG_TO_TEAM, team, project, str(o))
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(o.read_text())["entity"] == team
        ids.append(json.loads(o.read_text())["id"])

    # 3. carol (viewer) cannot log into the team: the client's own error, nothing written.
    c_env["WANDB_INIT_TIMEOUT"] = "60"
    tried = run_python(c_dir, c_env, LOG_TO_TEAM, team, project, str(c_dir / "run.json"), timeout=300)
    assert tried.returncode != 0
    assert "Permission denied: edit access to team" in tried.stderr, tried.stderr[-3000:]
    # ... but reads the team's project.
    o = c_dir / "read.json"
    done = run_python(c_dir, c_env, READ_PROJECT, f"{team}/{project}", str(o))
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(o.read_text()) == sorted(ids)

    # The same roles through MLflow: bob (member) logs to the team's experiment, carol may not.
    login(bob, f"{bob}-pw")
    exp_id = mlflow.get_experiment_by_name(project).experiment_id
    client = mlflow.MlflowClient()
    run = client.create_run(exp_id)
    client.log_metric(run.info.run_id, "acc", 0.5)
    login(carol, f"{carol}-pw")
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        mlflow.MlflowClient().create_run(exp_id)
    assert mlflow.MlflowClient().get_run(run.info.run_id).data.metrics == {"acc": 0.5}
    login(bob, f"{bob}-pw")

    # 4. carol leaves the team (member.delete()); as a non-member she is refused by name.
    done = run_python(c_dir, c_env, LEAVE, team, carol)
    assert done.returncode == 0, done.stderr[-3000:]
    tried = run_python(c_dir, c_env, LOG_TO_TEAM, team, project, str(c_dir / "run.json"), timeout=300)
    assert tried.returncode != 0
    assert f"Permission denied: '{carol}' is not a member of team" in tried.stderr, tried.stderr[-3000:]
    assert not (c_dir / "run.json").exists()

    # 5. The public API on the team's project, as alice (who manages it).
    o = a_dir / "api.json"
    done = run_python(a_dir, a_env, PUBLIC_API, team, project, str(o))
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads(o.read_text())
    assert res["projects"] == [project]
    assert res["project"] == [True, [team, project], True]
    assert res["project_runs"] == sorted(ids)
    assert res["asc"] == ids and res["desc"] == ids[::-1]
    assert res["updated"] == ["renamed", "what we tried", ["a", "b"], "grp"]
    assert res["after_delete"] == [ids[0]]
    assert "Organization 'nope' not found" in res["org"]

    # MLflow sees the rename, the notes and the deletion.
    login(alice, f"{alice}-pw")
    found = mlflow.search_runs([exp_id], filter_string=f"tags.`wandb.run_id` = '{ids[0]}'", output_format="list")
    assert found[0].info.run_name == "renamed"
    assert found[0].data.tags["mlflow.note.content"] == "what we tried"
    deleted = mlflow.search_runs([exp_id], filter_string=f"tags.`wandb.run_id` = '{ids[1]}'", run_view_type=mlflow.entities.ViewType.DELETED_ONLY, output_format="list")
    assert len(deleted) == 1 and deleted[0].info.lifecycle_stage == "deleted"


def test_team_registered_models_and_sharing_with_mlflow(auth_server, login, three):
    """A model created with the `cairn.team` tag is the team's; projects and models are shared at a level."""
    alice, bob, carol = three
    team = f"team-{uuid.uuid4().hex[:8]}"
    url = auth_server.url

    def call(who, path, body):
        return requests.post(f"{url}/api/2.0/cairn/teams/{path}", json=body, auth=(who, f"{who}-pw"), timeout=30)

    assert call(alice, "create", {"name": team}).status_code == 200
    for who, role in ((bob, "member"), (carol, "viewer")):
        assert call(alice, "members/set", {"team": team, "username": who, "role": role}).status_code == 200

    # bob (member) registers the team's model; carol (viewer) may read it but not change it.
    model = f"detector-{uuid.uuid4().hex[:8]}"
    login(carol, f"{carol}-pw")
    with pytest.raises(MlflowException, match="you are a viewer"):
        mlflow.MlflowClient().create_registered_model(model, tags={"cairn.team": team})
    login(bob, f"{bob}-pw")
    mlflow.MlflowClient().create_registered_model(model, tags={"cairn.team": team})
    login(carol, f"{carol}-pw")
    assert mlflow.MlflowClient().get_registered_model(model).tags == {"cairn.team": team}
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        mlflow.MlflowClient().update_registered_model(model, description="viewer edit")
    # alice (team admin → MANAGE) shares it with carol at EDIT: her own permission wins over her role.
    assert call(carol, "share", {"resource_type": "registered_model", "resource_id": model, "username": carol, "permission": "EDIT"}).status_code == 403
    assert call(alice, "share", {"resource_type": "registered_model", "resource_id": model, "username": carol, "permission": "EDIT"}).json() == {"permission": "EDIT"}
    assert mlflow.MlflowClient().update_registered_model(model, description="now carol edits").description == "now carol edits"

    # carol's own experiment shared with the team at EDIT: bob logs to it, and stops when unshared.
    exp_id = mlflow.MlflowClient().create_experiment(f"carols-{uuid.uuid4().hex[:8]}")
    login(bob, f"{bob}-pw")
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        mlflow.MlflowClient().create_run(exp_id)
    target = {"resource_type": "experiment", "resource_id": exp_id, "team": team}
    assert call(carol, "share", {**target, "permission": "EDIT"}).status_code == 200
    run = mlflow.MlflowClient().create_run(exp_id)
    mlflow.MlflowClient().log_metric(run.info.run_id, "acc", 0.9)
    assert call(carol, "unshare", target).status_code == 200
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|403"):
        mlflow.MlflowClient().create_run(exp_id)
