import { useState } from 'react';
import { listArtifacts, runFileUrl, type ArtifactFile } from '../../api/ui';
import { Empty, ErrorBox, Loading } from '../../components/states';
import { useAsync } from '../../hooks';
import { ArtifactPreview } from './artifact-preview';

// The artifact browser: a folder tree loaded one level at a time, sizes, download links, and a
// preview of the selected file.

export function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export function ArtifactsTab({ runId, artifactUri }: { runId: string; artifactUri?: string }) {
  const [selected, setSelected] = useState<ArtifactFile | null>(null);
  const root = useAsync(() => listArtifacts(runId), [runId]);
  if (root.error) return <ErrorBox error={root.error} onRetry={root.reload} />;
  if (!root.data) return <Loading />;
  if (!root.data.length) {
    return (
      <Empty title="No artifacts">
        Log files with <code>mlflow.log_artifact("model.pkl")</code> or <code>run.log_artifact(...)</code> in W&B; they are listed here with previews.
      </Empty>
    );
  }
  return (
    <div className="artifacts">
      <div className="artifact-tree card" role="tree" aria-label="Artifacts">
        {artifactUri && <div className="artifact-root mono muted" title={artifactUri}>{artifactUri}</div>}
        <Folder runId={runId} files={root.data} depth={0} selected={selected?.path} onSelect={setSelected} />
      </div>
      <div className="artifact-view card">
        {selected ? (
          <>
            <div className="artifact-head">
              <span className="mono artifact-path" data-testid="artifact-selected">{selected.path}</span>
              <span className="muted">{fmtBytes(selected.file_size)}</span>
              <a className="btn btn-sm" href={runFileUrl(runId, selected.path)} download={baseName(selected.path)}>
                Download
              </a>
            </div>
            <ArtifactPreview key={selected.path} runId={runId} path={selected.path} size={selected.file_size} />
          </>
        ) : (
          <div className="muted artifact-hint">Select a file to preview it.</div>
        )}
      </div>
    </div>
  );
}

function Folder({ runId, files, depth, selected, onSelect }: { runId: string; files: ArtifactFile[]; depth: number; selected?: string; onSelect: (f: ArtifactFile) => void }) {
  const sorted = [...files].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  return (
    <>
      {sorted.map((f) => (f.is_dir ? <Dir key={f.path} runId={runId} dir={f} depth={depth} selected={selected} onSelect={onSelect} /> : (
        <button
          key={f.path}
          role="treeitem"
          aria-selected={selected === f.path}
          className={`artifact-row${selected === f.path ? ' selected' : ''}`}
          style={{ paddingLeft: 10 + depth * 16 }}
          onClick={() => onSelect(f)}
          data-testid="artifact-file"
          data-path={f.path}
        >
          <span className="file-icon" aria-hidden>▤</span>
          <span className="artifact-name">{baseName(f.path)}</span>
          <span className="artifact-size">{fmtBytes(f.file_size)}</span>
        </button>
      )))}
    </>
  );
}

function Dir({ runId, dir, depth, selected, onSelect }: { runId: string; dir: ArtifactFile; depth: number; selected?: string; onSelect: (f: ArtifactFile) => void }) {
  const [open, setOpen] = useState(depth === 0);
  return (
    <>
      <button role="treeitem" aria-expanded={open} className="artifact-row artifact-dir" style={{ paddingLeft: 10 + depth * 16 }} onClick={() => setOpen(!open)} data-testid="artifact-dir" data-path={dir.path}>
        <span className={`caret${open ? ' open' : ''}`}>▸</span>
        <span className="artifact-name">{baseName(dir.path)}</span>
      </button>
      {open && <DirContents runId={runId} path={dir.path} depth={depth + 1} selected={selected} onSelect={onSelect} />}
    </>
  );
}

function DirContents({ runId, path, depth, selected, onSelect }: { runId: string; path: string; depth: number; selected?: string; onSelect: (f: ArtifactFile) => void }) {
  const list = useAsync(() => listArtifacts(runId, path), [runId, path]);
  if (list.error) return <div style={{ paddingLeft: 10 + depth * 16 }}><ErrorBox error={list.error} /></div>;
  if (!list.data) return <div className="muted artifact-row" style={{ paddingLeft: 10 + depth * 16 }}>Loading…</div>;
  if (!list.data.length) return <div className="muted artifact-row" style={{ paddingLeft: 10 + depth * 16 }}>(empty)</div>;
  return <Folder runId={runId} files={list.data} depth={depth} selected={selected} onSelect={onSelect} />;
}
