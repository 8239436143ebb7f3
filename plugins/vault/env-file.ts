/**
 * `KEY=VALUE` lines for `vault import --env-file`: blank lines and `#` comments skipped, an
 * optional `export `, values bare (a trailing ` # comment` dropped), in '…' (as they are) or in
 * "…" (\n, \t, \", \\ understood). Errors name the line, never its text: it may hold a secret.
 */
import { DataError } from "../../src/kernel/index.ts";
import { isValidName, NAME_RULE } from "./format.ts";

export interface EnvLine {
  name: string;
  value: string;
  line: number;
}

export function parseEnvFile(text: string, file: string): EnvLine[] {
  const out = new Map<string, EnvLine>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) throw bad(file, line, "expected KEY=VALUE");
    const [, name, rest] = m;
    if (!isValidName(name)) throw bad(file, line, `the key is not a vault name (${NAME_RULE})`);
    const value = unquote(rest);
    if (value === undefined) throw bad(file, line, "the value's quotes are not closed");
    // The last assignment wins, as in a shell.
    out.delete(name);
    out.set(name, { name, value, line });
  });
  return [...out.values()];
}

function unquote(rest: string): string | undefined {
  const q = rest[0];
  if (q === "'" || q === '"') {
    const end = rest.lastIndexOf(q);
    if (end === 0) return undefined;
    const after = rest.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) return undefined;
    const body = rest.slice(1, end);
    if (q === "'") return body;
    return body.replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c] ?? c);
  }
  return rest.replace(/\s+#.*$/, "");
}

function bad(file: string, line: number, why: string): DataError {
  return new DataError("E_VAULT_ENV_FILE", `${file}:${line}: ${why}; nothing was imported`, { hint: "Each line is KEY=VALUE (optionally quoted, optionally after export)" });
}
