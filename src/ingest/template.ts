/**
 * Message templates: `{{field}}` or `{{ field }}` is replaced by the row's value of that field.
 * A template is parsed once per job into literal pieces and field references; rendering a row is
 * then one string concatenation. A referenced field that is missing or blank in the row makes the
 * row unsendable (the caller skips it naming the fields) — a text reading "Hi , your order  ships"
 * is worse than no text.
 */

export interface Template {
  readonly source: string;
  /** Literal text around the references: `literals.length === refs.length + 1`. */
  readonly literals: readonly string[];
  /** Field names in order of appearance (a field used twice appears twice). */
  readonly refs: readonly string[];
  /** Distinct field names, in order of first appearance. */
  readonly fields: readonly string[];
}

const REFERENCE = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** Parses a template; text that only looks like a reference (`{{ }}`, `{x}`) stays literal. */
export function parseTemplate(source: string): Template {
  const literals: string[] = [];
  const refs: string[] = [];
  let last = 0;
  for (const match of source.matchAll(REFERENCE)) {
    literals.push(source.slice(last, match.index));
    refs.push(match[1]!);
    last = match.index + match[0].length;
  }
  literals.push(source.slice(last));
  return { source, literals, refs, fields: [...new Set(refs)] };
}

/** A template bound to the positions of its fields in a row's value array. */
export interface BoundTemplate {
  /** The rendered text, or null when a referenced field is missing or blank. */
  render(values: ReadonlyArray<string | undefined>): string | null;
  /** The referenced fields that are missing or blank in `values` (for the skip detail). */
  missing(values: ReadonlyArray<string | undefined>): string[];
  /**
   * What `render` placed between the literals, joined by `separator`: with the literals it gives the
   * text back (how the ledger stores a templated text). Undefined when a value holds the separator.
   */
  placed(values: ReadonlyArray<string | undefined>, separator: string): string | undefined;
}

function isBlank(value: string | undefined): boolean {
  if (value === undefined || value.length === 0) return true;
  const first = value.charCodeAt(0);
  // A visible ASCII first character settles it without trim()'s scan (the common case).
  if (first > 0x20 && first < 0x7f) return false;
  return value.trim() === '';
}

/** Binds `template` to `fieldOrder`, the order of values in the arrays passed to `render`. */
export function bindTemplate(template: Template, fieldOrder: readonly string[]): BoundTemplate {
  const positions = template.refs.map((name) => {
    const at = fieldOrder.indexOf(name);
    if (at < 0) throw new Error(`template field ${name} is not in the field order`);
    return at;
  });
  const { literals } = template;
  if (positions.length === 0) {
    const text = literals[0]!;
    return { render: () => text, missing: () => [], placed: () => '' };
  }
  return {
    render(values) {
      let out = literals[0]!;
      for (let i = 0; i < positions.length; i++) {
        const value = values[positions[i]!];
        if (isBlank(value)) return null;
        out += value + literals[i + 1]!;
      }
      return out;
    },
    placed(values, separator) {
      let out = '';
      for (let i = 0; i < positions.length; i++) {
        const value = values[positions[i]!] ?? '';
        if (value.includes(separator)) return undefined;
        out = i === 0 ? value : out + separator + value;
      }
      return out;
    },
    missing(values) {
      const names: string[] = [];
      template.refs.forEach((name, i) => {
        if (isBlank(values[positions[i]!]) && !names.includes(name)) names.push(name);
      });
      return names;
    },
  };
}
