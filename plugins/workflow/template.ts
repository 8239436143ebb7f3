/**
 * `{{name}}` substitution and `when:` conditions. In a command line a value is shell-quoted
 * (`{{name | raw}}` inserts it as written); in paths, targets and questions it is inserted as is.
 * `${vault:NAME}` references are left alone: the gate resolves them for the executor only.
 */
import { shellQuote } from "../../src/lib/shell-quote.ts";

const REF = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\|\s*raw\s*)?\}\}/g;

/** Variable names a template uses. */
export function templateRefs(text: string): string[] {
  return [...text.matchAll(REF)].map((m) => m[1]);
}

/** Variable names a `when:` uses: its {{refs}} and bare `run.failed`. */
export function whenRefs(text: string): string[] {
  return templateRefs(text);
}

export type Scope = Record<string, string | undefined>;

/** Substitutes every {{ref}}; `quote` shell-quotes values not marked raw. Unknown refs are left as written (validation reports them). */
export function render(text: string, scope: Scope, quote: boolean): string {
  if (!text.includes("{{")) return text;
  return text.replace(REF, (whole, name: string, raw?: string) => {
    const value = scope[name];
    if (value === undefined) return whole;
    return quote && !raw ? shellQuote(value) : value;
  });
}

const FALSE = new Set(["", "false", "0", "no", "off"]);

/**
 * A `when:` condition: `run.failed`, `not run.failed`, `{{env}} == prod`, `{{env}} != "prod"`,
 * `{{flag}}` (true unless empty, false, 0, no or off).
 */
export function evaluateWhen(expr: string, scope: Scope): boolean {
  let text = expr.trim();
  let negate = false;
  const not = /^(?:not\s+|!\s*)/.exec(text);
  if (not) {
    negate = true;
    text = text.slice(not[0].length);
  }
  text = render(text, scope, false).replace(/(^|[^\w.])run\.failed(?![\w.])/g, (_, pre: string) => `${pre}${scope["run.failed"] ?? "false"}`);
  const m = /^(.*?)\s*(==|!=)\s*(.*)$/s.exec(text);
  const unquote = (s: string) => s.trim().replace(/^(["'])(.*)\1$/s, "$2");
  const result = m ? (unquote(m[1]) === unquote(m[3])) === (m[2] === "==") : !FALSE.has(unquote(text).toLowerCase());
  return negate ? !result : result;
}

/** Whether a condition can only be known while the run goes (it asks about run.failed). */
export function dependsOnRun(expr: string): boolean {
  return /run\.failed/.test(expr);
}
