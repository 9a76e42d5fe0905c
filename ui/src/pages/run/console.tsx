import { useEffect, useRef, useState } from 'react';
import { runOutput } from '../../api/ui';
import { ErrorBox, Empty } from '../../components/states';

// The run's console (W&B output.log, or an output.log artifact), read in chunks from a byte offset
// and tailed every few seconds while the run is running. It sticks to the bottom unless the reader
// has scrolled up.

const POLL_MS = 3000;
const MAX_CHARS = 4 * 1024 * 1024;

export function ConsoleOutput({ runId, running }: { runId: string; running: boolean }) {
  const [text, setText] = useState('');
  const [loaded, setLoaded] = useState(false);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let offset = 0;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setText('');
    setLoaded(false);
    const step = async () => {
      try {
        // Drain whatever is there (1 MiB per answer), then wait for more if the run goes on.
        for (;;) {
          const chunk = await runOutput(runId, offset);
          if (stop) return;
          if (chunk.text) setText((t) => (t + chunk.text).slice(-MAX_CHARS));
          const moved = chunk.next_offset !== offset;
          offset = chunk.next_offset;
          setComplete(chunk.complete);
          if (!moved || chunk.complete || !chunk.text) break;
        }
        setLoaded(true);
        setError(undefined);
      } catch (e) {
        if (!stop) setError(e);
        setLoaded(true);
      }
      if (!stop && running) timer = setTimeout(step, POLL_MS);
    };
    void step();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [runId, running]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  if (error !== undefined && !text) return <ErrorBox error={error} />;
  if (!loaded) return <div className="muted">Loading console output…</div>;
  if (!text) {
    return (
      <Empty title="No console output">
        W&B runs stream their stdout/stderr here; an MLflow run can log a file named <code>output.log</code> as an artifact.
        {running && ' Waiting for output…'}
      </Empty>
    );
  }
  const q = filter.trim().toLowerCase();
  const shown = q ? text.split('\n').filter((l) => l.toLowerCase().includes(q)).join('\n') : text;
  return (
    <div className="console">
      <div className="toolbar">
        <input className="input" placeholder="Filter lines…" aria-label="Filter console lines" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <div className="grow" />
        {running && !complete ? <span className="badge status-running"><span className="live-dot" /> live</span> : <span className="muted">{text.split('\n').length.toLocaleString()} lines</span>}
      </div>
      <pre
        ref={box}
        className="console-text"
        data-testid="console-output"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {shown}
      </pre>
    </div>
  );
}
