"""Assessments on traces with the real client: log_feedback, log_expectation, update_assessment,
override_feedback, delete_assessment, each readable on the trace."""

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback

mlflow.tracing.enable()


@pytest.fixture
def trace_id(experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("answer") as span:
        span.set_inputs({"q": "2+2"})
        span.set_outputs("4")
    tid = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    return tid


def test_feedback_and_expectation_are_readable_on_the_trace(client, trace_id):
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="alice@example.com")
    fb = mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, rationale="it is 4", source=human, metadata={"round": "1"})
    ex = mlflow.log_expectation(trace_id=trace_id, name="expected", value={"answer": "4"}, source=human)
    assert fb.assessment_id.startswith("a-") and fb.assessment_id != ex.assessment_id

    got = mlflow.get_assessment(trace_id, fb.assessment_id)
    assert (got.name, got.value, got.rationale, got.metadata) == ("correct", True, "it is 4", {"round": "1"})
    assert got.source.source_type == "HUMAN" and got.source.source_id == "alice@example.com"

    trace = client.get_trace(trace_id)
    by_name = {a.name: a for a in trace.info.assessments}
    assert by_name["correct"].value is True
    assert by_name["expected"].value == {"answer": "4"}


def test_update_override_and_delete(client, trace_id):
    fb = mlflow.log_feedback(trace_id=trace_id, name="quality", value=3, source=AssessmentSource(source_type="LLM_JUDGE", source_id="judge"))

    updated = mlflow.update_assessment(trace_id=trace_id, assessment_id=fb.assessment_id, assessment=Feedback(name="quality", value=4, rationale="better"))
    assert (updated.value, updated.rationale) == (4, "better")
    assert mlflow.get_assessment(trace_id, fb.assessment_id).value == 4

    new = mlflow.override_feedback(trace_id=trace_id, assessment_id=fb.assessment_id, value=5, rationale="human says 5")
    assert new.overrides == fb.assessment_id
    assert mlflow.get_assessment(trace_id, fb.assessment_id).valid is False
    assert mlflow.get_assessment(trace_id, new.assessment_id).value == 5

    mlflow.delete_assessment(trace_id=trace_id, assessment_id=new.assessment_id)
    # A delete sent again (as a retry would) succeeds, as on `mlflow server`, and changes nothing.
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=new.assessment_id)
    with pytest.raises(mlflow.MlflowException) as err:
        mlflow.get_assessment(trace_id, new.assessment_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # The overridden one is valid again once its override is gone.
    assert mlflow.get_assessment(trace_id, fb.assessment_id).valid is True
    assert [a.assessment_id for a in client.get_trace(trace_id).info.assessments] == [fb.assessment_id]


def test_assessment_on_unknown_trace_is_404(client):
    with pytest.raises(mlflow.MlflowException) as err:
        mlflow.log_feedback(trace_id="tr-" + "f" * 32, name="x", value=1)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def _traces(experiment_id, n, sessions=None):
    mlflow.set_experiment(experiment_id=experiment_id)
    ids = []
    for i in range(n):
        with mlflow.start_span(f"t{i}") as span:
            if sessions and sessions[i]:
                mlflow.update_current_trace(metadata={"mlflow.trace.session": sessions[i]})
        ids.append(span.trace_id)
    mlflow.flush_trace_async_logging()
    return ids


def _found(experiment_id, ids, filter_string):
    names = {t: f"t{i}" for i, t in enumerate(ids)}
    return sorted(names[t.info.trace_id] for t in mlflow.search_traces(locations=[experiment_id], filter_string=filter_string, return_type="list"))


def test_search_traces_by_feedback_and_expectation(experiment_id):
    """Each filter's traces are the ones `mlflow server` 3.18.0 answered for the same assessments."""
    ids = _traces(experiment_id, 6)
    src = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="bob")
    mlflow.log_feedback(trace_id=ids[0], name="quality", value=0.8, source=src)
    mlflow.log_feedback(trace_id=ids[1], name="quality", value=0.3, source=src)
    mlflow.log_feedback(trace_id=ids[2], name="quality", value="yes", source=src)
    mlflow.log_feedback(trace_id=ids[3], name="helpful", value=True, source=src)
    old = mlflow.log_feedback(trace_id=ids[4], name="quality", value=0.9, source=src)
    mlflow.override_feedback(trace_id=ids[4], assessment_id=old.assessment_id, value=0.1)  # 0.9 no longer counts
    mlflow.log_expectation(trace_id=ids[0], name="expected", value={"answer": "HELLO"})
    mlflow.log_expectation(trace_id=ids[1], name="expected", value="plain")
    mlflow.log_feedback(trace_id=ids[5], name="tone", value=None, error=ValueError("judge failed"), source=src)
    expected = {
        "feedback.quality > 0.5": ["t0"],
        "feedback.quality <= 0.3": ["t1", "t4"],
        "feedback.`quality` < 1": ["t0", "t1", "t4"],
        "feedback.quality = 'yes'": ["t2"],
        "feedback.quality = '0.8'": ["t0"],
        "feedback.quality != 'yes'": ["t0", "t1", "t4"],
        "feedback.helpful = 'true'": ["t3"],
        "feedback.quality IS NULL": ["t3", "t5"],
        "feedback.quality IS NOT NULL": ["t0", "t1", "t2", "t4"],
        "feedback.quality LIKE '%y%'": ["t2"],
        "feedback.quality ILIKE '\"Y%'": ["t2"],
        "feedback.tone = 'null'": ["t5"],
        "expectation.expected = 'plain'": ["t1"],
        "expectation.expected LIKE '%HELLO%'": ["t0"],
        "expectation.expected IS NOT NULL": ["t0", "t1"],
        "expectation.expected > 1": [],
        "feedback.quality > 0.05 AND tags.x IS NULL": ["t0", "t1", "t4"],
    }
    assert {f: _found(experiment_id, ids, f) for f in expected} == expected
    for bad in ["feedback.quality = 0.8", "feedback.quality > 'a'", "feedback.quality IN ('yes')", "feedback. = 'x'"]:
        with pytest.raises(mlflow.MlflowException) as err:
            mlflow.search_traces(locations=[experiment_id], filter_string=bad, return_type="list")
        assert err.value.error_code == "INVALID_PARAMETER_VALUE", bad


def test_a_session_assessment_counts_for_every_trace_of_its_session(experiment_id):
    ids = _traces(experiment_id, 4, sessions=["s1", "s1", "s2", None])
    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="judge")
    mlflow.log_feedback(trace_id=ids[0], name="coherent", value="yes", source=judge, metadata={"mlflow.trace.session": "s1"})
    mlflow.log_feedback(trace_id=ids[2], name="coherent", value="no", source=judge)
    assert _found(experiment_id, ids, "feedback.coherent = 'yes'") == ["t0", "t1"]
    assert _found(experiment_id, ids, "feedback.coherent != 'yes'") == ["t2"]
    assert _found(experiment_id, ids, "feedback.coherent IS NULL") == ["t3"]
    assert _found(experiment_id, ids, "feedback.coherent IS NOT NULL") == ["t0", "t1", "t2"]
