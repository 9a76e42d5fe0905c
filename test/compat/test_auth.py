"""Accounts and permissions (`--app-name basic-auth`) with the real clients, unchanged.

A second Cairn server with auth on; users log in as MLflow users do (MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN), are managed with
`mlflow.server.get_app_client("basic-auth")`, and the wandb client logs with per-user keys.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import uuid

import mlflow
import mlflow.server
import pytest
import requests
from mlflow.exceptions import MlflowException, RestException

# Both test/compat/conftest.py and test/compat/artifacts/conftest.py are "conftest" to Python: a
# plain `from conftest import ...` gets whichever pytest imported last. Load this folder's by path.
import importlib.util as _ilu

_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest  # dataclasses look their module up there
_spec.loader.exec_module(_root_conftest)
from test_wandb import make_wandb_env, run_python

ADMIN_PASSWORD = "compat-admin-password"
# Unique per session: a shared Postgres (TEST_DATABASE_URL) may already hold an admin from other runs.
ADMIN = f"admin-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def auth_server():
    with _root_conftest.running_server(
        "cairn-compat-auth-",
        extra_args=["--app-name", "basic-auth", "--auth-default-permission", "READ", "--auth-admin-username", ADMIN],
        extra_env={"MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD},
    ) as server:
        yield server


@pytest.fixture
def login(auth_server, monkeypatch):
    """login(user, password) or login(token=...): the client's credentials from here on."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", auth_server.url)
    mlflow.set_tracking_uri(auth_server.url)

    def _login(user: str | None = None, password: str | None = None, token: str | None = None) -> None:
        for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
            monkeypatch.delenv(var, raising=False)
        if user is not None:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or "")
        if token is not None:
            monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)

    yield _login
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", auth_server.url))


@pytest.fixture
def users(auth_server, login):
    """Two fresh users made by the admin through the real app client: (alice, bob) names; password = name."""
    login(ADMIN, ADMIN_PASSWORD)
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    made = []
    for who in ("alice", "bob"):
        name = f"{who}-{uuid.uuid4().hex[:8]}"
        app.create_user(name, f"{name}-pw")
        made.append(name)
    return tuple(made)


