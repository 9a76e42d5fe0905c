"""MLflow 3 logged models through the real client: initialize, params, tags, metrics, search, finalize, delete."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException


def test_initialize_finalize_get_delete(client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="net", model_type="custom", tags={"owner": "ml"}, params={"layers": "3"})
    assert model.model_id.startswith("m-")
    assert model.status == LoggedModelStatus.PENDING
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == exp.experiment_id
    assert model.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}/models/{model.model_id}/artifacts"
    assert model.tags["owner"] == "ml" and model.params == {"layers": "3"}

    ready = mlflow.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    assert mlflow.get_logged_model(model.model_id).status == LoggedModelStatus.READY

    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException) as err:
        client.get_logged_model(model.model_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list") == []


def test_params_tags_and_metrics(client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    model = mlflow.initialize_logged_model(name="m")
    # More than one request's worth: the client sends them in batches of 100.
    mlflow.log_model_params({f"p{i}": str(i) for i in range(250)}, model_id=model.model_id)
    mlflow.set_logged_model_tags(model.model_id, {"a": "1", "b": "2"})
    mlflow.delete_logged_model_tag(model.model_id, "a")
    with mlflow.start_run():
        mlflow.log_metric("acc", 0.91, model_id=model.model_id)
        mlflow.log_metric("acc", 0.93, step=1, model_id=model.model_id)
    got = client.get_logged_model(model.model_id)
    assert len(got.params) == 250 and got.params["p249"] == "249"
    assert got.tags["b"] == "2" and "a" not in got.tags  # plus the mlflow.* context tags the client adds
    assert sorted(m.value for m in got.metrics) == [0.91, 0.93]
    assert all(m.model_id == model.model_id for m in got.metrics)
    with pytest.raises(MlflowException):
        mlflow.delete_logged_model_tag(model.model_id, "a")
    assert exp.experiment_id == got.experiment_id


def test_search_logged_models_filter_order_and_pages(client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    ids = {}
    with mlflow.start_run():
        for name, acc, lr in [("low", 0.5, "0.1"), ("mid", 0.7, "0.01"), ("high", 0.9, "0.1")]:
            m = mlflow.initialize_logged_model(name=name, params={"lr": lr})
            mlflow.log_metric("acc", acc, model_id=m.model_id)
            ids[name] = m.model_id
    mlflow.finalize_logged_model(ids["high"], LoggedModelStatus.READY)

    def names(**kwargs):
        found = mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list", **kwargs)
        return [m.name for m in found]

    assert sorted(names()) == ["high", "low", "mid"]
    assert names(filter_string="metrics.acc > 0.6", order_by=[{"field_name": "metrics.acc", "ascending": False}]) == ["high", "mid"]
    assert names(filter_string="params.lr = '0.1'", order_by=[{"field_name": "name"}]) == ["high", "low"]
    assert names(filter_string="name IN ('low', 'mid')", order_by=[{"field_name": "metrics.acc"}]) == ["low", "mid"]
    assert names(filter_string="status = 'READY'") == ["high"]

    seen, token = [], None
    while True:
        page = client.search_logged_models([exp.experiment_id], max_results=2, order_by=[{"field_name": "name"}], page_token=token)
        seen += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert seen == ["high", "low", "mid"]
    with pytest.raises(MlflowException) as err:
        client.search_logged_models([exp.experiment_id], filter_string="metrics.acc >")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_log_model_links_run_metrics_to_the_model(client, exp_name):
    """log_model re-logs the run's metrics of its step with the new model id."""
    from sklearn.linear_model import LinearRegression

    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="lin", pip_requirements=["scikit-learn"])
    model = client.get_logged_model(info.model_id)
    assert [(m.key, m.value, m.run_id) for m in model.metrics] == [("rmse", 0.25, run.info.run_id)]
    found = mlflow.search_logged_models(filter_string="metrics.rmse < 1", output_format="list")
    assert [m.model_id for m in found] == [info.model_id]
    # The run's own history is unchanged: one point, now linked to the model.
    history = MlflowClient().get_metric_history(run.info.run_id, "rmse")
    assert len(history) == 1 and history[0].model_id == info.model_id
