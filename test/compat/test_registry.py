"""The model registry through the real client: log_model -> register -> stages, aliases -> load by every URI."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import mlflow
import numpy as np
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _train(iris, c: float = 1.0) -> LogisticRegression:
    X, y = iris
    return LogisticRegression(C=c, max_iter=300).fit(X, y)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def logged(client, exp_name, iris):
    """A sklearn model logged in a run (MLflow 3 path) and registered as version 1 of a new model."""
    X, _ = iris
    mlflow.set_experiment(exp_name)
    model = _train(iris)
    name = _name("iris")
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("train_acc", float(model.score(*iris)))
        # Explicit requirements skip the client's slow dependency inference (a subprocess per call).
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name, input_example=X[:2], pip_requirements=["scikit-learn"]
        )
    return {"name": name, "run_id": run.info.run_id, "info": info, "model": model}


def _raw_version(server_url: str, name: str, version: str) -> dict:
    # The client's ModelVersion.from_proto drops model_id, so the wire form is checked directly.
    res = requests.get(f"{server_url}/api/2.0/mlflow/model-versions/get", params={"name": name, "version": version}, timeout=30)
    assert res.status_code == 200, res.text
    return res.json()["model_version"]


def test_log_model_registers_version_1_ready(client, logged, server_url):
    info, name = logged["info"], logged["name"]
    assert info.model_id.startswith("m-") and len(info.model_id) == 34
    assert str(info.registered_model_version) == "1"
    mv = client.get_model_version(name, "1")
    assert mv.status == "READY"
    assert mv.current_stage == "None"
    assert mv.source == f"models:/{info.model_id}"
    assert mv.run_id == logged["run_id"]
    raw = _raw_version(server_url, name, "1")
    assert raw["model_id"] == info.model_id and raw["status"] == "READY"
    lm = client.get_logged_model(info.model_id)
    assert str(lm.status) == "READY"
    assert lm.source_run_id == logged["run_id"]
    assert lm.artifact_location.endswith(f"/models/{info.model_id}/artifacts")
    assert lm.params["C"] == "1.0"
    assert {m.key for m in lm.metrics} == {"train_acc"}
    assert '"version": 1' in lm.tags["mlflow.modelVersions"]
    run = client.get_run(logged["run_id"])
    assert [o.model_id for o in run.outputs.model_outputs] == [info.model_id]
    assert client.get_model_version_download_uri(name, "1") == lm.artifact_location


def test_register_from_runs_and_models_uris(client, logged, server_url):
    name = logged["name"]
    # The run has no MLmodel of its own (MLflow 3 logs under the model), so the client finds the
    # logged model through search_logged_models and registers models:/<model_id>.
    from_run = mlflow.register_model(f"runs:/{logged['run_id']}/model", name)
    assert from_run.version == "2"
    assert from_run.source == f"models:/{logged['info'].model_id}"
    assert _raw_version(server_url, name, "2")["model_id"] == logged["info"].model_id
    from_model = mlflow.register_model(f"models:/{logged['info'].model_id}", name)
    assert from_model.version == "3"
    assert from_model.status == "READY"
    other = mlflow.register_model(f"models:/{logged['info'].model_id}", _name("other"))
    assert other.version == "1"
    versions = client.search_model_versions(f"name = '{name}'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]


def test_load_by_every_uri_form(client, logged, iris):
    """Needs the artifact proxy: every form resolves to the logged model's files and predicts the same."""
    X, _ = iris
    name, model_id = logged["name"], logged["info"].model_id
    expected = logged["model"].predict(X)
    client.transition_model_version_stage(name, "1", "Production")
    client.set_registered_model_alias(name, "champion", "1")
    for uri in [
        f"models:/{name}/1",
        f"models:/{name}@champion",
        f"models:/{name}/latest",
        f"models:/{name}/Production",
        f"models:/{model_id}",
        f"runs:/{logged['run_id']}/model",
    ]:
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(X), expected, err_msg=uri)
    sk = mlflow.sklearn.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(sk.predict(X), expected)


