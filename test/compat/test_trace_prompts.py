"""Prompts used inside traces (LinkPromptsToTrace) and the filter correlation (NPMI) over traces,
with the real client: a prompt loaded in a traced function is linked by the client's exporter, and
search_traces finds the trace by `prompt = 'name/version'`; TracingClient computes how two filters
co-occur."""

import math
import uuid

import mlflow
import pytest
import requests
from mlflow.tracing.client import TracingClient

mlflow.tracing.enable()


def test_a_prompt_loaded_in_a_trace_is_linked_and_searchable(client, experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    name = f"greet_{uuid.uuid4().hex[:8]}"
    mlflow.genai.register_prompt(name=name, template="Hello {{who}}")
    mlflow.genai.register_prompt(name=name, template="Hi {{who}}!")

    @mlflow.trace
    def answer(who, version):
        return mlflow.genai.load_prompt(f"prompts:/{name}/{version}").format(who=who)

    assert answer("ann", 1) == "Hello ann"
    first = mlflow.get_last_active_trace_id()
    assert answer("bob", 2) == "Hi bob!"
    second = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()

    def found(version):
        traces = mlflow.search_traces(locations=[experiment_id], filter_string=f"prompt = '{name}/{version}'", return_type="list")
        return [t.info.trace_id for t in traces]

    assert found(1) == [first]
    assert found(2) == [second]
    assert found(3) == []
    # Linking again (the client retries) changes nothing.
    TracingClient().link_prompt_versions_to_trace(first, [mlflow.genai.load_prompt(f"prompts:/{name}/1")])
    assert found(1) == [first]


def test_prompt_filter_and_link_refusals(server_url, experiment_id):
    bad = requests.post(f"{server_url}/api/3.0/mlflow/traces/search", json={
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}],
        "filter": "prompt = 'no-version'",
    })
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    missing = requests.post(f"{server_url}/api/2.0/mlflow/traces/link-prompts", json={
        "trace_id": "tr-" + "0" * 32, "prompt_versions": [{"name": "p", "version": "1"}],
    })
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@mlflow.trace
def step(i):
    mlflow.update_current_trace(tags={"env": "prod" if i % 2 else "dev", "slow": "yes" if i % 4 == 1 else "no"})
    return i


def test_filter_correlation_counts_and_npmi(experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    for i in range(8):
        step(i)
    mlflow.flush_trace_async_logging()
    tc = TracingClient()

    # prod: 1,3,5,7; slow: 1,5 (always prod).
    r = tc.calculate_trace_filter_correlation([experiment_id], "tags.env = 'prod'", "tags.slow = 'yes'")
    assert (r.total_count, r.filter1_count, r.filter2_count, r.joint_count) == (8, 4, 2, 2)
    assert r.npmi == pytest.approx(math.log(2) / math.log(4))  # pmi log(2), over -log P(both) = log(4)
    assert -1 <= r.npmi_smoothed <= 1 and r.npmi_smoothed < r.npmi

    never = tc.calculate_trace_filter_correlation([experiment_id], "tags.env = 'dev'", "tags.slow = 'yes'")
    assert (never.joint_count, never.npmi) == (0, -1.0)

    # Inside a base filter, the population is the traces it matches.
    based = tc.calculate_trace_filter_correlation([experiment_id], "tags.slow = 'yes'", "tags.slow = 'no'", base_filter="tags.env = 'prod'")
    assert (based.total_count, based.filter1_count, based.filter2_count, based.joint_count) == (4, 2, 2, 0)

    # A filter matching nothing leaves NPMI undefined: left out of the answer, read as NaN / None.
    none = tc.calculate_trace_filter_correlation([experiment_id], "tags.env = 'staging'", "tags.slow = 'yes'")
    assert none.filter1_count == 0 and math.isnan(none.npmi) and none.npmi_smoothed is None
