import { useMemo, useRef, useState } from 'react';
import type { ColumnKeys } from '../api/mlflow';
import { ATTRIBUTE_KEYS, quoteKey } from './columns';

// MLflow's search grammar in a text box (`metrics.loss < 0.5 and params.optimizer = 'adam'`), with
// completion of the entity prefix and of the keys the experiments have. Enter applies the filter.

const ENTITIES = ['metrics.', 'params.', 'tags.', 'attributes.'];
const FILTERABLE_ATTRS = ATTRIBUTE_KEYS.filter((k) => !['duration', 'experiment_id', 'source', 'git_commit'].includes(k)).concat('run_name');

function currentToken(text: string, caret: number): { start: number; token: string } {
  let start = caret;
  while (start > 0 && !/[\s(),]/.test(text[start - 1])) start--;
  return { start, token: text.slice(start, caret) };
}

export function FilterBox({ value, keys, onApply }: { value: string; keys: ColumnKeys; onApply: (filter: string) => void }) {
  const [text, setText] = useState(value);
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [lastValue, setLastValue] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  if (value !== lastValue) {
    setLastValue(value);
    setText(value);
  }

  const suggestions = useMemo(() => {
    const { token } = currentToken(text, caret);
    if (!token) return [];
    const dot = token.indexOf('.');
    if (dot < 0) return ENTITIES.filter((e) => e.startsWith(token.toLowerCase()) && e !== token).map((e) => ({ label: e, insert: e }));
    const entity = token.slice(0, dot + 1);
    const prefix = token.slice(dot + 1).replace(/^[`"]/, '').toLowerCase();
    const list = entity === 'metrics.' ? keys.metrics : entity === 'params.' ? keys.params : entity === 'tags.' ? keys.tags : entity === 'attributes.' ? FILTERABLE_ATTRS : [];
    return list
      .filter((k) => k.toLowerCase().includes(prefix))
      .slice(0, 50)
      .map((k) => ({ label: `${entity}${k}`, insert: `${entity}${quoteKey(k)} ` }));
  }, [text, caret, keys]);

  const accept = (insert: string) => {
    const { start } = currentToken(text, caret);
    const next = text.slice(0, start) + insert + text.slice(caret);
    setText(next);
    setOpen(false);
    const pos = start + insert.length;
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(pos, pos);
      setCaret(pos);
    });
  };

  const showList = open && suggestions.length > 0;
  return (
    <div className="filter-box">
      <input
        ref={input}
        className="input mono"
        data-testid="filter-input"
        aria-label="Filter runs"
        role="combobox"
        aria-expanded={showList}
        aria-autocomplete="list"
        placeholder="Filter: metrics.loss < 0.5 and params.optimizer = 'adam'"
        value={text}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart ?? e.target.value.length);
          setOpen(true);
          setActive(0);
        }}
        onSelect={(e) => setCaret((e.target as HTMLInputElement).selectionStart ?? 0)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (showList && e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(a + 1, suggestions.length - 1));
          } else if (showList && e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (showList && (e.key === 'Tab' || e.key === 'Enter')) {
            e.preventDefault();
            accept(suggestions[active].insert);
          } else if (e.key === 'Escape') {
            setOpen(false);
          } else if (e.key === 'Enter') {
            onApply(text.trim());
          }
        }}
      />
      {text !== value && <span className="filter-hint">Enter to apply</span>}
      {showList && (
        <ul className="popover suggestions" role="listbox" data-testid="filter-suggestions">
          {suggestions.map((s, i) => (
            <li
              key={s.label}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s.insert);
              }}
            >
              {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
