"""--registry-store-uri with the real client: the model registry in a second database, tracking in the first.

One server with `--registry-store-uri pglite://<folder>` (its backend store is TEST_DATABASE_URL's Postgres
or an embedded folder, as every compat server's). The client logs a sklearn model in a run and registers it,
sets an alias and tags, registers a prompt, and loads the model back by alias. Then each database is served
alone by a server of its own: the registry's holds the registered model and the prompt but no run; the
backend store's holds the run and the logged model but no registered model.
"""

from __future__ import annotations

import importlib.util as _ilu
import pathlib
import sys
import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# test/compat/artifacts/conftest.py shadows this folder's conftest as a module name: load it by path.
_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest
_spec.loader.exec_module(_root_conftest)


def _use(url: str, monkeypatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    mlflow.set_tracking_uri(url)
    return MlflowClient(tracking_uri=url, registry_uri=url)


def _not_found(call) -> None:
    with pytest.raises(MlflowException) as err:
        call()
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST", err.value


def test_registry_lives_in_the_registry_store(monkeypatch):
    tag = uuid.uuid4().hex[:10]
    model_name, prompt_name, exp_name = f"reg-store-{tag}", f"reg-store-prompt-{tag}", f"reg-store-exp-{tag}"
    registry_dir: dict[str, pathlib.Path] = {}

    def with_registry(server) -> None:
        registry_dir["path"] = server.workdir / "registry-db"
        server.extra_args += ["--registry-store-uri", f"pglite://{registry_dir['path']}"]

    with _root_conftest.running_server("cairn-compat-registry-store-", before_start=with_registry) as server:
        client = _use(server.url, monkeypatch)
        X, y = load_iris(return_X_y=True)
        model = LogisticRegression(max_iter=300).fit(X, y)
        mlflow.set_experiment(exp_name)
        with mlflow.start_run() as run:
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name=model_name, input_example=X[:2], pip_requirements=["scikit-learn"]
            )
        run_id = run.info.run_id
        # A second version from the run's artifacts: its runs:/ source is resolved in the backend store.
        v2 = client.create_model_version(model_name, f"runs:/{run_id}/model", run_id=run_id, tags={"from": "runs-uri"})
        assert v2.version == "2"
        client.set_registered_model_alias(model_name, "champion", "1")
        client.set_registered_model_tag(model_name, "team", "ml")
        mlflow.genai.register_prompt(name=prompt_name, template="Hello {{person}}!", commit_message="first")

        mv = client.get_model_version_by_alias(model_name, "champion")
        assert (mv.version, mv.run_id) == ("1", run_id)
        assert client.get_registered_model(model_name).tags == {"team": "ml"}
        loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
        assert np.array_equal(loaded.predict(X[:5]), model.predict(X[:5]))
        assert mlflow.genai.load_prompt(f"prompts:/{prompt_name}/1").template == "Hello {{person}}!"
        # The logged model (tracking data) knows its registration, as with one database.
        logged = client.get_logged_model(info.model_id)
        assert logged.experiment_id == run.info.experiment_id
        backend_store_uri = server.backend_store_uri
        server.stop()

        # The registry database alone: the registered model, its versions, alias and tags, the prompt; no run.
        def registry_as_backend(other) -> None:
            other.backend_store_uri = f"pglite://{registry_dir['path']}"

        with _root_conftest.running_server("cairn-compat-registry-only-", before_start=registry_as_backend) as reg:
            reg_client = _use(reg.url, monkeypatch)
            rm = reg_client.get_registered_model(model_name)
            assert rm.tags == {"team": "ml"} and rm.aliases == {"champion": "1"}
            assert [v.version for v in reg_client.search_model_versions(f"name = '{model_name}'", order_by=["version_number ASC"])] == ["1", "2"]
            assert reg_client.get_model_version(model_name, "2").tags == {"from": "runs-uri"}
            assert mlflow.genai.load_prompt(f"prompts:/{prompt_name}/1").template == "Hello {{person}}!"
            assert reg_client.get_experiment_by_name(exp_name) is None
            _not_found(lambda: reg_client.get_run(run_id))

        # The backend store alone: the run and the logged model, and no registered model or prompt.
        def backend_only(other) -> None:
            other.backend_store_uri = backend_store_uri

        with _root_conftest.running_server("cairn-compat-backend-only-", before_start=backend_only) as back:
            back_client = _use(back.url, monkeypatch)
            assert back_client.get_run(run_id).info.experiment_id == run.info.experiment_id
            assert back_client.get_logged_model(info.model_id).model_id == info.model_id
            _not_found(lambda: back_client.get_registered_model(model_name))
            _not_found(lambda: back_client.get_registered_model(prompt_name))
            assert back_client.search_model_versions(f"name = '{model_name}'") == []
