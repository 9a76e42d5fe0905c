import { useState } from 'react';
import { TraceOverview } from './overview';
import { TraceList } from './trace-list';

/** A run's Traces tab: the overview and the list of the traces logged in the run or linked to it. */
export function RunTraces({ experimentId, runId }: { experimentId: string; runId: string }) {
  const [changes, setChanges] = useState(0);
  return (
    <>
      {/* The metrics filter counts linked traces too, as the search's run_id does. */}
      <TraceOverview experimentId={experimentId} changes={changes} filters={[`trace.metadata.mlflow.sourceRun = '${runId}'`]} />
      <TraceList
        experimentId={experimentId}
        baseFilter={`attributes.run_id = '${runId}'`}
        onChanged={() => setChanges((n) => n + 1)}
        emptyHint={<>Traces logged inside this run (or linked to it with <code>MlflowClient().link_traces_to_run</code>) show here.</>}
      />
    </>
  );
}
