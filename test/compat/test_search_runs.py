"""search_runs over 2,500 runs: filters, order_by, paging, through mlflow.search_runs and MlflowClient.

The expected answers are computed in Python from the same recipe that created the runs.
"""

from __future__ import annotations

import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

N_RUNS = 2500
BASE_TIME = 1_750_000_000_000
MODELS = ("tree", "linear", "mlp")


@dataclass
class Spec:
    i: int
    run_id: str = ""

    @property
    def name(self) -> str:
        return f"{'sweep' if self.i % 2 == 0 else 'other'}-{self.i:04d}"

    @property
    def start_time(self) -> int:
        return BASE_TIME + self.i * 1000

    @property
    def loss(self) -> float | None:
        # A permutation of 0..2499 (37 is prime to 2500) scaled; every 10th run has no loss.
        return None if self.i % 10 == 0 else ((self.i * 37) % N_RUNS) / 100

    @property
    def acc(self) -> float:
        return self.i / N_RUNS

    @property
    def model(self) -> str:
        return MODELS[self.i % 3]

    @property
    def group(self) -> str:
        return f"g{self.i % 5}"

    @property
    def status(self) -> str:
        return "FINISHED" if self.i % 50 == 0 else "RUNNING"


@pytest.fixture(scope="module")
def big(_client_env):
    """An experiment with N_RUNS runs; returns (experiment_id, specs by index)."""
    client = mlflow.MlflowClient(_client_env)
    exp_id = client.create_experiment(f"compat-search-{uuid.uuid4().hex[:10]}")
    specs = [Spec(i) for i in range(N_RUNS)]

    def make(spec: Spec) -> None:
        run = client.create_run(
            exp_id,
            start_time=spec.start_time,
            run_name=spec.name,
            tags={"group": spec.group, "mlflow.runName": spec.name},
        )
        spec.run_id = run.info.run_id
        metrics = [Metric("acc", spec.acc, spec.start_time, 0)]
        if spec.loss is not None:
            metrics.append(Metric("loss", spec.loss, spec.start_time, 0))
        client.log_batch(
            spec.run_id,
            metrics=metrics,
            params=[Param("model", spec.model), Param("idx", str(spec.i))],
            tags=[RunTag("parity", "even" if spec.i % 2 == 0 else "odd")],
        )
        if spec.status != "RUNNING":
            client.set_terminated(spec.run_id, status=spec.status, end_time=spec.start_time + 500)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, specs))
    print(f"\ncreated {N_RUNS} runs in {time.monotonic() - t0:.1f}s")
    return exp_id, specs


def _ids(runs) -> list[str]:
    return [r.info.run_id for r in runs]


def _all_pages(client, exp_id, max_results, **kw) -> tuple[list[str], int]:
    out, token, pages = [], None, 0
    while True:
        page = client.search_runs([exp_id], max_results=max_results, page_token=token, **kw)
        pages += 1
        assert len(page) <= max_results
        out.extend(_ids(page))
        token = page.token
        if not token:
            return out, pages
        assert pages <= N_RUNS, "paging does not terminate"


def default_order(specs):
    return [s.run_id for s in sorted(specs, key=lambda s: -s.start_time)]


def test_pandas_search_returns_every_run_in_default_order(big):
    exp_id, specs = big
    df = mlflow.search_runs([exp_id])
    assert len(df) == N_RUNS
    assert list(df["run_id"]) == default_order(specs)
    assert df["run_id"].is_unique
    by_id = {s.run_id: s for s in specs}
    row = df.iloc[0]
    spec = by_id[row["run_id"]]
    assert row["params.model"] == spec.model
    assert row["tags.group"] == spec.group
    assert row["tags.mlflow.runName"] == spec.name
    assert row["status"] == spec.status
    assert math.isclose(row["metrics.acc"], spec.acc)
    # Runs without the metric have NaN in its column.
    missing = df[df["run_id"].map(lambda r: by_id[r].loss is None)]
    assert len(missing) == N_RUNS // 10
    assert missing["metrics.loss"].isna().all()
    assert df["metrics.loss"].notna().sum() == N_RUNS - N_RUNS // 10


def test_pandas_search_pages_through_small_pages(big, monkeypatch, http_log):
    # mlflow.search_runs asks for 10,000 runs a page; shrink that to make it follow page tokens.
    import mlflow.tracking.fluent as fluent

    exp_id, specs = big
    monkeypatch.setattr(fluent, "NUM_RUNS_PER_PAGE_PANDAS", 900)
    df = mlflow.search_runs([exp_id], order_by=["metrics.acc DESC"])
    searches = [c for c in http_log if c.endpoint.endswith("/runs/search")]
    assert len(searches) == 3
    assert [c.body.get("page_token") is None for c in searches] == [True, False, False]
    assert len(df) == N_RUNS and df["run_id"].is_unique
    assert list(df["run_id"]) == [s.run_id for s in sorted(specs, key=lambda s: -s.acc)]


