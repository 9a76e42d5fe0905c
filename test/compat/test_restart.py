"""The restart fixture works, and what a client logged survives a restart of the server."""

from __future__ import annotations

import pytest
from mlflow.entities import Metric


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_data_survives_restart(client, experiment_id, restart_server, cairn_server, kill):
    run_id = client.create_run(experiment_id, run_name="durable").info.run_id
    client.log_param(run_id, "p", "v")
    client.log_batch(run_id, metrics=[Metric("m", float(i), 1000 + i, i) for i in range(500)])
    client.set_terminated(run_id)
    pid_before = cairn_server.proc.pid

    restart_server(kill=kill)

    assert cairn_server.proc.pid != pid_before
    run = client.get_run(run_id)
    assert run.info.run_name == "durable"
    assert run.info.status == "FINISHED"
    assert run.data.params == {"p": "v"}
    assert run.data.metrics == {"m": 499.0}
    assert len(client.get_metric_history(run_id, "m")) == 500
    # The server keeps working after the restart.
    client.log_metric(run_id, "after", 1.0)
    assert client.get_run(run_id).data.metrics["after"] == 1.0
