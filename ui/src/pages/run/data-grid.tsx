import { useMemo, useState } from 'react';

// A sortable grid for table-shaped data (wandb.Table, CSV previews). Rows past `limit` are cut, with
// a note, so a huge table does not freeze the page.

const cmp = (a: unknown, b: unknown): number => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a ?? '').localeCompare(String(b ?? ''), undefined, { numeric: true });
};

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o._type === 'string') return `[${o._type}]`;
    return JSON.stringify(v);
  }
  return String(v);
}

export function DataGrid({ columns, rows, limit = 2000, testId }: { columns: string[]; rows: unknown[][]; limit?: number; testId?: string }) {
  const [sort, setSort] = useState<{ col: number; desc: boolean } | null>(null);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const out = [...rows].sort((a, b) => cmp(a[sort.col], b[sort.col]));
    return sort.desc ? out.reverse() : out;
  }, [rows, sort]);
  const shown = sorted.slice(0, limit);
  return (
    <div className="table-wrap data-grid" data-testid={testId}>
      <table className="table table-compact">
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} aria-sort={sort?.col === i ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                <button className="sort" onClick={() => setSort(sort?.col === i ? { col: i, desc: !sort.desc } : { col: i, desc: false })}>
                  {c}
                  {sort?.col === i ? (sort.desc ? ' ↓' : ' ↑') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r, k) => (
            <tr key={k}>
              {columns.map((_, i) => (
                <td key={i} className={typeof r[i] === 'number' ? 'num mono' : undefined}>
                  {cell(r[i])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length > limit && <div className="muted grid-note">Showing {limit.toLocaleString()} of {sorted.length.toLocaleString()} rows.</div>}
    </div>
  );
}