def new_key(url: str, user: str, password: str) -> str:
    r = requests.post(f"{url}/api/2.0/cairn/keys/create", json={}, auth=(user, password), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["key"]


def test_app_client_manages_users_and_permissions(auth_server, login):
    login(ADMIN, ADMIN_PASSWORD)
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    name = f"carol-{uuid.uuid4().hex[:8]}"
    user = app.create_user(name, "first-password")
    assert user.username == name and user.is_admin is False
    assert app.get_user(name).id == user.id
    with pytest.raises(RestException, match="RESOURCE_ALREADY_EXISTS"):
        app.create_user(name, "again")

    app.update_user_password(name, "second-password")
    app.update_user_admin(name, True)
    assert app.get_user(name).is_admin is True
    app.update_user_admin(name, False)

    exp_id = mlflow.MlflowClient().create_experiment(f"perm-{uuid.uuid4().hex[:8]}")
    app.grant_user_permission(name, "experiment", exp_id, "EDIT")
    got = app.get_user_permission(name, "experiment", exp_id)
    assert (got.allowed, got.permission) == (True, "EDIT")
    app.revoke_user_permission(name, "experiment", exp_id)
    assert app.get_user_permission(name, "experiment", exp_id).permission == "READ"  # the default

    # The new password works and the old one does not.
    login(name, "second-password")
    mlflow.MlflowClient().get_experiment(exp_id)
    login(name, "first-password")
    with pytest.raises(MlflowException, match="UNAUTHENTICATED|401"):
        mlflow.MlflowClient().get_experiment(exp_id)

    login(ADMIN, ADMIN_PASSWORD)
    app.delete_user(name)
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        app.get_user(name)


def test_non_admin_cannot_manage_users(auth_server, login, users):
    alice, _ = users
    login(alice, f"{alice}-pw")
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    with pytest.raises(RestException, match="PERMISSION_DENIED"):
        app.create_user(f"x-{uuid.uuid4().hex[:6]}", "pw")
    with pytest.raises(RestException, match="PERMISSION_DENIED"):
        app.update_user_admin(alice, True)


def test_fluent_client_artifacts_and_registry_with_basic_auth(auth_server, login, users, tmp_path):
    alice, bob = users
    login(alice, f"{alice}-pw")
    exp_name = f"auth-fluent-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(exp_name)
    notes = tmp_path / "notes.txt"
    notes.write_text("alice's notes")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_artifact(str(notes))
        mlflow.log_text("model", "model/MLmodel")
    client = mlflow.MlflowClient()
    model = f"auth-model-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(model)
    version = client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    assert version.version == "1"
    client.set_registered_model_alias(model, "prod", "1")
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt", dst_path=str(tmp_path / "dl"))
    assert pathlib.Path(out).read_text() == "alice's notes"

    # bob has the default READ: he can read everything of alice's ...
    login(bob, f"{bob}-pw")
    client = mlflow.MlflowClient()
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.1"}
    assert client.get_model_version_by_alias(model, "prod").version == "1"
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt", dst_path=str(tmp_path / "bob"))
    assert pathlib.Path(out).read_text() == "alice's notes"
    # ... and change nothing.
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.log_metric(run.info.run_id, "loss", 99.0)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.set_tag(run.info.run_id, "owner", "bob")
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.delete_run(run.info.run_id)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.delete_registered_model(model)
    with pytest.raises(Exception, match="403|PERMISSION_DENIED|Permission denied"):
        client.log_artifact(run.info.run_id, str(notes), artifact_path="bob")
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        mlflow.set_experiment(exp_name)
        with mlflow.start_run():
            pass

    login(alice, f"{alice}-pw")
    client = mlflow.MlflowClient()
    r = client.get_run(run.info.run_id)
    assert r.data.metrics == {"loss": 0.5} and "owner" not in r.data.tags and r.info.lifecycle_stage == "active"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["model", "notes.txt"]
    assert client.get_model_version(model, "1").status == "READY" and len(client.search_model_versions(f"name = '{model}'")) == 1

    # alice manages what she created: with her grant, bob may write.
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    exp_id = mlflow.get_experiment_by_name(exp_name).experiment_id
    app.grant_user_permission(bob, "experiment", exp_id, "EDIT")
    login(bob, f"{bob}-pw")
    mlflow.MlflowClient().log_metric(run.info.run_id, "bob_metric", 1.0)


def test_search_is_filtered_to_readable_experiments(auth_server, login, users):
    alice, bob = users
    login(alice, f"{alice}-pw")
    name = f"auth-private-{uuid.uuid4().hex[:8]}"
    exp_id = mlflow.MlflowClient().create_experiment(name)
    mlflow.MlflowClient().create_run(exp_id)
    app = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    app.grant_user_permission(bob, "experiment", exp_id, "NO_PERMISSIONS")
    login(bob, f"{bob}-pw")
    client = mlflow.MlflowClient()
    assert name not in [e.name for e in client.search_experiments(max_results=1000)]
    assert client.search_runs([exp_id]) == []
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.get_experiment(exp_id)


def test_token_login_and_revocation(auth_server, login, users):
    alice, _ = users
    key = new_key(auth_server.url, alice, f"{alice}-pw")
    login(token=key)
    exp_id = mlflow.MlflowClient().create_experiment(f"auth-token-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.log_metric("m", 1.0)
    r = requests.post(f"{auth_server.url}/api/2.0/cairn/keys/revoke", json={"key": key[:12]}, auth=(alice, f"{alice}-pw"), timeout=30)
    assert r.status_code == 200, r.text
    with pytest.raises(MlflowException, match="UNAUTHENTICATED|401"):
        mlflow.MlflowClient().get_experiment(exp_id)


def test_anonymous_and_wrong_password_are_refused(auth_server, login, users):
    alice, _ = users
    login()
    with pytest.raises(MlflowException, match="UNAUTHENTICATED|401"):
        mlflow.MlflowClient().search_experiments()
    login(alice, "wrong")
    with pytest.raises(MlflowException, match="UNAUTHENTICATED|401"):
        mlflow.MlflowClient().create_experiment(f"nope-{uuid.uuid4().hex[:8]}")


ALICE_RUN = """
    import json, sys
    import wandb
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="alice-run", config={"secret": "alice-only", "lr": 0.1})
    for i in range(5):
        wandb.log({"loss": 1.0 / (i + 1)})
    run.summary["best"] = 1.0
    json.dump({"id": run.id, "entity": run.entity}, open(out, "w"))
    run.finish()
"""

BOB_RESUMES = """
    import sys
    import wandb
    entity, project, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
    run = wandb.init(entity=entity, project=project, id=run_id, resume="allow", config={"secret": "bob-was-here"})
    wandb.log({"loss": 999.0})
    run.summary["best"] = -1.0
    run.finish(exit_code=1)
"""

READ_RUN = """
    import json, sys
    import wandb
    path, out = sys.argv[1], sys.argv[2]
    r = wandb.Api(timeout=60).run(path)
    json.dump({"config": r.config, "summary": {"best": r.summary.get("best")}, "state": r.state, "loss": [h["loss"] for h in r.history(pandas=False)]}, open(out, "w"))
"""


def test_wandb_per_user_keys_b_cannot_touch_a_run(auth_server, login, users, tmp_path):
    alice, bob = users
    alice_key = new_key(auth_server.url, alice, f"{alice}-pw")
    bob_key = new_key(auth_server.url, bob, f"{bob}-pw")
    project = f"auth-wandb-{uuid.uuid4().hex[:8]}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    alice_env = make_wandb_env(tmp_path / "a", auth_server.url, alice_key)
    bob_env = make_wandb_env(tmp_path / "b", auth_server.url, bob_key)
    out = tmp_path / "a" / "run.json"
    done = run_python(tmp_path / "a", alice_env, ALICE_RUN, project, str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = json.loads(out.read_text())["id"]

    # bob (default READ) cannot resume alice's run to overwrite its config, history or summary. He
    # must name her entity: without one, his run id lands in his own project `bob/<project>`
    # (namespaces, docs/teams.md), as on W&B.
    bob_env["WANDB_INIT_TIMEOUT"] = "60"
    tried = run_python(tmp_path / "b", bob_env, BOB_RESUMES, alice, project, run_id, timeout=300)
    assert tried.returncode != 0
    # The client's own error, with Cairn's reason.
    assert "CommError: Permission denied: edit access to project" in tried.stderr, tried.stderr[-3000:]

    read = tmp_path / "a" / "read.json"
    done = run_python(tmp_path / "a", alice_env, READ_RUN, f"{alice}/{project}/{run_id}", str(read))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(read.read_text())
    assert seen["config"]["secret"] == "alice-only"
    assert seen["summary"]["best"] == 1.0
    assert seen["state"] == "finished"
    assert 999.0 not in seen["loss"]

    # With NO_PERMISSIONS on the project (alice manages it: she created it) bob cannot even read it.
    login(alice, f"{alice}-pw")
    exp_id = mlflow.get_experiment_by_name(project).experiment_id
    mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url).grant_user_permission(bob, "experiment", exp_id, "NO_PERMISSIONS")
    denied = run_python(tmp_path / "b", bob_env, READ_RUN, f"{alice}/{project}/{run_id}", str(tmp_path / "b" / "read.json"), timeout=300)
    assert denied.returncode != 0
    assert "Permission denied: read access to project" in denied.stderr, denied.stderr[-3000:]
    assert not (tmp_path / "b" / "read.json").exists()
