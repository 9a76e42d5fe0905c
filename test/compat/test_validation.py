"""Validation the server owns (mlflow/utils/validation.py): the client sends these unchecked."""

from __future__ import annotations

import pytest
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id).info.run_id


@pytest.fixture
def invalid(http_log):
    """invalid(fn, *args): the call fails with INVALID_PARAMETER_VALUE and the server answered 400."""

    def check(fn, *args, **kwargs):
        with pytest.raises(MlflowException) as e, http_log.call() as call:
            fn(*args, **kwargs)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", str(e.value)
        assert call.status == 400
        return e.value

    return check


@pytest.mark.parametrize("key", ["bad!key", "a" * 251, "/abs", "../up", "a/../b", "."])
def test_bad_keys_are_refused(client, run_id, key, invalid):
    invalid(client.log_metric, run_id, key, 1.0)
    invalid(client.log_param, run_id, key, "v")
    invalid(client.set_tag, run_id, key, "v")
    run = client.get_run(run_id)
    assert key not in run.data.metrics and key not in run.data.params and key not in run.data.tags


def test_unusual_but_valid_keys(client, run_id):
    keys = ["a" * 250, "with space", "dash-ed", "dot.ted", "sl/ash", "co:lon", "under_score", "ÄÖü"]
    for k in keys:
        client.log_metric(run_id, k, 1.0)
        client.log_param(run_id, k, "v")
        client.set_tag(run_id, k, "v")
    run = client.get_run(run_id)
    for k in keys:
        assert run.data.metrics[k] == 1.0
        assert run.data.params[k] == "v"
        assert run.data.tags[k] == "v"


def test_long_param_value_is_truncated_to_6000(client, run_id):
    client.log_param(run_id, "long", "p" * 7000)
    client.log_param(run_id, "exact", "q" * 6000)
    params = client.get_run(run_id).data.params
    assert params["long"] == "p" * 6000
    assert params["exact"] == "q" * 6000


def test_long_tag_value_is_truncated_to_8000(client, run_id):
    client.set_tag(run_id, "long", "t" * 9000)
    assert client.get_run(run_id).data.tags["long"] == "t" * 8000


def test_unicode_and_quotes_round_trip(client, run_id):
    value = "héllo 'wörld' \"quoted\" \\ back 🚀 \n newline"
    client.log_param(run_id, "u", value)
    client.set_tag(run_id, "u", value)
    run = client.get_run(run_id)
    assert run.data.params["u"] == value
    assert run.data.tags["u"] == value


@pytest.mark.parametrize("name", ["", "   ", "x" * 501])
def test_bad_experiment_names_are_refused(client, name, invalid):
    invalid(client.create_experiment, name)


def test_rename_to_empty_name_is_refused(client, experiment_id, exp_name, invalid):
    invalid(client.rename_experiment, experiment_id, "")
    assert client.get_experiment(experiment_id).name == exp_name


def test_negative_metric_timestamp_is_refused(client, run_id, invalid):
    invalid(client.log_batch, run_id, metrics=[Metric("m", 1.0, -5, 0)])
    assert client.get_run(run_id).data.metrics == {}


def test_big_steps_and_timestamps_round_trip(client, run_id):
    # Steps are int64; people log time.time_ns() as the step. Beyond 2**53, so not a JS double.
    big_step = 1_795_000_000_123_456_789
    ts = 2**50
    client.log_metric(run_id, "big", 1.0, timestamp=ts, step=big_step)
    client.log_metric(run_id, "neg", 2.0, timestamp=0, step=-3)
    hist = client.get_metric_history(run_id, "big")
    assert [(m.step, m.timestamp) for m in hist] == [(big_step, ts)]
    assert [(m.step, m.timestamp) for m in client.get_metric_history(run_id, "neg")] == [(-3, 0)]


def test_same_param_in_batch_and_single_call_is_idempotent(client, run_id):
    client.log_param(run_id, "k", "v")
    client.log_batch(run_id, params=[Param("k", "v")])
    assert client.get_run(run_id).data.params == {"k": "v"}


def test_log_to_unknown_run_is_404(client):
    with pytest.raises(MlflowException) as e:
        client.log_metric("a" * 32, "m", 1.0)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.log_batch("a" * 32, params=[Param("k", "v")])
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
