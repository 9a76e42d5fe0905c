"""Finer search_runs semantics on small experiments: NaN/Inf ordering, tie-breakers, quoting."""

from __future__ import annotations

import math

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

T0 = 1_760_000_000_000


@pytest.fixture
def valued_runs(client, experiment_id):
    """Runs named by their metric value; 'missing' has no metric 'v'."""
    values = {"neg-inf": -math.inf, "neg": -0.5, "one": 1.0, "three": 3.0, "pos-inf": math.inf, "nan": math.nan}
    ids = {}
    for offset, (name, value) in enumerate(list(values.items()) + [("missing", None)]):
        run = client.create_run(experiment_id, run_name=name, start_time=T0 + offset * 1000)
        ids[name] = run.info.run_id
        if value is not None:
            client.log_metric(run.info.run_id, "v", value, timestamp=T0, step=0)
        client.log_metric(run.info.run_id, "other", 1.0, timestamp=T0, step=0)
    return experiment_id, ids


def _names(runs):
    return [r.info.run_name for r in runs]


def test_order_by_metric_with_nan_and_infinity(client, valued_runs):
    exp_id, _ = valued_runs
    asc = client.search_runs([exp_id], order_by=["metrics.v ASC"])
    assert _names(asc) == ["neg-inf", "neg", "one", "three", "pos-inf", "nan", "missing"]
    desc = client.search_runs([exp_id], order_by=["metrics.v DESC"])
    assert _names(desc) == ["pos-inf", "three", "one", "neg", "neg-inf", "nan", "missing"]


def test_filter_with_infinity_values(client, valued_runs):
    exp_id, _ = valued_runs
    assert set(_names(client.search_runs([exp_id], filter_string="metrics.v > 2"))) == {"three", "pos-inf"}
    assert set(_names(client.search_runs([exp_id], filter_string="metrics.v < 0"))) == {"neg", "neg-inf"}


def test_ties_fall_back_to_start_time_desc_then_run_id(client, valued_runs):
    exp_id, ids = valued_runs
    # Every run has other=1.0: order is then start_time DESC (the reference server's natural order).
    got = client.search_runs([exp_id], order_by=["metrics.other ASC"])
    assert _names(got) == ["missing", "nan", "pos-inf", "three", "one", "neg", "neg-inf"]
    # Same start_time: run_id ascending breaks the tie.
    twins = [client.create_run(exp_id, start_time=T0 - 5000, tags={"twin": "1"}).info.run_id for _ in range(5)]
    got = client.search_runs([exp_id], filter_string="tags.twin = '1'")
    assert [r.info.run_id for r in got] == sorted(twins)


def test_order_by_missing_param_and_tag_sorts_last(client, experiment_id):
    a = client.create_run(experiment_id, start_time=T0, tags={"t": "b"}).info.run_id
    b = client.create_run(experiment_id, start_time=T0 + 1, tags={"t": "a"}).info.run_id
    c = client.create_run(experiment_id, start_time=T0 + 2).info.run_id
    client.log_param(a, "p", "y")
    client.log_param(b, "p", "x")
    for direction in ("ASC", "DESC"):
        got = [r.info.run_id for r in client.search_runs([experiment_id], order_by=[f"params.p {direction}"])]
        assert got[-1] == c, direction
        got = [r.info.run_id for r in client.search_runs([experiment_id], order_by=[f"tags.t {direction}"])]
        assert got[-1] == c, direction
    got = [r.info.run_id for r in client.search_runs([experiment_id], order_by=["params.p DESC"])]
    assert got == [a, b, c]


def test_quoted_keys(client, experiment_id):
    run = client.create_run(experiment_id).info.run_id
    other = client.create_run(experiment_id).info.run_id
    client.log_metric(run, "my-metric", 0.95)
    client.log_param(run, "batch size", "32")
    client.set_tag(run, "team.name", "it's")
    client.log_metric(other, "my-metric", 0.5)

    def ids(flt):
        return [r.info.run_id for r in client.search_runs([experiment_id], filter_string=flt)]

    assert ids('metrics."my-metric" >= 0.9') == [run]
    assert ids("metrics.`my-metric` < 0.9") == [other]
    assert ids("params.`batch size` = '32'") == [run]
    assert ids('params."batch size" = "32"') == [run]
    assert ids("tags.`team.name` = \"it's\"") == [run]
    assert ids("tags.team.name LIKE 'it%'") == [run]
    assert ids("`metrics`.`my-metric` > 0.6 and param.`batch size` != '31'") == [run]