def test_pandas_search_max_results_cuts_in_order(big):
    exp_id, specs = big
    df = mlflow.search_runs([exp_id], max_results=1234, order_by=["attributes.start_time ASC"])
    assert list(df["run_id"]) == [s.run_id for s in specs[:1234]]


def test_pandas_search_with_filter_and_order(big):
    exp_id, specs = big
    df = mlflow.search_runs(
        [exp_id], filter_string="params.model = 'mlp' AND metrics.loss < 10", order_by=["metrics.loss DESC"]
    )
    expected = sorted(
        (s for s in specs if s.model == "mlp" and s.loss is not None and s.loss < 10), key=lambda s: -s.loss
    )
    assert list(df["run_id"]) == [s.run_id for s in expected]
    assert list(df["metrics.loss"]) == [s.loss for s in expected]


@pytest.mark.parametrize("page_size", [1000, 333])
def test_client_paging_has_no_duplicates_and_none_missing(big, client, page_size):
    exp_id, specs = big
    ids, pages = _all_pages(client, exp_id, page_size)
    assert pages == math.ceil(N_RUNS / page_size)
    assert len(ids) == len(set(ids)) == N_RUNS
    assert ids == default_order(specs)


def test_client_default_max_results_is_1000(big, client):
    exp_id, specs = big
    first = client.search_runs([exp_id])
    assert len(first) == 1000
    assert first.token


@pytest.mark.parametrize(
    "flt,pred",
    [
        ("metrics.loss < 5", lambda s: s.loss is not None and s.loss < 5),
        ("metrics.loss >= 24.5", lambda s: s.loss is not None and s.loss >= 24.5),
        ("metrics.acc = 0.5", lambda s: s.acc == 0.5),
        ("metrics.loss != 1", lambda s: s.loss is not None and s.loss != 1),
        ("params.model = 'tree'", lambda s: s.model == "tree"),
        ("params.model != 'tree'", lambda s: s.model != "tree"),
        ("params.idx LIKE '12%'", lambda s: str(s.i).startswith("12")),
        ("tags.group = 'g2'", lambda s: s.group == "g2"),
        ("tags.parity = 'odd' AND tags.group = 'g1'", lambda s: s.i % 2 == 1 and s.group == "g1"),
        ("tags.`mlflow.runName` LIKE 'sweep-00%'", lambda s: s.name.startswith("sweep-00")),
        ("tags.mlflow.runName ILIKE 'SWEEP-01%'", lambda s: s.name.startswith("sweep-01")),
        ("attributes.status = 'FINISHED'", lambda s: s.status == "FINISHED"),
        ("status != 'FINISHED'", lambda s: s.status != "FINISHED"),
        ("run_name LIKE 'sweep-%'", lambda s: s.name.startswith("sweep-")),
        ("attributes.run_name = 'other-0777'", lambda s: s.name == "other-0777"),
        ("run_name LIKE 'SWEEP-%'", lambda s: False),
        (f"attributes.start_time > {BASE_TIME + 2000 * 1000}", lambda s: s.i > 2000),
        (f"start_time <= {BASE_TIME + 10 * 1000}", lambda s: s.i <= 10),
        ("params.lr IS NULL", lambda s: True),
        ("params.model IS NOT NULL AND metrics.loss < 1", lambda s: s.loss is not None and s.loss < 1),
        (
            "metrics.loss < 10 AND params.model = 'linear' AND tags.group = 'g3' AND attributes.status = 'RUNNING'",
            lambda s: s.loss is not None and s.loss < 10 and s.model == "linear" and s.group == "g3"
            and s.status == "RUNNING",
        ),
    ],
)
def test_filters(big, client, flt, pred):
    exp_id, specs = big
    got, _ = _all_pages(client, exp_id, 5000, filter_string=flt)
    expected = [s.run_id for s in sorted(specs, key=lambda s: -s.start_time) if pred(s)]
    assert got == expected


def test_filter_run_id_in(big, client):
    exp_id, specs = big
    chosen = [specs[3].run_id, specs[1500].run_id, specs[2499].run_id]
    quoted = ", ".join(f"'{r}'" for r in chosen)
    got = client.search_runs([exp_id], filter_string=f"attributes.run_id IN ({quoted})")
    assert set(_ids(got)) == set(chosen)
    got_not = client.search_runs([exp_id], filter_string=f"run_id NOT IN ({quoted})", max_results=5000)
    assert len(got_not) == N_RUNS - 3
    assert not set(_ids(got_not)) & set(chosen)


