"""Searching traces by their spans and the spans view of trace metrics, with the real mlflow client:
`mlflow.search_traces` with `span.*` and `trace.text` filters (what MLflow's UI sends from its search
box and span filters) and RestStore.query_trace_metrics with view SPANS (the UI Overview's tool and
cost charts). Every expected answer is what `mlflow server` 3.18.0 answered for the same traces."""

import time

import mlflow
import pytest
from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
from mlflow.tracking._tracking_service.utils import _get_store

mlflow.tracing.enable()


def _agg(kind, percentile=None):
    return MetricAggregation(aggregation_type=AggregationType(kind), percentile_value=percentile)


@pytest.fixture
def agents(experiment_id):
    """Four agent runs: a TOOL span (failing in the last) and an LLM span with model, provider and
    cost, under a root AGENT span."""
    mlflow.set_experiment(experiment_id=experiment_id)
    for i in range(4):
        with mlflow.start_span("agent" if i % 2 else "chain", span_type="AGENT") as root:
            root.set_inputs({"question": f"what is {i}? héllo"})
            with mlflow.start_span("search_docs", span_type="TOOL") as tool:
                tool.set_inputs({"query": f"q{i}"})
                tool.set_outputs({"docs": ["a", "b"]})
                if i == 3:
                    tool.set_status("ERROR")
            with mlflow.start_span("llm", span_type="LLM") as llm:
                llm.set_attribute("mlflow.llm.model", "gpt-4o" if i < 2 else "claude")
                llm.set_attribute("mlflow.llm.provider", "openai" if i < 2 else "anthropic")
                llm.set_attribute("mlflow.llm.cost", {"input_cost": 0.01 * (i + 1), "output_cost": 0.002 * (i + 1), "total_cost": 0.012 * (i + 1)})
                llm.set_outputs("answer " + str(i))
            root.set_outputs("done")
    mlflow.flush_trace_async_logging()
    return experiment_id


def _found(experiment_id, filter_string):
    traces = mlflow.search_traces(locations=[experiment_id], filter_string=filter_string, return_type="list")
    return sorted(t.info.request_preview for t in traces)


def _q(i):
    return f'{{"question": "what is {i}? héllo"}}'


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("span.name = 'search_docs'", [0, 1, 2, 3]),
        ("span.type = 'TOOL' AND span.status = 'ERROR'", [3]),
        # No one span is both an LLM span and failed: clauses hold for the same span.
        ("span.type = 'LLM' AND span.status = 'ERROR'", []),
        ("span.name LIKE 'search%'", [0, 1, 2, 3]),
        ("span.name IN ('llm', 'x')", [0, 1, 2, 3]),
        ("span.name NOT IN ('llm', 'search_docs', 'agent')", [0, 2]),
        ("span.type = 'AGENT' AND span.name = 'agent'", [1, 3]),
        ("span.content LIKE '%q2%'", [2]),
        ("trace.text ILIKE '%answer 1%'", [1]),
        ("span.attributes.mlflow.llm.model LIKE '%claude%'", [2, 3]),
        ("span.attributes.`mlflow.llm.model` LIKE '%gpt%'", [0, 1]),
        ("span.name = 'llm' AND trace.status = 'OK'", [0, 1, 2, 3]),
    ],
)
def test_search_traces_by_their_spans(agents, filter_string, expected):
    assert _found(agents, filter_string) == [_q(i) for i in expected]


@pytest.mark.parametrize("filter_string", ["span.bogus = 'x'", "span.content = 'x'", "span.name IS NULL", "span.attributes. LIKE 'x'"])
def test_span_filters_outside_the_grammar_are_400(experiment_id, filter_string):
    with pytest.raises(mlflow.MlflowException) as err:
        mlflow.search_traces(locations=[experiment_id], filter_string=filter_string, return_type="list")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def _spans(experiment_id, metric, aggregations, dimensions=None, filters=None, interval=None):
    now = int(time.time() * 1000)
    points = _get_store().query_trace_metrics(
        experiment_ids=[experiment_id], view_type=MetricViewType.SPANS, metric_name=metric, aggregations=aggregations,
        dimensions=dimensions, filters=filters, time_interval_seconds=interval,
        start_time_ms=now - 86_400_000 if interval else None, end_time_ms=now + 60_000 if interval else None,
    )
    return [
        ({k: ("<bucket>" if k == "time_bucket" else v) for k, v in (p.dimensions or {}).items()}, {k: round(v, 6) for k, v in p.values.items()})
        for p in points
    ]