def test_transition_stage_with_archiving(client, logged):
    name = logged["name"]
    for _ in range(2):
        mlflow.register_model(f"models:/{logged['info'].model_id}", name)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Staging")
    mv = client.transition_model_version_stage(name, "3", "production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert client.get_model_version(name, "2").current_stage == "Staging"
    assert [v.version for v in client.get_latest_versions(name, ["Production"])] == ["3"]
    stages = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert stages == {"Archived": "1", "Staging": "2", "Production": "3"}
    with pytest.raises(MlflowException):
        client.transition_model_version_stage(name, "2", "Archived", archive_existing_versions=True)


def test_aliases_set_get_delete(client, logged):
    name = logged["name"]
    mlflow.register_model(f"models:/{logged['info'].model_id}", name)
    client.set_registered_model_alias(name, "champion", 1)
    client.set_registered_model_alias(name, "challenger", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_registered_model(name).aliases == {"champion": "1", "challenger": "2"}
    client.set_registered_model_alias(name, "champion", "2")
    assert sorted(client.get_model_version(name, "2").aliases) == ["challenger", "champion"]
    client.delete_registered_model_alias(name, "champion")
    with pytest.raises(MlflowException) as err:
        client.get_model_version_by_alias(name, "champion")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException):
        client.set_registered_model_alias(name, "latest", "1")


def test_registered_model_crud_and_errors(client):
    name = _name("crud")
    rm = client.create_registered_model(name, tags={"team": "ml"}, description="first")
    assert rm.name == name and rm.tags == {"team": "ml"} and rm.description == "first"
    with pytest.raises(MlflowException) as err:
        client.create_registered_model(name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.update_registered_model(name, description="second")
    client.set_registered_model_tag(name, "stage", "dev")
    client.delete_registered_model_tag(name, "team")
    got = client.get_registered_model(name)
    assert got.description == "second" and got.tags == {"stage": "dev"}
    new_name = _name("renamed")
    client.rename_registered_model(name, new_name)
    assert client.get_registered_model(new_name).description == "second"
    with pytest.raises(MlflowException) as err:
        client.get_registered_model(name)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException):
        client.get_registered_model(new_name)


def test_versions_tags_update_delete(client, logged):
    name = logged["name"]
    mlflow.register_model(f"models:/{logged['info'].model_id}", name)
    client.update_model_version(name, "1", description="described")
    client.set_model_version_tag(name, "1", "validated", "yes")
    mv = client.get_model_version(name, "1")
    assert mv.description == "described" and mv.tags == {"validated": "yes"}
    client.delete_model_version_tag(name, "1", "validated")
    assert client.get_model_version(name, "1").tags == {}
    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as err:
        client.get_model_version(name, "2")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow.register_model(f"models:/{logged['info'].model_id}", name).version == "3"
    client.delete_registered_model(name)
    assert client.search_model_versions(f"name = '{name}'") == []


def test_copy_model_version(client, logged, iris):
    dst = _name("copy")
    copied = client.copy_model_version(f"models:/{logged['name']}/1", dst)
    assert copied.name == dst and copied.version == "1"
    assert copied.source == f"models:/{logged['name']}/1"
    assert client.get_model_version_download_uri(dst, "1") == client.get_model_version_download_uri(logged["name"], "1")


def test_twenty_concurrent_create_model_version_calls(logged):
    name = _name("concurrent")
    MlflowClient().create_registered_model(name)
    source, run_id = f"runs:/{logged['run_id']}/model", logged["run_id"]

    def create(_):
        return MlflowClient().create_model_version(name, source, run_id=run_id).version

    with ThreadPoolExecutor(max_workers=20) as pool:
        versions = list(pool.map(create, range(20)))
    assert sorted(int(v) for v in versions) == list(range(1, 21))


def test_search_registered_models_filters_and_pages(client):
    prefix = _name("srm")
    for i in range(7):
        client.create_registered_model(f"{prefix}-{i}", tags={"parity": "even" if i % 2 == 0 else "odd"})
    found = client.search_registered_models(f"name LIKE '{prefix}-%'")
    assert [m.name for m in found] == [f"{prefix}-{i}" for i in range(7)]
    evens = client.search_registered_models(f"name LIKE '{prefix}-%' AND tags.parity = 'even'", order_by=["name DESC"])
    assert [m.name for m in evens] == [f"{prefix}-{i}" for i in (6, 4, 2, 0)]
    names, token = [], None
    while True:
        page = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=3, page_token=token)
        assert len(page) <= 3
        names += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert names == [f"{prefix}-{i}" for i in range(7)]
    with pytest.raises(MlflowException) as err:
        client.search_registered_models("metrics.x > 1")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_model_versions_pages_over_300_versions(client, logged):
    name = _name("many")
    client.create_registered_model(name)
    source, run_id = f"runs:/{logged['run_id']}/model", logged["run_id"]

    def create(i):
        c = MlflowClient()
        return c.create_model_version(name, source, run_id=run_id, tags={"bucket": str(i % 3)}).version

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, range(300)))
    assert sorted(int(v) for v in created) == list(range(1, 301))

    seen, token, pages = [], None, 0
    while True:
        page = client.search_model_versions(f"name = '{name}'", max_results=70, order_by=["version_number ASC"], page_token=token)
        pages += 1
        seen += [int(v.version) for v in page]
        token = page.token
        if not token:
            break
    assert seen == list(range(1, 301))
    assert pages == 5
    high = client.search_model_versions(f"name = '{name}' AND version_number > 290")
    assert sorted(int(v.version) for v in high) == list(range(291, 301))
    bucket = client.search_model_versions(f"name = '{name}' AND tags.bucket = '0'", max_results=1000)
    assert len(bucket) == 100
    by_run = client.search_model_versions(f"run_id = '{run_id}' AND name = '{name}'")
    assert len(by_run) == 300


def test_register_and_load_a_prompt(client):
    name = _name("greeting")
    pv = mlflow.genai.register_prompt(name=name, template="Hello {{person}}!", commit_message="first")
    assert pv.version == 1
    loaded = mlflow.genai.load_prompt(f"prompts:/{name}/1")
    assert loaded.template == "Hello {{person}}!"
    assert loaded.format(person="Ada") == "Hello Ada!"
    mlflow.genai.register_prompt(name=name, template=[{"role": "user", "content": "Hi {{person}}"}], commit_message="chat")
    mlflow.genai.set_prompt_alias(name, "production", 2)
    chat = mlflow.genai.load_prompt(f"prompts:/{name}@production")
    assert chat.version == 2
    assert chat.format(person="Bo") == [{"role": "user", "content": "Hi Bo"}]
    # Prompts stay out of model searches, and model searches out of prompt searches.
    assert name not in [m.name for m in client.search_registered_models(f"name = '{name}'")]
    assert name in [p.name for p in mlflow.genai.search_prompts(f"name = '{name}'")]
    # A model may not take a prompt's name.
    with pytest.raises(MlflowException) as err:
        client.create_registered_model(name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