def test_alias_prefixes(client, experiment_id):
    run = client.create_run(experiment_id, run_name="alias-run").info.run_id
    client.log_metric(run, "m", 2.0)
    client.log_param(run, "p", "v")
    client.set_tag(run, "t", "v")
    client.create_run(experiment_id, run_name="decoy")
    for flt in (
        "metric.m = 2",
        "param.p = 'v'",
        "parameter.p = 'v'",
        "params.p = 'v'",
        "tag.t = 'v'",
        "attribute.run_name = 'alias-run'",
        "attr.run_name = 'alias-run'",
        "run.run_name = 'alias-run'",
        "`Run name` = 'alias-run'",
        "params.p ILIKE 'V'",
        "tags.t IS NOT NULL",
    ):
        got = client.search_runs([experiment_id], filter_string=flt)
        assert [r.info.run_id for r in got] == [run], flt


def test_filter_by_user_end_time_and_artifact_uri(client, experiment_id):
    done = client.create_run(experiment_id, tags={"mlflow.user": "alice"}).info.run_id
    client.set_terminated(done, end_time=T0 + 10)
    client.create_run(experiment_id, tags={"mlflow.user": "bob"})
    got = client.search_runs([experiment_id], filter_string="attributes.user_id = 'alice'")
    assert [r.info.run_id for r in got] == [done]
    got = client.search_runs([experiment_id], filter_string=f"attributes.end_time = {T0 + 10}")
    assert [r.info.run_id for r in got] == [done]
    got = client.search_runs([experiment_id], filter_string=f"attributes.artifact_uri LIKE '%{done}%'")
    assert [r.info.run_id for r in got] == [done]


def test_search_in_deleted_experiment_with_view_types(client, experiment_id):
    run = client.create_run(experiment_id).info.run_id
    client.delete_experiment(experiment_id)
    assert client.search_runs([experiment_id], run_view_type=ViewType.ACTIVE_ONLY) == []
    assert [r.info.run_id for r in client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)] == [run]


def test_empty_experiment_list_gives_nothing(client, experiment_id):
    client.create_run(experiment_id)
    assert client.search_runs([]) == []


def test_duplicate_order_by_field_is_refused(client, experiment_id):
    with pytest.raises(MlflowException) as e:
        client.search_runs([experiment_id], order_by=["metrics.a", "metrics.a DESC"])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_in_is_only_for_run_id(client, experiment_id):
    with pytest.raises(MlflowException) as e:
        client.search_runs([experiment_id], filter_string="params.p IN ('a', 'b')")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_fluent_search_runs_by_experiment_names(experiment_id, exp_name):
    mlflow.MlflowClient().create_run(experiment_id)
    df = mlflow.search_runs(experiment_names=[exp_name])
    assert len(df) == 1
    runs = mlflow.search_runs(experiment_ids=[experiment_id], output_format="list")
    assert len(runs) == 1 and runs[0].info.experiment_id == experiment_id


@pytest.mark.parametrize(
    "flt",
    [
        "params.lr > 1",
        "metrics.m = 'abc'",
        "attributes.status > 1",
        "tags.x IN ('a')",
        "metrics.m LIKE '1'",
        "run_id IN ()",
        "attributes.foo = 'x'",
        "datasets.foo = 'x'",
        "metrics.m = 1 AND",
        "(metrics.m = 1)",
        "metrics.m == 1",
        "params.lr = 0.1",
        "start_time = 'abc'",
        "metrics.m IS NULL",
        "tags.t = 'unterminated",
        "metrics.m = 1 OR metrics.m = 2",
    ],
)
def test_bad_run_filters_are_400(client, experiment_id, http_log, flt):
    with pytest.raises(MlflowException) as e, http_log.call() as call:
        client.search_runs([experiment_id], filter_string=flt)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400


@pytest.mark.parametrize("order", ["foo.bar", "metrics.", "params.p ASC DESC", "start_time ASCENDING"])
def test_bad_run_order_by_is_400(client, experiment_id, http_log, order):
    with pytest.raises(MlflowException) as e, http_log.call() as call:
        client.search_runs([experiment_id], order_by=[order])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400


@pytest.mark.parametrize("flt", ["foo = 'x'", "tags.x > 'a'", "name > 'a'", "creation_time = 'x'", "metrics.m = 1"])
def test_bad_experiment_filters_are_400(client, http_log, flt):
    with pytest.raises(MlflowException) as e, http_log.call() as call:
        client.search_experiments(filter_string=flt)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400


def test_bad_experiment_page_token_is_400(client, http_log):
    with pytest.raises(MlflowException) as e, http_log.call() as call:
        client.search_experiments(page_token="garbage")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400
