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