def test_spans_view_of_trace_metrics(agents):
    count = [_agg("COUNT")]
    assert _spans(agents, "span_count", count) == [({}, {"COUNT": 12.0})]
    assert _spans(agents, "span_count", count, ["span_type"]) == [({"span_type": t}, {"COUNT": 4.0}) for t in ("AGENT", "LLM", "TOOL")]
    assert _spans(agents, "span_count", count, ["span_name", "span_status"]) == [
        ({"span_name": "agent", "span_status": "OK"}, {"COUNT": 2.0}),
        ({"span_name": "chain", "span_status": "OK"}, {"COUNT": 2.0}),
        ({"span_name": "llm", "span_status": "OK"}, {"COUNT": 4.0}),
        ({"span_name": "search_docs", "span_status": "ERROR"}, {"COUNT": 1.0}),
        ({"span_name": "search_docs", "span_status": "OK"}, {"COUNT": 3.0}),
    ]
    # What the UI's "tool calls" chart asks.
    assert _spans(agents, "span_count", count, ["span_name"], ["span.type = 'TOOL'"], interval=3600) == [({"span_name": "search_docs", "time_bucket": "<bucket>"}, {"COUNT": 4.0})]
    assert _spans(agents, "span_count", count, None, ["span.status = 'ERROR'", "trace.status = 'OK'"]) == [({}, {"COUNT": 1.0})]
    assert _spans(agents, "span_count", count, ["span_model_name", "span_model_provider"]) == [
        ({"span_model_name": "claude", "span_model_provider": "anthropic"}, {"COUNT": 2.0}),
        ({"span_model_name": "gpt-4o", "span_model_provider": "openai"}, {"COUNT": 2.0}),
    ]
    assert _spans(agents, "total_cost", [_agg("SUM"), _agg("AVG"), _agg("MIN"), _agg("MAX")], ["span_model_name"]) == [
        ({"span_model_name": "claude"}, {"SUM": 0.084, "AVG": 0.042, "MIN": 0.036, "MAX": 0.048}),
        ({"span_model_name": "gpt-4o"}, {"SUM": 0.036, "AVG": 0.018, "MIN": 0.012, "MAX": 0.024}),
    ]
    assert _spans(agents, "input_cost", [_agg("SUM"), _agg("PERCENTILE", 50.0)], ["span_model_provider"], interval=86400) == [
        ({"span_model_provider": "anthropic", "time_bucket": "<bucket>"}, {"SUM": 0.07, "P50.0": 0.035}),
        ({"span_model_provider": "openai", "time_bucket": "<bucket>"}, {"SUM": 0.03, "P50.0": 0.015}),
    ]
    assert _spans(agents, "output_cost", [_agg("SUM")]) == [({}, {"SUM": 0.02})]
    assert _spans(agents, "latency", [_agg("MIN")], ["span_name"], ["span.name = 'nope'"]) == []
    [(_, latency)] = _spans(agents, "latency", [_agg("AVG"), _agg("MAX")], None, ["span.name = 'llm'"])
    assert latency["MAX"] >= latency["AVG"] >= 0


@pytest.mark.parametrize(("metric", "dimensions", "filters"), [("span_count", None, ["span.bogus = 'x'"]), ("latency", ["span_type"], None)])
def test_spans_view_requests_outside_the_rules_are_400(experiment_id, metric, dimensions, filters):
    with pytest.raises(mlflow.MlflowException) as err:
        _get_store().query_trace_metrics(experiment_ids=[experiment_id], view_type=MetricViewType.SPANS, metric_name=metric,
                                         aggregations=[_agg("AVG" if metric == "latency" else "COUNT")], dimensions=dimensions, filters=filters)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