def _metric_order(specs, desc):
    present = sorted((s for s in specs if s.loss is not None), key=lambda s: s.loss, reverse=desc)
    missing = {s.run_id for s in specs if s.loss is None}
    return [s.run_id for s in present], missing


@pytest.mark.parametrize("desc", [False, True], ids=["asc", "desc"])
def test_order_by_metric_missing_last(big, client, desc):
    exp_id, specs = big
    got, _ = _all_pages(client, exp_id, 1000, order_by=[f"metrics.loss {'DESC' if desc else 'ASC'}"])
    present, missing = _metric_order(specs, desc)
    assert len(got) == N_RUNS
    assert got[: len(present)] == present
    assert set(got[len(present):]) == missing


def test_order_by_metric_pandas(big):
    exp_id, specs = big
    df = mlflow.search_runs([exp_id], order_by=["metrics.loss ASC"])
    present, missing = _metric_order(specs, False)
    assert len(df) == N_RUNS
    assert list(df["run_id"])[: len(present)] == present
    assert df["metrics.loss"].iloc[len(present):].isna().all()
    assert df["metrics.loss"].iloc[: len(present)].is_monotonic_increasing


def test_order_by_param_then_metric(big, client):
    exp_id, specs = big
    got, _ = _all_pages(client, exp_id, 1000, order_by=["params.model ASC", "metrics.acc DESC"])
    expected = [s.run_id for s in sorted(specs, key=lambda s: (s.model, -s.acc))]
    assert got == expected


def test_order_by_param_string_order(big, client):
    exp_id, specs = big
    # Params are strings: "10" < "9".
    got = client.search_runs([exp_id], order_by=["params.idx DESC"], max_results=20)
    expected = [s.run_id for s in sorted(specs, key=lambda s: str(s.i), reverse=True)][:20]
    assert _ids(got) == expected


@pytest.mark.parametrize(
    "order,key,reverse",
    [
        ("attributes.start_time ASC", lambda s: s.start_time, False),
        ("start_time DESC", lambda s: s.start_time, True),
        ("attributes.run_name DESC", lambda s: s.name, True),
        ("run_name", lambda s: s.name, False),
    ],
)
def test_order_by_attributes(big, client, order, key, reverse):
    exp_id, specs = big
    got, _ = _all_pages(client, exp_id, 1000, order_by=[order])
    assert got == [s.run_id for s in sorted(specs, key=key, reverse=reverse)]


def test_order_by_status_then_start_time(big, client):
    exp_id, specs = big
    got = client.search_runs([exp_id], order_by=["attributes.status ASC", "start_time ASC"], max_results=60)
    finished = [s.run_id for s in specs if s.status == "FINISHED"]
    assert _ids(got)[: len(finished)] == finished  # "FINISHED" < "RUNNING"
    assert _ids(got)[len(finished)] == specs[1].run_id


def test_ordered_paging_matches_single_page(big, client):
    exp_id, _ = big
    order = ["metrics.loss DESC"]
    paged, pages = _all_pages(client, exp_id, 700, order_by=order, filter_string="params.model != 'linear'")
    single = client.search_runs(
        [exp_id], order_by=order, filter_string="params.model != 'linear'", max_results=5000
    )
    assert pages == math.ceil(len(single) / 700)
    assert paged == _ids(single)


def test_bad_filter_and_order_are_invalid_parameter(big, client, http_log):
    exp_id, _ = big
    for kwargs in (
        {"filter_string": "metrics.loss <"},
        {"filter_string": "foo.bar = 'x'"},
        {"filter_string": "metrics.loss = 1 OR metrics.loss = 2"},
        {"order_by": ["metrics.loss SIDEWAYS"]},
    ):
        with pytest.raises(MlflowException) as e, http_log.call() as call:
            client.search_runs([exp_id], **kwargs)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", kwargs
        assert call.status == 400


def test_bad_page_token_is_invalid_parameter(big, client):
    exp_id, _ = big
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], page_token="not-a-token")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_max_results_over_50000_is_refused(big, client):
    exp_id, _ = big
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], max_results=50001)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_across_experiments(big, client, experiment_id):
    exp_id, _ = big
    extra = client.create_run(experiment_id, tags={"group": "g0"}).info.run_id
    got = client.search_runs([exp_id, experiment_id], filter_string="tags.group = 'g0'", max_results=5000)
    assert len(got) == N_RUNS // 5 + 1
    assert extra in _ids(got)
