"""Trace metrics (QueryTraceMetrics, what MLflow's UI Overview charts ask) through the real client's
RestStore.query_trace_metrics. Every expected answer below is what `mlflow server` 3.18.0 answered
for the same traces and assessments."""

import time

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType
from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
from mlflow.tracking._tracking_service.utils import _get_store

mlflow.tracing.enable()


def _agg(kind, percentile=None):
    return MetricAggregation(aggregation_type=AggregationType(kind), percentile_value=percentile)


@pytest.fixture
def traced(experiment_id):
    """Six traces: two names, one ERROR, sessions on five, token usage on each; feedback on five
    (one overridden)."""
    mlflow.set_experiment(experiment_id=experiment_id)
    ids = []
    for i in range(6):
        with mlflow.start_span("chat" if i % 2 else "agent") as root:
            if i < 5:
                mlflow.update_current_trace(metadata={"mlflow.trace.session": f"s{i % 3}"})
            with mlflow.start_span("llm", span_type="CHAT_MODEL") as llm:
                llm.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 100 * (i + 1), "output_tokens": 10 * (i + 1), "total_tokens": 110 * (i + 1)})
            if i == 4:
                root.set_status("ERROR")
        ids.append(root.trace_id)
    mlflow.flush_trace_async_logging()
    bob = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="bob")
    mlflow.log_feedback(trace_id=ids[0], name="quality", value=0.8, source=bob)
    mlflow.log_feedback(trace_id=ids[1], name="quality", value=0.4, source=bob)
    mlflow.log_feedback(trace_id=ids[2], name="helpful", value=True, source=bob)
    mlflow.log_feedback(trace_id=ids[3], name="helpful", value="no", source=bob)
    old = mlflow.log_feedback(trace_id=ids[4], name="quality", value=1.0, source=bob)
    mlflow.override_feedback(trace_id=ids[4], assessment_id=old.assessment_id, value=0.2)
    return experiment_id


def _query(experiment_id, view, metric, aggregations, dimensions=None, filters=None, interval=None):
    now = int(time.time() * 1000)
    points = _get_store().query_trace_metrics(
        experiment_ids=[experiment_id], view_type=MetricViewType(view), metric_name=metric, aggregations=aggregations,
        dimensions=dimensions, filters=filters, time_interval_seconds=interval,
        start_time_ms=now - 86_400_000 if interval else None, end_time_ms=now + 60_000 if interval else None,
    )
    return [({k: ("<bucket>" if k == "time_bucket" else v) for k, v in (p.dimensions or {}).items()}, p.values) for p in points]


def test_trace_view_counts_tokens_and_latency(traced):
    count = [_agg("COUNT")]
    assert _query(traced, "TRACES", "trace_count", count) == [({}, {"COUNT": 6.0})]
    assert _query(traced, "TRACES", "trace_count", count, ["trace_name"]) == [({"trace_name": "agent"}, {"COUNT": 3.0}), ({"trace_name": "chat"}, {"COUNT": 3.0})]
    assert _query(traced, "TRACES", "trace_count", count, ["trace_status"]) == [({"trace_status": "ERROR"}, {"COUNT": 1.0}), ({"trace_status": "OK"}, {"COUNT": 5.0})]
    assert _query(traced, "TRACES", "trace_count", count, filters=["trace.status = 'OK'"]) == [({}, {"COUNT": 5.0})]
    assert _query(traced, "TRACES", "trace_count", count, filters=["trace.tag.mlflow.traceName = 'chat'"]) == [({}, {"COUNT": 3.0})]
    assert _query(traced, "TRACES", "trace_count", count, filters=["trace.metadata.mlflow.trace.session = 's1'"]) == [({}, {"COUNT": 2.0})]
    assert _query(traced, "TRACES", "trace_count", count, interval=3600) == [({"time_bucket": "<bucket>"}, {"COUNT": 6.0})]
    assert _query(traced, "TRACES", "session_count", count) == [({}, {"COUNT": 3.0})]
    assert _query(traced, "TRACES", "input_tokens", [_agg("SUM"), _agg("AVG"), _agg("MIN"), _agg("MAX")]) == [({}, {"SUM": 2100.0, "AVG": 350.0, "MIN": 100.0, "MAX": 600.0})]
    assert _query(traced, "TRACES", "total_tokens", [_agg("SUM")], ["trace_name"], interval=86400) == [
        ({"time_bucket": "<bucket>", "trace_name": "agent"}, {"SUM": 990.0}),
        ({"time_bucket": "<bucket>", "trace_name": "chat"}, {"SUM": 1320.0}),
    ]
    assert _query(traced, "TRACES", "output_tokens", [_agg("PERCENTILE", 90.0)]) == [({}, {"P90.0": 55.0})]
    assert _query(traced, "TRACES", "cache_read_input_tokens", [_agg("SUM")]) == []
    [(_, latency)] = _query(traced, "TRACES", "latency", [_agg("AVG"), _agg("MAX"), _agg("PERCENTILE", 50.0)])
    assert set(latency) == {"AVG", "MAX", "P50.0"} and latency["MAX"] >= latency["AVG"] >= 0


