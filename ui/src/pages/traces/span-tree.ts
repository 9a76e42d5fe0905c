// The span tree of a trace as the waterfall lists it (waterfall.tsx): rows in tree order, and the
// rows left in sight when some spans are folded. Only what the tree needs of a span is named here.

export interface TreeSpan {
  id: string;
  parentId?: string;
  startNs: bigint;
}

export interface Row<S extends TreeSpan = TreeSpan> {
  span: S;
  depth: number;
  hasChildren: boolean;
}

const byStart = (a: TreeSpan, b: TreeSpan) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);

/**
 * Spans in tree order (children under their parent, by start time). Orphans (parent not received)
 * are roots; so is a span of a parent cycle, which no root reaches, so that every span is listed.
 */
export function treeRows<S extends TreeSpan>(spans: S[]): Row<S>[] {
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string | undefined, S[]>();
  for (const s of spans) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : undefined;
    const list = children.get(parent);
    if (list) list.push(s);
    else children.set(parent, [s]);
  }
  for (const list of children.values()) list.sort(byStart);
  const out: Omit<Row<S>, 'hasChildren'>[] = [];
  const listed = new Set<string>();
  // Iterative, so a chain of thousands of spans cannot overflow the stack.
  const walk = (root: S) => {
    const stack: [S, number][] = [[root, 0]];
    while (stack.length) {
      const [s, depth] = stack.pop()!;
      if (listed.has(s.id)) continue;
      listed.add(s.id);
      out.push({ span: s, depth });
      const kids = children.get(s.id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
  };
  for (const s of children.get(undefined) ?? []) walk(s);
  for (const s of [...spans].sort(byStart)) if (!listed.has(s.id)) walk(s);
  return out.map((r, i) => ({ ...r, hasChildren: (out[i + 1]?.depth ?? -1) > r.depth }));
}

/** The rows not under a folded span. */
export function visibleRows<S extends TreeSpan>(rows: Row<S>[], folded: ReadonlySet<string>): Row<S>[] {
  const out: Row<S>[] = [];
  let hiddenBelow = Infinity;
  for (const r of rows) {
    if (r.depth > hiddenBelow) continue;
    hiddenBelow = folded.has(r.span.id) ? r.depth : Infinity;
    out.push(r);
  }
  return out;
}

/** A span's ancestors, nearest first; bounded by the span count, so a parent cycle cannot loop. */
export function ancestors(parents: ReadonlyMap<string, string | undefined>, id: string): string[] {
  const out: string[] = [];
  for (let p = parents.get(id); p && out.length < parents.size; p = parents.get(p)) out.push(p);
  return out;
}
