import { useEffect, useMemo, useState } from 'react';
import { fetchText, runFileUrl, runMedia, type MediaItem } from '../../api/ui';
import { Empty, ErrorBox, Loading } from '../../components/states';
import { fmtNumber } from '../../format';
import { useAsync } from '../../hooks';
import { DataGrid } from './data-grid';
import { Heatmap } from './heatmap';

// W&B media from the run's history, one panel per key, each with a step slider: images with their
// captions, tables as a sortable grid, histograms (the chosen step as bars, all steps as a heatmap)
// and confusion matrices.

export function MediaTab({ runId }: { runId: string }) {
  const media = useAsync(() => runMedia(runId), [runId]);
  const byKey = useMemo(() => {
    const m = new Map<string, MediaItem[]>();
    for (const it of media.data?.items ?? []) {
      const list = m.get(it.key) ?? [];
      list.push(it);
      m.set(it.key, list);
    }
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [media.data]);
  if (media.error) return <ErrorBox error={media.error} onRetry={media.reload} />;
  if (!media.data) return <Loading />;
  if (!byKey.length) {
    return (
      <Empty title="No media in this run">
        Log images, tables and histograms with <code>wandb.log({'{'}"samples": wandb.Image(...){'}'})</code> and they appear here, step by step.
      </Empty>
    );
  }
  return (
    <div className="media-grid">
      {byKey.map(([key, items]) => (
        <MediaPanel key={key} runId={runId} mediaKey={key} items={items} />
      ))}
    </div>
  );
}

function MediaPanel({ runId, mediaKey, items }: { runId: string; mediaKey: string; items: MediaItem[] }) {
  const [i, setI] = useState(items.length - 1);
  const item = items[Math.min(i, items.length - 1)];
  const wide = item.type === 'table' || item.type === 'histogram';
  return (
    <section className={`card media-panel${wide ? ' media-wide' : ''}`} data-testid="media-panel" data-key={mediaKey} data-type={item.type}>
      <div className="media-head">
        <span className="chart-title">{mediaKey}</span>
        <span className="badge">{item.type.replace('_', ' ')}</span>
      </div>
      {items.length > 1 && (
        <label className="step-slider">
          <span className="field-label">Step</span>
          <input type="range" min={0} max={items.length - 1} value={Math.min(i, items.length - 1)} aria-label={`Step of ${mediaKey}`} onChange={(e) => setI(Number(e.target.value))} />
          <span className="mono" data-testid="media-step">{item.step}</span>
        </label>
      )}
      <MediaView runId={runId} item={item} all={items} index={Math.min(i, items.length - 1)} />
    </section>
  );
}

function MediaView({ runId, item, all, index }: { runId: string; item: MediaItem; all: MediaItem[]; index: number }) {
  switch (item.type) {
    case 'image':
      return item.file_path ? <Figure src={runFileUrl(runId, item.file_path)} caption={item.caption} /> : <span className="muted">Image without a file.</span>;
    case 'images': {
      const files = (item.value.filenames as string[] | undefined) ?? [];
      const captions = (item.value.captions as string[] | undefined) ?? [];
      if (!files.length) return <span className="muted">{String(item.value.count ?? 0)} images (files not found in the record)</span>;
      return (
        <div className="image-strip">
          {files.map((f, k) => (
            <Figure key={f} src={runFileUrl(runId, f)} caption={captions[k]} />
          ))}
        </div>
      );
    }
    case 'table':
      return <TableView runId={runId} item={item} />;
    case 'confusion_matrix':
      return <ConfusionView runId={runId} item={item} />;
    case 'histogram':
      return <HistogramView items={all} index={index} />;
    default:
      return <pre className="json-preview">{JSON.stringify(item.value, null, 2)}</pre>;
  }
}

function Figure({ src, caption }: { src: string; caption?: string }) {
  return (
    <figure className="media-figure">
      <a href={src} target="_blank" rel="noreferrer">
        <img src={src} alt={caption ?? ''} loading="lazy" />
      </a>
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}

interface TableData {
  columns: string[];
  data: unknown[][];
}

/** A table's columns and rows: inline when the server sent them, else read from its file. */
function useTable(runId: string, item: MediaItem): { table?: TableData; error?: unknown } {
  const inline = Array.isArray(item.value.columns) && Array.isArray(item.value.data) ? (item.value as unknown as TableData) : undefined;
  const loaded = useAsync(async () => {
    if (inline || !item.file_path) return undefined;
    const { text } = await fetchText(runFileUrl(runId, item.file_path), 32 * 1024 * 1024);
    return JSON.parse(text.replace(/\bNaN\b/g, 'null').replace(/-?\bInfinity\b/g, 'null')) as TableData;
  }, [runId, item.file_path, inline !== undefined]);
  return { table: inline ?? loaded.data, error: loaded.error };
}

function TableView({ runId, item }: { runId: string; item: MediaItem }) {
  const { table, error } = useTable(runId, item);
  if (error) return <ErrorBox error={error} />;
  if (!table) return <Loading />;
  return <DataGrid columns={table.columns.map(String)} rows={table.data} testId="media-table" />;
}

function ConfusionView({ runId, item }: { runId: string; item: MediaItem }) {
  const { table, error } = useTable(runId, item);
  if (error) return <ErrorBox error={error} />;
  if (!table) return <Loading />;
  // wandb.plot.confusion_matrix: rows of (Actual, Predicted, nPredictions).
  const cols = table.columns.map(String);
  const ai = Math.max(0, cols.findIndex((c) => /actual/i.test(c)));
  const pi = cols.findIndex((c) => /predicted/i.test(c));
  const ni = cols.findIndex((c) => /^n|count/i.test(c) && c !== cols[ai] && c !== cols[pi]);
  const labels: string[] = [];
  const at = new Map<string, number>();
  for (const r of table.data) {
    for (const l of [String(r[ai]), String(r[pi < 0 ? 1 : pi])]) if (!labels.includes(l)) labels.push(l);
    at.set(`${r[ai]}\u0000${r[pi < 0 ? 1 : pi]}`, Number(r[ni < 0 ? 2 : ni]) || 0);
  }
  const max = Math.max(1, ...at.values());
  return (
    <div className="confusion-wrap">
      <table className="confusion" data-testid="confusion-matrix">
        <thead>
          <tr>
            <th className="corner">actual ↓ / predicted →</th>
            {labels.map((l) => (
              <th key={l}>{l}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((a) => (
            <tr key={a}>
              <th>{a}</th>
              {labels.map((p) => {
                const n = at.get(`${a}\u0000${p}`) ?? 0;
                const t = n / max;
                return (
                  <td key={p} style={{ background: `color-mix(in srgb, var(--accent) ${Math.round(t * 85)}%, transparent)`, color: t > 0.55 ? 'var(--accent-fg)' : undefined }} title={`actual ${a}, predicted ${p}: ${n}`}>
                    {n}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function HistogramView({ items, index }: { items: MediaItem[]; index: number }) {
  const hist = (it: MediaItem) => ({ bins: (it.value.bins as number[] | undefined) ?? [], values: (it.value.values as number[] | undefined) ?? [] });
  const { bins, values } = hist(items[index]);
  const max = Math.max(1, ...values);
  const [hover, setHover] = useState<number | null>(null);
  useEffect(() => setHover(null), [index]);
  return (
    <div className="histo">
      <div className="histo-bars" data-testid="histogram-bars" onMouseLeave={() => setHover(null)}>
        {values.map((v, k) => (
          <div key={k} className="histo-bar" style={{ height: `${(v / max) * 100}%` }} onMouseEnter={() => setHover(k)} />
        ))}
      </div>
      <div className="histo-axis mono">
        <span>{fmtNumber(bins[0])}</span>
        <span>{hover !== null ? `[${fmtNumber(bins[hover])}, ${fmtNumber(bins[hover + 1])}): ${values[hover]}` : ''}</span>
        <span>{fmtNumber(bins[bins.length - 1])}</span>
      </div>
      {items.length > 1 && (
        <>
          <div className="field-label">Over steps</div>
          <Heatmap columns={items.map((it) => ({ ...hist(it), step: it.step }))} selected={index} />
        </>
      )}
    </div>
  );
}