def test_assessment_view_counts_and_values(traced):
    count = [_agg("COUNT")]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count) == [({}, {"COUNT": 5.0})]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count, ["assessment_name"]) == [({"assessment_name": "helpful"}, {"COUNT": 2.0}), ({"assessment_name": "quality"}, {"COUNT": 3.0})]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count, ["assessment_name", "assessment_value"]) == [
        ({"assessment_name": "helpful", "assessment_value": '"no"'}, {"COUNT": 1.0}),
        ({"assessment_name": "helpful", "assessment_value": "true"}, {"COUNT": 1.0}),
        ({"assessment_name": "quality", "assessment_value": "0.2"}, {"COUNT": 1.0}),
        ({"assessment_name": "quality", "assessment_value": "0.4"}, {"COUNT": 1.0}),
        ({"assessment_name": "quality", "assessment_value": "0.8"}, {"COUNT": 1.0}),
    ]
    values = _query(traced, "ASSESSMENTS", "assessment_value", [_agg("AVG"), _agg("MIN"), _agg("MAX")], ["assessment_name"])
    assert [(d, {k: round(v, 6) for k, v in vals.items()}) for d, vals in values] == [
        ({"assessment_name": "helpful"}, {"AVG": 0.5, "MIN": 0.0, "MAX": 1.0}),
        ({"assessment_name": "quality"}, {"AVG": 0.466667, "MIN": 0.2, "MAX": 0.8}),
    ]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count, filters=["assessment.name = 'quality'"]) == [({}, {"COUNT": 3.0})]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count, filters=["trace.status = 'ERROR'"]) == [({}, {"COUNT": 1.0})]
    assert _query(traced, "ASSESSMENTS", "assessment_count", count, filters=["assessment.type = 'feedback'"]) == [({}, {"COUNT": 5.0})]


@pytest.mark.parametrize(
    ("metric", "aggregations", "dimensions", "filters"),
    [
        ("trace_count", [_agg("SUM")], None, None),
        ("nope", [_agg("COUNT")], None, None),
        ("trace_count", [_agg("COUNT")], ["span_name"], None),
        ("trace_count", [_agg("COUNT")], None, ["span.name = 'x'"]),
        ("trace_count", [_agg("COUNT")], None, ["assessment.name = 'x'"]),
        ("trace_count", [_agg("COUNT")], None, ["trace.bogus = 'x'"]),
    ],
)
def test_requests_outside_the_metric_rules_are_400(experiment_id, metric, aggregations, dimensions, filters):
    with pytest.raises(mlflow.MlflowException) as err:
        _get_store().query_trace_metrics(experiment_ids=[experiment_id], view_type=MetricViewType.TRACES, metric_name=metric,
                                         aggregations=aggregations, dimensions=dimensions, filters=filters)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
