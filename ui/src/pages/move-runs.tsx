import { useState } from 'react';
import { searchExperiments } from '../api/mlflow';
import { FormDialog } from '../components/modal';
import { ErrorBox } from '../components/states';
import { useAsync } from '../hooks';

// "Move to project…" for one run (the run page) or the runs table's selection
// (docs/teams.md#moving-runs). The list is what the caller may read; the server decides whether
// they may move there (MANAGE where the run is, EDIT on the destination) and its refusal shows here.

const SHOWN = 1000;

export function MoveRunsDialog({
  count,
  fromIds,
  onMove,
  onClose,
}: {
  count: number;
  /** The experiments the runs are in now: not offered as destinations. */
  fromIds: string[];
  onMove: (experimentId: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const exps = useAsync(() => searchExperiments('ACTIVE_ONLY'), []);
  const choices = (exps.data ?? []).filter((e) => !fromIds.includes(e.experiment_id)).slice(0, SHOWN);
  const [dest, setDest] = useState('');
  const chosen = dest || choices[0]?.experiment_id || '';
  return (
    <FormDialog
      title={count === 1 ? 'Move run to project' : `Move ${count} runs to project`}
      submitLabel="Move"
      fields={[]}
      onClose={onClose}
      onSubmit={async () => {
        if (!chosen) throw new Error('Choose the project to move to');
        await onMove(chosen);
      }}
    >
      {exps.error && <ErrorBox error={exps.error} />}
      <label className="field">
        <span className="field-label">Destination project (experiment)</span>
        <select className="input" aria-label="Destination project" value={chosen} onChange={(e) => setDest(e.target.value)} disabled={!exps.data}>
          {!exps.data && <option value="">Loading…</option>}
          {exps.data && !choices.length && <option value="">No other project</option>}
          {choices.map((e) => (
            <option key={e.experiment_id} value={e.experiment_id}>
              {e.name}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">
        Params, metrics, tags, history and artifacts go with the run; a W&B run changes project too (its old path stops working). W&B artifacts it logged stay in
        their project. Needs MANAGE where the run is and EDIT on the destination.
      </p>
    </FormDialog>
  );
}
