import { describe, expect, it } from 'vitest';
import { bindTemplate, parseTemplate } from '../../../src/ingest/template.js';
import { renderVars, VARS_SEPARATOR } from '../../../src/ledger/message-text.js';

describe('templates', () => {
  it('parses {{field}} and {{ field }} once, keeping other braces literal', () => {
    const t = parseTemplate('Hi {{first_name}}, {{ order_id }} {x} {{ }} {{first_name}}!');
    expect(t.refs).toEqual(['first_name', 'order_id', 'first_name']);
    expect(t.fields).toEqual(['first_name', 'order_id']);
    const bound = bindTemplate(t, ['phone', 'first_name', 'order_id']);
    expect(bound.render(['+1', 'Ann', 'A1'])).toBe('Hi Ann, A1 {x} {{ }} Ann!');
  });

  it('a missing or blank field fails the render and is named once', () => {
    const bound = bindTemplate(parseTemplate('{{a}} {{b}} {{a}} {{c}}'), ['a', 'b', 'c']);
    expect(bound.render(['', 'x', undefined])).toBeNull();
    expect(bound.missing(['', 'x', undefined])).toEqual(['a', 'c']);
    expect(bound.render([' \t', 'x', 'y'])).toBeNull();
    expect(bound.render(['\u00a0A', 'x', 'y'])).toBe('\u00a0A x \u00a0A y');
  });

  it('a template without fields renders as itself', () => {
    expect(bindTemplate(parseTemplate('Sale today'), []).render([])).toBe('Sale today');
  });

  it('what a render placed, with the literals, gives the text back (how the ledger stores it)', () => {
    for (const source of ['Hi {{a}}, {{b}} and {{a}} again', '{{a}}{{b}}', 'Sale today ✨']) {
      const t = parseTemplate(source);
      const bound = bindTemplate(t, ['a', 'b']);
      for (const values of [['Ann', 'Zoë 🎉'], ['y', 'x'], ['a,b', 'tab\there']]) {
        const vars = bound.placed(values, VARS_SEPARATOR)!;
        expect(renderVars(t.literals, vars)).toBe(bound.render(values));
      }
    }
    // A value holding the separator cannot be stored this way: the caller keeps the whole text.
    expect(bindTemplate(parseTemplate('{{a}}'), ['a']).placed([`x${VARS_SEPARATOR}y`], VARS_SEPARATOR)).toBeUndefined();
  });
});
