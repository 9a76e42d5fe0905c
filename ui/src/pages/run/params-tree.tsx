import { useMemo, useState } from 'react';
import type { KeyValue } from '../../api/types';

// Params as a tree: W&B nested config arrives flattened with dots (`optimizer.lr`), and people use
// slashes too (`model/layers`), so both split a key into levels. A filter keeps matching leaves and
// their parents; groups open and close, all at once or one by one.

interface Node {
  name: string;
  path: string;
  value?: string;
  children: Map<string, Node>;
}

export function buildTree(params: KeyValue[]): Node {
  const root: Node = { name: '', path: '', children: new Map() };
  for (const p of params) {
    const parts = p.key.split(/[./]/).filter(Boolean);
    let node = root;
    parts.forEach((part, i) => {
      const path = parts.slice(0, i + 1).join('.');
      let next = node.children.get(part);
      if (!next) {
        next = { name: part, path, children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    });
    node.value = p.value;
  }
  return root;
}

function matches(node: Node, q: string): boolean {
  if (!q) return true;
  if (node.path.toLowerCase().includes(q) || (node.value ?? '').toLowerCase().includes(q)) return true;
  for (const c of node.children.values()) if (matches(c, q)) return true;
  return false;
}

const sorted = (n: Node) => [...n.children.values()].sort((a, b) => Number(a.children.size > 0) - Number(b.children.size > 0) || a.name.localeCompare(b.name, undefined, { numeric: true }));

function countLeaves(n: Node): number {
  let c = n.value !== undefined ? 1 : 0;
  for (const k of n.children.values()) c += countLeaves(k);
  return c;
}

export function ParamsTree({ params }: { params: KeyValue[] }) {
  const tree = useMemo(() => buildTree(params), [params]);
  const [q, setQ] = useState('');
  const [closed, setClosed] = useState<Set<string>>(new Set());
  const query = q.trim().toLowerCase();
  const groups = useMemo(() => {
    const out: string[] = [];
    const walk = (n: Node) => n.children.forEach((c) => c.children.size && (out.push(c.path), walk(c)));
    walk(tree);
    return out;
  }, [tree]);
  const toggle = (path: string) => {
    const next = new Set(closed);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setClosed(next);
  };
  const render = (node: Node, depth: number): React.ReactNode =>
    sorted(node)
      .filter((c) => matches(c, query))
      .map((c) => {
        const isGroup = c.children.size > 0;
        const open = query !== '' || !closed.has(c.path);
        return (
          <div key={c.path} role="treeitem" aria-expanded={isGroup ? open : undefined} aria-level={depth + 1}>
            <div className={`ptree-row${isGroup ? ' ptree-group' : ''}`} style={{ paddingLeft: 8 + depth * 16 }} data-testid={isGroup ? 'param-group' : 'param-row'} data-key={c.path}>
              {isGroup ? (
                <button className="ptree-toggle" onClick={() => toggle(c.path)} aria-label={`${open ? 'Collapse' : 'Expand'} ${c.path}`}>
                  <span className={`caret${open ? ' open' : ''}`}>▸</span> {c.name}
                  <span className="ptree-count">{countLeaves(c)}</span>
                </button>
              ) : (
                <span className="ptree-key">{c.name}</span>
              )}
              {c.value !== undefined && (
                <span className="ptree-value mono" title={c.value}>
                  {c.value}
                </span>
              )}
            </div>
            {isGroup && open && render(c, depth + 1)}
          </div>
        );
      });
  if (!params.length) return <span className="muted">No parameters logged.</span>;
  return (
    <div className="ptree">
      <div className="toolbar">
        <input className="input grow" placeholder={`Filter ${params.length} parameters…`} aria-label="Filter parameters" value={q} onChange={(e) => setQ(e.target.value)} />
        {groups.length > 0 && (
          <>
            <button className="btn btn-sm" onClick={() => setClosed(new Set())}>
              Expand all
            </button>
            <button className="btn btn-sm" onClick={() => setClosed(new Set(groups))}>
              Collapse all
            </button>
          </>
        )}
      </div>
      <div className="ptree-body" role="tree" aria-label="Parameters">
        {render(tree, 0)}
      </div>
    </div>
  );
}
