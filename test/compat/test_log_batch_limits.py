"""LogBatch limits (1000 metrics, 100 params, 100 tags, 1000 entities, 1 MB body).

MlflowClient.log_batch never sends an oversize batch: it splits params/tags into chunks of 100 and fills
each request with metrics up to 1000 entities. So "one past the limit" through MlflowClient must succeed
(several requests), while the same entities sent as ONE request through the client's own REST store
(`RestStore.log_batch`, one POST /runs/log-batch with the list as given) must be refused by the server with
400 INVALID_PARAMETER_VALUE, and nothing of the refused batch may be stored.
"""

from __future__ import annotations

import json

import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.rest_store import RestStore


def _metrics(n, key="m"):
    return [Metric(key, float(i), 1_700_000_000_000 + i, i) for i in range(n)]


def _params(n):
    return [Param(f"p{i}", f"v{i}") for i in range(n)]


def _tags(n):
    return [RunTag(f"t{i}", f"v{i}") for i in range(n)]


@pytest.fixture
def store(client) -> RestStore:
    s = client._tracking_client.store
    assert isinstance(s, RestStore)
    return s


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id).info.run_id


@pytest.fixture
def batches(http_log):
    """batches(): the POST /runs/log-batch requests the client really sent, as (body, HTTP status)."""
    return lambda: [(c.body, c.status) for c in http_log if c.endpoint.endswith("/runs/log-batch")]


def _user_tags(run):
    return {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}


# --- at the limits: one request each, accepted -------------------------------------------------


def test_1000_metrics_in_one_request(client, store, run_id, batches):
    store.log_batch(run_id, metrics=_metrics(1000), params=[], tags=[])
    assert len(batches()) == 1
    assert len(batches()[0][0]["metrics"]) == 1000
    assert batches()[0][1] == 200
    assert len(client.get_metric_history(run_id, "m")) == 1000
    assert client.get_run(run_id).data.metrics == {"m": 999.0}


def test_100_params_in_one_request(client, store, run_id):
    store.log_batch(run_id, metrics=[], params=_params(100), tags=[])
    assert client.get_run(run_id).data.params == {f"p{i}": f"v{i}" for i in range(100)}


def test_100_tags_in_one_request(client, store, run_id):
    store.log_batch(run_id, metrics=[], params=[], tags=_tags(100))
    assert _user_tags(client.get_run(run_id)) == {f"t{i}": f"v{i}" for i in range(100)}


def test_1000_entities_total_in_one_request(client, store, run_id, batches):
    store.log_batch(run_id, metrics=_metrics(800), params=_params(100), tags=_tags(100))
    assert len(batches()) == 1
    assert batches()[0][1] == 200
    run = client.get_run(run_id)
    assert len(run.data.params) == 100
    assert len(_user_tags(run)) == 100
    assert len(client.get_metric_history(run_id, "m")) == 800


# --- one past each limit in ONE request: refused, nothing stored ------------------------------


@pytest.mark.parametrize(
    "metrics,params,tags",
    [
        pytest.param(1001, 0, 0, id="1001-metrics"),
        pytest.param(0, 101, 0, id="101-params"),
        pytest.param(0, 0, 101, id="101-tags"),
        pytest.param(801, 100, 100, id="1001-entities"),
    ],
)
def test_one_past_the_limit_is_refused(client, store, run_id, batches, metrics, params, tags):
    with pytest.raises(MlflowException) as e:
        store.log_batch(run_id, metrics=_metrics(metrics), params=_params(params), tags=_tags(tags))
    assert len(batches()) == 1, "the client's REST store sends the batch as given"
    body, status = batches()[0]
    sent = tuple(len(body.get(k, [])) for k in ("metrics", "params", "tags"))
    assert sent == (metrics, params, tags)
    assert status == 400
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    run = client.get_run(run_id)
    assert run.data.metrics == {}
    assert run.data.params == {}
    assert _user_tags(run) == {}


def test_duplicate_param_keys_in_one_request_are_refused(client, store, run_id):
    with pytest.raises(MlflowException) as e:
        store.log_batch(run_id, metrics=[], params=[Param("k", "1"), Param("k", "2")], tags=[])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {}


def test_body_over_one_megabyte_is_refused(client, store, run_id, batches):
    # 200 entities (within the count limits) but ~1.4 MB of JSON: only the byte limit is exceeded.
    params = [Param(f"p{i}", "x" * 6000) for i in range(100)]
    tags = [RunTag(f"t{i}", "y" * 8000) for i in range(100)]
    with pytest.raises(MlflowException) as e:
        store.log_batch(run_id, metrics=[], params=params, tags=tags)
    (body, status), = batches()
    assert len(json.dumps(body)) > 1_000_000
    assert status == 400
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    # The next call reuses the client's keep-alive connection: refusing the body early must not
    # leave that connection unusable.
    assert client.get_run(run_id).data.params == {}


def test_body_just_under_one_megabyte_is_accepted(client, store, run_id, batches):
    params = [Param(f"p{i}", "x" * 6000) for i in range(100)]
    tags = [RunTag(f"t{i}", "y" * 3500) for i in range(100)]
    store.log_batch(run_id, metrics=[], params=params, tags=tags)
    (body, status), = batches()
    assert 900_000 < len(json.dumps(body)) < 1_000_000
    assert status == 200
    assert len(client.get_run(run_id).data.params) == 100


# --- MlflowClient.log_batch splits what the server would refuse ---------------------------------


def test_client_log_batch_chunks_past_the_limits(client, run_id, batches):
    client.log_batch(run_id, metrics=_metrics(2500), params=_params(250), tags=_tags(150))
    assert len(batches()) >= 3
    for body, status in batches():
        assert status == 200
        n_m, n_p, n_t = (len(body.get(k, [])) for k in ("metrics", "params", "tags"))
        assert n_m <= 1000 and n_p <= 100 and n_t <= 100 and n_m + n_p + n_t <= 1000
    run = client.get_run(run_id)
    assert len(run.data.params) == 250
    assert len(_user_tags(run)) == 150
    history = client.get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == list(range(2500))
