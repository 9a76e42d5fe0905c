"""Runs through the real client: lifecycle, names, params, metrics, tags, delete/restore."""

from __future__ import annotations

import math
import time

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException


def test_start_run_with_tags_and_end_finished(client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    before = int(time.time() * 1000)
    with mlflow.start_run(run_name="first", tags={"team": "ml", "purpose": "compat"}) as run:
        run_id = run.info.run_id
        assert len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id)
        assert run.info.status == "RUNNING"
        assert run.info.experiment_id == exp.experiment_id
        assert run.info.lifecycle_stage == "active"
        assert run.info.artifact_uri == f"mlflow-artifacts:/{exp.experiment_id}/{run_id}/artifacts"
        assert mlflow.active_run().info.run_id == run_id
    fetched = client.get_run(run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "first"
    assert fetched.info.start_time >= before - 1000
    assert fetched.info.end_time is not None and fetched.info.end_time >= fetched.info.start_time
    assert fetched.data.tags["team"] == "ml"
    assert fetched.data.tags["purpose"] == "compat"
    assert fetched.data.tags["mlflow.runName"] == "first"
    # Context tags the fluent API adds on its own.
    assert "mlflow.source.type" in fetched.data.tags
    assert "mlflow.user" in fetched.data.tags
    assert fetched.info.user_id == fetched.data.tags["mlflow.user"]


def test_exception_inside_run_marks_it_failed(client, exp_name):
    mlflow.set_experiment(exp_name)
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0  # noqa: B018
    info = client.get_run(run.info.run_id).info
    assert info.status == "FAILED"
    assert info.end_time is not None


def test_end_run_with_explicit_status(client, exp_name):
    mlflow.set_experiment(exp_name)
    run = mlflow.start_run()
    mlflow.end_run(status="KILLED")
    assert client.get_run(run.info.run_id).info.status == "KILLED"
    r2 = client.create_run(run.info.experiment_id)
    client.set_terminated(r2.info.run_id, status="FAILED", end_time=1_700_000_000_123)
    info = client.get_run(r2.info.run_id).info
    assert info.status == "FAILED"
    assert info.end_time == 1_700_000_000_123


def test_nested_runs_carry_parent_run_id(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            with mlflow.start_run(nested=True) as grandchild:
                pass
    p, c, g = (client.get_run(r.info.run_id) for r in (parent, child, grandchild))
    assert "mlflow.parentRunId" not in p.data.tags
    assert c.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert g.data.tags["mlflow.parentRunId"] == child.info.run_id
    assert {p.info.status, c.info.status, g.info.status} == {"FINISHED"}
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_run_name_sources_and_rename(client, experiment_id):
    # A name from the mlflow.runName tag alone.
    by_tag = client.create_run(experiment_id, tags={"mlflow.runName": "from-tag"})
    assert by_tag.info.run_name == "from-tag"
    assert client.get_run(by_tag.info.run_id).info.run_name == "from-tag"

    # A name from run_name alone also gets the tag.
    by_arg = client.create_run(experiment_id, run_name="from-arg")
    got = client.get_run(by_arg.info.run_id)
    assert got.info.run_name == "from-arg"
    assert got.data.tags["mlflow.runName"] == "from-arg"

    # No name at all: a generated one, kept in the tag.
    anon = client.get_run(client.create_run(experiment_id).info.run_id)
    assert anon.info.run_name
    assert anon.data.tags["mlflow.runName"] == anon.info.run_name

    # Rename through update_run: both the attribute and the tag change.
    client.update_run(by_arg.info.run_id, name="renamed")
    got = client.get_run(by_arg.info.run_id)
    assert got.info.run_name == "renamed"
    assert got.data.tags["mlflow.runName"] == "renamed"
    assert got.info.status == "RUNNING"

    # Rename through the tag.
    client.set_tag(by_arg.info.run_id, "mlflow.runName", "renamed-by-tag")
    assert client.get_run(by_arg.info.run_id).info.run_name == "renamed-by-tag"

    # Status through update_run, name untouched.
    client.update_run(by_arg.info.run_id, status="FINISHED")
    got = client.get_run(by_arg.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "renamed-by-tag"


def test_run_name_and_tag_mismatch_is_rejected(client, experiment_id):
    with pytest.raises(MlflowException) as e:
        client.create_run(experiment_id, run_name="a", tags={"mlflow.runName": "b"})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_fluent_run_name_via_tag(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run(tags={"mlflow.runName": "tagged-name"}) as run:
        pass
    assert client.get_run(run.info.run_id).info.run_name == "tagged-name"


def test_params(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"layers": 3, "opt": "adam", "empty": "", "none": None})
        mlflow.log_param("lr", 0.1)  # same value again is fine
    params = client.get_run(run.info.run_id).data.params
    assert params == {"lr": "0.1", "layers": "3", "opt": "adam", "empty": "", "none": "None"}


def test_changing_a_param_value_fails_and_keeps_the_old_value(client, experiment_id, http_log):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "alpha", "1")
    with pytest.raises(MlflowException) as e, http_log.call("/runs/log-parameter") as call:
        client.log_param(run_id, "alpha", "2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400
    # Through log_batch too.
    with pytest.raises(MlflowException) as e:
        client.log_batch(run_id, params=[Param("alpha", "3")])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {"alpha": "1"}


def test_metrics_with_steps_and_timestamps(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 1.0, step=0, timestamp=1_700_000_000_000)
        mlflow.log_metric("loss", 0.5, step=1, timestamp=1_700_000_001_000)
        mlflow.log_metric("loss", 0.25, step=2, timestamp=1_700_000_002_000)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
        mlflow.log_metric("int_metric", 3)
    run_id = run.info.run_id
    data = client.get_run(run_id).data
    # get_run shows the latest value per key (highest step).
    assert data.metrics == {"loss": 0.25, "acc": 0.9, "f1": 0.8, "int_metric": 3.0}
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (0, 1_700_000_000_000, 1.0),
        (1, 1_700_000_001_000, 0.5),
        (2, 1_700_000_002_000, 0.25),
    ]
    acc = client.get_metric_history(run_id, "acc")
    assert [(m.step, m.value) for m in acc] == [(7, 0.9)]
    assert acc[0].timestamp > 1_700_000_000_000
    assert client.get_metric_history(run_id, "never-logged") == []


def test_latest_metric_is_max_step_not_last_logged(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "m", 5.0, timestamp=2000, step=10)
    client.log_metric(run_id, "m", 1.0, timestamp=3000, step=3)  # later but lower step
    client.log_metric(run_id, "t", 1.0, timestamp=1000, step=0)
    client.log_metric(run_id, "t", 2.0, timestamp=5000, step=0)  # same step, later timestamp
    metrics = client.get_run(run_id).data.metrics
    assert metrics == {"m": 5.0, "t": 2.0}
    assert len(client.get_metric_history(run_id, "m")) == 2


def test_nan_and_infinity_round_trip(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "nan", float("nan"), timestamp=1000, step=0)
    client.log_metric(run_id, "pinf", float("inf"), timestamp=1000, step=0)
    client.log_metric(run_id, "ninf", float("-inf"), timestamp=1000, step=0)
    client.log_batch(
        run_id,
        metrics=[
            Metric("series", float("nan"), 1000, 0),
            Metric("series", float("inf"), 1001, 1),
            Metric("series", float("-inf"), 1002, 2),
            Metric("series", 1.5, 1003, 3),
        ],
    )
    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pinf"] == math.inf
    assert metrics["ninf"] == -math.inf
    assert metrics["series"] == 1.5
    assert math.isnan(client.get_metric_history(run_id, "nan")[0].value)
    assert client.get_metric_history(run_id, "pinf")[0].value == math.inf
    assert client.get_metric_history(run_id, "ninf")[0].value == -math.inf
    series = sorted(client.get_metric_history(run_id, "series"), key=lambda m: m.step)
    assert math.isnan(series[0].value)
    assert [m.value for m in series[1:]] == [math.inf, -math.inf, 1.5]


def test_tags_set_and_delete(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.set_tag("a", "1")
        mlflow.set_tags({"b": "2", "c": 3})
        mlflow.set_tag("a", "overwritten")
        mlflow.delete_tag("b")
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["a"] == "overwritten"
    assert tags["c"] == "3"
    assert "b" not in tags


def test_delete_missing_tag_is_404(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    with pytest.raises(MlflowException) as e:
        client.delete_tag(run_id, "no-such-tag")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_unknown_run_is_404(client, http_log):
    with pytest.raises(MlflowException) as e, http_log.call("/runs/get") as call:
        client.get_run("0" * 32)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert call.status == 404


def test_log_batch_mixed_entities(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m1", 1.0, 1000, 0), Metric("m1", 2.0, 1001, 1), Metric("m2", 3.0, 1002, 0)],
        params=[Param("p1", "a"), Param("p2", "b")],
        tags=[RunTag("t1", "x"), RunTag("mlflow.runName", "batch-named")],
    )
    run = client.get_run(run_id)
    assert run.data.metrics == {"m1": 2.0, "m2": 3.0}
    assert run.data.params == {"p1": "a", "p2": "b"}
    assert run.data.tags["t1"] == "x"
    assert run.info.run_name == "batch-named"
    assert len(client.get_metric_history(run_id, "m1")) == 2


def test_delete_and_restore_run_with_view_types(client, experiment_id):
    keep = client.create_run(experiment_id).info.run_id
    gone = client.create_run(experiment_id).info.run_id
    mlflow.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"

    def ids(view):
        return {r.info.run_id for r in client.search_runs([experiment_id], run_view_type=view)}

    assert ids(ViewType.ACTIVE_ONLY) == {keep}
    assert ids(ViewType.DELETED_ONLY) == {gone}
    assert ids(ViewType.ALL) == {keep, gone}
    assert {r.info.run_id for r in client.search_runs([experiment_id])} == {keep}
    df = mlflow.search_runs([experiment_id], run_view_type=ViewType.ALL)
    assert set(df["run_id"]) == {keep, gone}

    # Writes to a deleted run are refused.
    with pytest.raises(MlflowException) as e:
        client.log_metric(gone, "m", 1.0)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"

    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    assert ids(ViewType.ACTIVE_ONLY) == {keep, gone}
    assert ids(ViewType.DELETED_ONLY) == set()
    client.log_metric(gone, "m", 1.0)
    assert client.get_run(gone).data.metrics == {"m": 1.0}


def test_delete_unknown_run_is_404(client):
    with pytest.raises(MlflowException) as e:
        client.delete_run("f" * 32)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_set_terminated_status_enum_round_trip(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.SCHEDULED))
    assert client.get_run(run_id).info.status == "SCHEDULED"


def test_start_run_without_experiment_uses_default(client):
    with mlflow.start_run() as run:
        mlflow.log_param("where", "default")
    assert run.info.experiment_id == "0"
    assert client.get_run(run.info.run_id).data.params == {"where": "default"}


def test_resume_run_by_id(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0, step=0)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"
    with mlflow.start_run(run_id=run.info.run_id) as resumed:
        assert resumed.info.run_id == run.info.run_id
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        mlflow.log_metric("m", 2.0, step=1)
    info = client.get_run(run.info.run_id)
    assert info.info.status == "FINISHED"
    assert info.data.metrics == {"m": 2.0}


def test_async_logging(client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        for i in range(200):
            mlflow.log_metric("a", i / 2, step=i, synchronous=False)
        mlflow.log_params({"x": 1, "y": "two"}, synchronous=False)
        mlflow.set_tags({"t": "v"}, synchronous=False)
    mlflow.flush_async_logging()
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"x": "1", "y": "two"}
    assert got.data.tags["t"] == "v"
    assert got.data.metrics == {"a": 99.5}
    assert sorted(m.step for m in client.get_metric_history(run.info.run_id, "a")) == list(range(200))
