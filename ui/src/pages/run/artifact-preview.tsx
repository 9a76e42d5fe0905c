import { fetchText, runFileUrl } from '../../api/ui';
import { ErrorBox, Loading } from '../../components/states';
import { useAsync } from '../../hooks';
import { DataGrid } from './data-grid';

// Previews of one artifact by its kind: images inline; text, JSON (pretty), CSV/TSV (as a grid);
// an MLmodel file with the model's signature as tables. Anything else offers the download.

const IMAGE = /\.(png|jpe?g|gif|webp|bmp)$/i;
const TEXT = /(\.(txt|log|md|py|ya?ml|cfg|ini|toml|sh|r|sql|html?|xml|svg|ipynb|js|ts|conf|properties|env)$)|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml|LICENSE|README|Dockerfile)$/i;
const JSONF = /\.(json|jsonl)$/i;
const CSV = /\.(csv|tsv)$/i;
const MAX_PREVIEW = 2 * 1024 * 1024;

export type PreviewKind = 'image' | 'mlmodel' | 'json' | 'csv' | 'text' | 'none';

export function previewKind(path: string): PreviewKind {
  if (IMAGE.test(path)) return 'image';
  if (/(^|\/)MLmodel$/.test(path)) return 'mlmodel';
  if (JSONF.test(path)) return 'json';
  if (CSV.test(path)) return 'csv';
  if (TEXT.test(path)) return 'text';
  return 'none';
}

export function ArtifactPreview({ runId, path, size }: { runId: string; path: string; size?: number }) {
  const kind = previewKind(path);
  const url = runFileUrl(runId, path);
  if (kind === 'image') {
    return (
      <div className="artifact-image" data-testid="artifact-preview" data-kind="image">
        <img src={url} alt={path} />
      </div>
    );
  }
  if (kind === 'none') {
    return (
      <div className="artifact-none muted" data-testid="artifact-preview" data-kind="none">
        No preview for this file type. <a href={url} download>Download</a> it instead.
      </div>
    );
  }
  return <TextPreview url={url} kind={kind} path={path} size={size} />;
}

function TextPreview({ url, kind, path, size }: { url: string; kind: PreviewKind; path: string; size?: number }) {
  const file = useAsync(() => fetchText(url, MAX_PREVIEW), [url]);
  if (file.error) return <ErrorBox error={file.error} onRetry={file.reload} />;
  if (!file.data) return <Loading />;
  const { text, truncated } = file.data;
  const note = truncated && <div className="muted">Preview shows the first {(MAX_PREVIEW / 1024 / 1024).toFixed(0)} MiB of {size ? `${(size / 1024 / 1024).toFixed(1)} MiB` : 'the file'}.</div>;
  if (kind === 'json') {
    let pretty = text;
    if (!truncated && !path.endsWith('.jsonl')) {
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        /* shown as it is */
      }
    }
    return (
      <div data-testid="artifact-preview" data-kind="json">
        <pre className="json-preview">{pretty}</pre>
        {note}
      </div>
    );
  }
  if (kind === 'csv') {
    const rows = parseDelimited(text, path.toLowerCase().endsWith('.tsv') ? '\t' : ',');
    return (
      <div data-testid="artifact-preview" data-kind="csv">
        <DataGrid columns={rows[0] ?? []} rows={rows.slice(1)} />
        {note}
      </div>
    );
  }
  if (kind === 'mlmodel') {
    const sig = parseSignature(text);
    return (
      <div data-testid="artifact-preview" data-kind="mlmodel" className="mlmodel">
        {sig && (
          <div className="signature" data-testid="model-signature">
            <div className="card-title">Model signature</div>
            {(['inputs', 'outputs', 'params'] as const).map((part) =>
              sig[part] ? (
                <div key={part} className="sig-part">
                  <div className="field-label">{part}</div>
                  <DataGrid columns={['name', 'type', 'shape / default']} rows={sig[part]!.map((c) => [c.name ?? '(unnamed)', c.type ?? '', c.shape ?? c.default ?? ''])} />
                </div>
              ) : null,
            )}
          </div>
        )}
        <pre className="text-preview">{text}</pre>
      </div>
    );
  }
  return (
    <div data-testid="artifact-preview" data-kind="text">
      <pre className="text-preview">{text}</pre>
      {note}
    </div>
  );
}

/** RFC 4180-ish: quoted fields with "" escapes and embedded separators/newlines. */
export function parseDelimited(text: string, sep: string, maxRows = 5000): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) row.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

interface SigCol {
  name?: string;
  type?: string;
  shape?: string;
  default?: string;
}

/** The `signature:` block of an MLmodel file (YAML whose inputs/outputs/params are JSON strings). */
export function parseSignature(text: string): Partial<Record<'inputs' | 'outputs' | 'params', SigCol[]>> | undefined {
  const start = text.search(/^signature:\s*$/m);
  if (start < 0) return undefined;
  const block = text.slice(start).split('\n').slice(1);
  const out: Partial<Record<'inputs' | 'outputs' | 'params', SigCol[]>> = {};
  for (const line of block) {
    if (line && !/^\s/.test(line)) break;
    const m = /^\s+(inputs|outputs|params):\s*(.*)$/.exec(line);
    if (!m) continue;
    let raw = m[2].trim();
    if (raw.startsWith("'") && raw.endsWith("'")) raw = raw.slice(1, -1).replace(/''/g, "'");
    try {
      const cols = JSON.parse(raw) as Record<string, unknown>[];
      if (!Array.isArray(cols)) continue;
      out[m[1] as 'inputs'] = cols.map((c) => ({
        name: typeof c.name === 'string' ? c.name : undefined,
        type: typeof c.type === 'string' ? (c.type === 'tensor' && c['tensor-spec'] ? `tensor ${(c['tensor-spec'] as { dtype?: string }).dtype ?? ''}` : c.type) : undefined,
        shape: c['tensor-spec'] ? JSON.stringify((c['tensor-spec'] as { shape?: unknown }).shape) : undefined,
        default: c.default !== undefined ? JSON.stringify(c.default) : undefined,
      }));
    } catch {
      /* not JSON: the raw file below still shows it */
    }
  }
  return Object.keys(out).length ? out : undefined;
}
