/**
 * `${vault:NAME}` references: where they are in a text, and the text with each one replaced by
 * its value, quoted for the place it stands in a POSIX shell command line, so a value can never
 * become shell syntax (a `'`, `$(…)` or newline in a password stays data).
 */
import { DataError, UsageError } from "../../src/kernel/index.ts";
import { isValidName, NAME_RULE } from "./format.ts";

const OPEN = "${vault:";

export interface Reference {
  name: string;
  start: number;
  end: number;
}

/** Every reference in `text`, in order. A malformed one (`${vault:}`, `${vault:a b}`, no `}`) is a UsageError. */
export function findReferences(text: string): Reference[] {
  const refs: Reference[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf(OPEN, from);
    if (start < 0) return refs;
    const close = text.indexOf("}", start + OPEN.length);
    const name = close < 0 ? "" : text.slice(start + OPEN.length, close);
    if (close < 0 || !isValidName(name)) {
      const shown = text.slice(start, close < 0 ? start + 40 : Math.min(close + 1, start + 60));
      throw new UsageError(`Malformed vault reference ${JSON.stringify(shown)}: write \${vault:NAME}, NAME being ${NAME_RULE}`, { code: "E_VAULT_REF" });
    }
    refs.push({ name, start, end: close + 1 });
    from = close + 1;
  }
}

type Context = "bare" | "single" | "double" | "ansi";

/** The quoting context at each reference, from a scan of the shell's quoting rules. */
function contexts(text: string, refs: Reference[]): Context[] {
  const out: Context[] = [];
  let state: Context = "bare";
  let i = 0;
  for (const ref of refs) {
    for (; i < ref.start; i++) {
      const c = text[i];
      if (state === "single") {
        if (c === "'") state = "bare";
      } else if (c === "\\") {
        i++;
      } else if (state === "bare") {
        if (c === "'") state = "single";
        else if (c === '"') state = "double";
        else if (c === "$" && text[i + 1] === "'") {
          state = "ansi";
          i++;
        }
      } else if (state === "double" ? c === '"' : c === "'") {
        state = "bare";
      }
    }
    out.push(state);
    i = ref.end;
  }
  return out;
}

function quoteFor(value: string, context: Context): string {
  switch (context) {
    case "bare":
      return `'${value.replace(/'/g, `'\\''`)}'`;
    case "single":
      // Close the quotes, add an escaped quote, reopen: 'a'\''b'.
      return value.replace(/'/g, `'\\''`);
    case "double":
      return value.replace(/[\\"$`]/g, "\\$&");
    case "ansi":
      return value.replace(/[\\']/g, "\\$&");
  }
}

/** `text` with each reference replaced by `valueOf(name)`, shell-quoted or as it is. */
export function substitute(text: string, refs: Reference[], valueOf: (name: string) => string, quote: "shell" | "none"): string {
  if (refs.length === 0) return text;
  const where = quote === "shell" ? contexts(text, refs) : [];
  let out = "";
  let pos = 0;
  refs.forEach((ref, i) => {
    const value = valueOf(ref.name);
    if (quote === "shell" && value.includes("\0")) {
      throw new DataError("E_VAULT_NUL", `The value of "${ref.name}" holds a NUL byte, which no command line can carry`, { hint: "Store it base64-encoded and decode it on the server" });
    }
    out += text.slice(pos, ref.start) + (quote === "shell" ? quoteFor(value, where[i]) : value);
    pos = ref.end;
  });
  return out + text.slice(pos);
}
