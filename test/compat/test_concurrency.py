"""Concurrent clients: races on unique names and idempotent writes must not turn into 500s."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

N = 16


def _parallel(fn, n=N):
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(fn, i) for i in range(n)]
        return [f.exception() or f.result() for f in futures]


def test_concurrent_create_experiment_same_name(client, exp_name):
    def create(_):
        try:
            return client.create_experiment(exp_name)
        except MlflowException as e:
            return e.error_code

    results = _parallel(create)
    ids = [r for r in results if r != "RESOURCE_ALREADY_EXISTS"]
    assert len(ids) == 1, results
    assert client.get_experiment_by_name(exp_name).experiment_id == ids[0]


def test_concurrent_set_experiment_same_name(exp_name):
    # The client creates on RESOURCE_DOES_NOT_EXIST and re-reads on RESOURCE_ALREADY_EXISTS.
    results = _parallel(lambda _: mlflow.MlflowClient().get_experiment_by_name(exp_name)
                        or mlflow.set_experiment(exp_name))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len({r.experiment_id for r in results}) == 1


def test_concurrent_same_param_is_idempotent(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    results = _parallel(lambda _: client.log_param(run_id, "shared", "same"))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert client.get_run(run_id).data.params == {"shared": "same"}


def test_concurrent_conflicting_param_keeps_one_value(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id

    def log(i):
        try:
            client.log_param(run_id, "contested", str(i))
            return str(i)
        except MlflowException as e:
            return e.error_code

    results = _parallel(log)
    winners = [r for r in results if r != "INVALID_PARAMETER_VALUE"]
    assert len(winners) == 1, results
    assert client.get_run(run_id).data.params == {"contested": winners[0]}


def test_concurrent_metrics_and_tags_on_one_run(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id

    def log(i):
        client.log_metric(run_id, "m", float(i), timestamp=1000 + i, step=i)
        client.set_tag(run_id, "t", "x")
        client.set_tag(run_id, f"t{i}", str(i))

    assert [r for r in _parallel(log) if isinstance(r, BaseException)] == []
    run = client.get_run(run_id)
    assert run.data.metrics == {"m": float(N - 1)}
    assert run.data.tags["t"] == "x"
    assert all(run.data.tags[f"t{i}"] == str(i) for i in range(N))
    assert sorted(m.step for m in client.get_metric_history(run_id, "m")) == list(range(N))


def test_concurrent_rename_via_tag_and_update(client, experiment_id):
    run_id = client.create_run(experiment_id, run_name="start").info.run_id

    def rename(i):
        if i % 2:
            client.update_run(run_id, name=f"name-{i}")
        else:
            client.set_tag(run_id, "mlflow.runName", f"name-{i}")

    assert [r for r in _parallel(rename, 8) if isinstance(r, BaseException)] == []
    run = client.get_run(run_id)
    # Whatever order the writes landed in, the attribute and the tag agree.
    assert run.info.run_name == run.data.tags["mlflow.runName"]
    assert run.info.run_name.startswith("name-")


def test_concurrent_batches_with_same_tags_in_different_order(client, experiment_id):
    # Several workers of one job set the same tags, each in its own dict order.
    run_id = client.create_run(experiment_id).info.run_id
    keys = [f"k{n:02d}" for n in range(20)]

    def log(i):
        rnd = random.Random(i)
        for j in range(5):
            order = keys[:]
            rnd.shuffle(order)
            client.log_batch(
                run_id,
                metrics=[Metric(k, float(j), 1000 + j, j) for k in order],
                params=[Param(k, "same") for k in order],
                tags=[RunTag(k, "v") for k in order],
            )

    errors = [r for r in _parallel(log, 8) if isinstance(r, BaseException)]
    assert errors == []
    run = client.get_run(run_id)
    assert all(run.data.tags[k] == "v" and run.data.params[k] == "same" for k in keys)
    assert run.data.metrics == {k: 4.0 for k in keys}
