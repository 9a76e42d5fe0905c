"""Error paths the client branches on, and a few HTTP conventions the client cannot express."""

from __future__ import annotations

import pytest
import requests
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


def _code(fn, *args, **kwargs):
    with pytest.raises(MlflowException) as e:
        fn(*args, **kwargs)
    return e.value.error_code


def test_writes_to_runs_of_a_deleted_experiment_are_refused(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_experiment(experiment_id)
    assert _code(client.set_tag, run_id, "k", "v") == "INVALID_PARAMETER_VALUE"
    assert _code(client.log_param, run_id, "k", "v") == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {}


def test_rename_deleted_experiment_is_refused(client, experiment_id, exp_name, http_log):
    client.delete_experiment(experiment_id)
    with http_log.call("/experiments/update") as call:
        code = _code(client.rename_experiment, experiment_id, exp_name + "-x")
    # mlflow server 3.18 answers INVALID_STATE ("Cannot rename a non-active experiment."), with HTTP
    # 500 as its error table maps that code; Cairn keeps the code and answers 400, as it never 500s.
    assert code == "INVALID_STATE"
    assert call.status == 400
    assert client.get_experiment(experiment_id).name == exp_name


def test_logging_to_a_finished_run_is_allowed(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id)
    client.log_metric(run_id, "late", 1.0)
    client.set_tag(run_id, "late", "yes")
    run = client.get_run(run_id)
    assert run.data.metrics == {"late": 1.0}
    assert run.info.status == "FINISHED"


def test_unknown_entities_are_404_resource_does_not_exist(client, experiment_id, http_log):
    missing_run = "b" * 32
    for fn, args in (
        (client.get_metric_history, (missing_run, "m")),
        (client.set_tag, (missing_run, "k", "v")),
        (client.update_run, (missing_run, "FINISHED")),
        (client.restore_run, (missing_run,)),
        (client.delete_experiment, ("99999999",)),
        (client.restore_experiment, ("99999999",)),
        (client.set_experiment_tag, ("99999999", "k", "v")),
        (client.rename_experiment, ("99999999", "nope")),
    ):
        with http_log.call() as call:
            code = _code(fn, *args)
        assert code == "RESOURCE_DOES_NOT_EXIST", fn.__name__
        assert call.status == 404, fn.__name__


def test_search_runs_in_unknown_experiment_is_empty(client):
    assert client.search_runs(["99999999"]) == []
    assert client.search_runs(["99999999"], run_view_type=ViewType.ALL) == []


def test_health_and_unknown_routes(server_url):
    r = requests.get(f"{server_url}/health", timeout=10)
    assert (r.status_code, r.text) == (200, "OK")
    r = requests.post(f"{server_url}/api/2.0/mlflow/no-such-thing", json={}, timeout=10)
    assert r.status_code == 404
    assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    # A known path with the wrong method is 405, not 404 (the client must not fall back).
    r = requests.get(f"{server_url}/api/2.0/mlflow/runs/create", timeout=10)
    assert r.status_code == 405


def test_ajax_api_alias_serves_the_same_data(server_url, client, experiment_id, exp_name):
    r = requests.get(
        f"{server_url}/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id}, timeout=10
    )
    assert r.status_code == 200
    assert r.json()["experiment"]["name"] == exp_name


def test_run_uuid_alone_is_accepted(server_url, client, experiment_id):
    # Old clients send only run_uuid; the real server accepts it wherever run_id is required.
    run_id = client.create_run(experiment_id).info.run_id
    r = requests.get(f"{server_url}/api/2.0/mlflow/runs/get", params={"run_uuid": run_id}, timeout=10)
    assert r.status_code == 200 and r.json()["run"]["info"]["run_id"] == run_id
    r = requests.post(
        f"{server_url}/api/2.0/mlflow/runs/log-parameter",
        json={"run_uuid": run_id, "key": "k", "value": "v"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert client.get_run(run_id).data.params == {"k": "v"}
