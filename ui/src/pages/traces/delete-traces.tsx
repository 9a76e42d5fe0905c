import { deleteTraces } from '../../api/traces';
import { FormDialog } from '../../components/modal';

// The confirmation before traces are deleted (the list's ticked traces, or a trace from its page),
// then `delete-traces` once for each experiment they belong to.

export function DeleteTracesDialog({ title, traces, onClose, onDeleted }: { title: string; traces: ReadonlyMap<string, string>; onClose: () => void; onDeleted: () => void }) {
  return (
    <FormDialog
      title={title}
      submitLabel="Delete"
      danger
      fields={[]}
      onClose={onClose}
      onSubmit={async () => {
        const byExperiment = new Map<string, string[]>();
        for (const [id, exp] of traces) byExperiment.set(exp, [...(byExperiment.get(exp) ?? []), id]);
        for (const [exp, ids] of byExperiment) await deleteTraces(exp, ids);
        onDeleted();
      }}
    >
      <p className="muted">{traces.size === 1 ? 'The trace, its spans and its assessments are' : 'The traces, their spans and their assessments are'} deleted for good.</p>
    </FormDialog>
  );
}
