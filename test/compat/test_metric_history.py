"""get_metric_history of a long metric: the client pages by 25,000, so 30,000 points take two pages."""

from __future__ import annotations

import math

import pytest
from mlflow.entities import Metric
from mlflow.store.tracking.rest_store import RestStore

N_POINTS = 30_000
T0 = 1_700_000_000_000


def _value(i: int) -> float:
    return i / 7 - 1000.0


@pytest.fixture
def page_calls(monkeypatch):
    """Records (max_results, page_token, number of points returned) for each history page requested."""
    calls = []
    real = RestStore.get_metric_history

    def spy(self, run_id, metric_key, max_results=None, page_token=None):
        page = real(self, run_id, metric_key, max_results=max_results, page_token=page_token)
        calls.append((max_results, page_token, len(page)))
        return page

    monkeypatch.setattr(RestStore, "get_metric_history", spy)
    return calls


def test_history_of_30000_points_spans_pages(client, experiment_id, page_calls):
    run_id = client.create_run(experiment_id).info.run_id
    metrics = [Metric("long", _value(i), T0 + i, i) for i in range(N_POINTS)]
    client.log_batch(run_id, metrics=metrics)  # the client sends 30 requests of 1,000
    client.log_metric(run_id, "short", 1.0, timestamp=T0, step=0)

    history = client.get_metric_history(run_id, "long")

    assert len(history) == N_POINTS
    assert len(page_calls) == 2, page_calls
    assert page_calls[0][0] == 25_000 and page_calls[0][1] is None and page_calls[0][2] == 25_000
    assert page_calls[1][1] is not None and page_calls[1][2] == N_POINTS - 25_000
    got = sorted((m.step, m.timestamp, m.value) for m in history)
    assert got == [(i, T0 + i, _value(i)) for i in range(N_POINTS)]
    assert all(m.key == "long" for m in history)
    # Only the asked-for key comes back, and the latest value is the highest step.
    assert [(m.key, m.value) for m in client.get_metric_history(run_id, "short")] == [("short", 1.0)]
    assert math.isclose(client.get_run(run_id).data.metrics["long"], _value(N_POINTS - 1))


def test_history_smaller_than_a_page_has_no_token(client, experiment_id, page_calls):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("m", float(i), T0 + i, i) for i in range(10)])
    history = client.get_metric_history(run_id, "m")
    assert sorted(m.value for m in history) == [float(i) for i in range(10)]
    assert len(page_calls) == 1


def test_history_pages_with_small_max_results(client, experiment_id):
    # The REST store accepts an explicit page size; walk a 2,500-point history 1,000 at a time.
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("m", float(i), T0 + i, i) for i in range(2500)])
    store = client._tracking_client.store
    steps, token, pages = [], None, 0
    while True:
        page = store.get_metric_history(run_id, "m", max_results=1000, page_token=token)
        pages += 1
        assert len(page) <= 1000
        steps.extend(m.step for m in page)
        token = page.token
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(steps) == list(range(2500))
    assert len(set(steps)) == 2500
