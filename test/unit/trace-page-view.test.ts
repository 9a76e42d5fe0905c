import { describe, expect, it } from 'vitest';
import { chatOf, parsedJson, tokenUsage } from '../../ui/src/pages/traces/llm.js';
import { ancestors, treeRows, visibleRows, type TreeSpan } from '../../ui/src/pages/traces/span-tree.js';

// The trace page's reading of a trace: which payloads it shows as a chat and which it leaves to the
// JSON view (ui/src/pages/traces/llm.ts), and the span tree it lists (span-tree.ts).

describe('chatOf', () => {
  it('reads an OpenAI-style request and answer, as objects or as the JSON text the client stores', () => {
    const asked = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], model: 'm' };
    expect(chatOf(asked)).toEqual([{ role: 'system', text: 'Be brief.' }, { role: 'user', text: 'hi' }]);
    expect(chatOf(JSON.stringify(asked))).toEqual(chatOf(asked));
    const answer = { choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ function: { name: 'search', arguments: '{"q":"x"}' } }] } }] };
    expect(chatOf(answer)).toEqual([{ role: 'assistant', text: '→ search({"q":"x"})' }]);
  });

  it('reads Anthropic-style content blocks, a system prompt beside the messages, and a single message answer', () => {
    const asked = { system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: {} }] }] };
    expect(chatOf(asked)).toEqual([{ role: 'system', text: 'Be brief.' }, { role: 'user', text: 'hi\n[image]' }]);
    const answer = { role: 'assistant', content: [{ type: 'tool_use', name: 'calc', input: { x: 1 } }] };
    expect(chatOf(answer)).toEqual([{ role: 'assistant', text: '→ calc({"x":1})' }]);
  });

  it('leaves what is not a chat to the JSON view', () => {
    for (const v of [
      { q: 'what is a cairn?' },
      { role: 'admin', query: 'x' }, // a role, but no content: not a message
      { messages: [{ role: 'user', content: 'a' }, { text: 'no role' }] }, // one item is not a message
      { messages: [] },
      [1, 2],
      'plain text',
      '{not json',
      42,
      null,
    ]) {
      expect(chatOf(v)).toBeUndefined();
    }
  });
});

describe('tokenUsage', () => {
  it('reads the counts from an object or its JSON text, and sums a missing total', () => {
    expect(tokenUsage('{"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}')).toEqual({ input: 12, output: 7, total: 19 });
    expect(tokenUsage({ input_tokens: 3, output_tokens: 4 })).toEqual({ input: 3, output: 4, total: 7 });
  });
  it('answers nothing for values without counts', () => {
    for (const v of [undefined, '', 'x', '{}', { input_tokens: -1 }, { total_tokens: 'many' }, [1]]) expect(tokenUsage(v)).toBeUndefined();
  });
});

describe('parsedJson', () => {
  it('parses JSON text and keeps other text as it is', () => {
    expect(parsedJson('{"a": [1]}')).toEqual({ a: [1] });
    expect(parsedJson('"quoted"')).toBe('quoted');
    expect(parsedJson('12 apples')).toBe('12 apples');
    expect(parsedJson('[broken')).toBe('[broken');
  });
});

describe('the span tree', () => {
  const span = (id: string, parentId: string | undefined, start: number): TreeSpan => ({ id, parentId, startNs: BigInt(start) });
  const order = (rows: { span: TreeSpan; depth: number }[]) => rows.map((r) => `${r.span.id}@${r.depth}`);

  it('lists children under their parent by start time; an orphan and a parent cycle are roots, so every span is listed', () => {
    const rows = treeRows([
      span('b', 'root', 20), span('root', undefined, 0), span('a', 'root', 10), span('a1', 'a', 11),
      span('orphan', 'never-received', 5), span('x', 'y', 30), span('y', 'x', 31),
    ]);
    expect(order(rows)).toEqual(['root@0', 'a@1', 'a1@2', 'b@1', 'orphan@0', 'x@0', 'y@1']);
    expect(rows.map((r) => r.hasChildren)).toEqual([true, true, false, false, false, true, false]);
  });

  it('walks a chain of 5,000 spans without recursion, and folding hides exactly a subtree', () => {
    const chain = Array.from({ length: 5000 }, (_, i) => span(`s${i}`, i ? `s${i - 1}` : undefined, i));
    expect(treeRows(chain).at(-1)!.depth).toBe(4999);
    const rows = treeRows([span('root', undefined, 0), span('a', 'root', 1), span('a1', 'a', 2), span('b', 'root', 3)]);
    expect(order(visibleRows(rows, new Set(['a'])))).toEqual(['root@0', 'a@1', 'b@1']);
    expect(order(visibleRows(rows, new Set(['root'])))).toEqual(['root@0']);
  });

  it('walks a span\'s ancestors nearest first, and stops on a parent cycle', () => {
    expect(ancestors(new Map([['c', 'b'], ['b', 'a'], ['a', undefined]]), 'c')).toEqual(['b', 'a']);
    expect(ancestors(new Map([['x', 'y'], ['y', 'x']]), 'x')).toHaveLength(2);
  });
});
