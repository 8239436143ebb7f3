/**
 * Reading the original OpsTerm's files. Its YAML writer was hand-made: it quotes a string that
 * holds ":" with plain double quotes (no escaping) and leaves `[`, `{`, `*`, `|`, `>` … unquoted, so
 * some files it wrote are not valid YAML. A file is read as YAML first (that covers every shape
 * its docs show); when that fails, with the small grammar the original's own reader understood:
 * indentation, `key: value`, `- item`, `- key: value` with further keys two columns in, and
 * scalars (quotes stripped without escapes, numbers, true/yes/on, false/no/off, null/~).
 */
import { DataError } from "../../src/kernel/index.ts";

export type Legacy = Record<string, unknown> | unknown[] | string | number | boolean | null;

export async function readLegacyYaml(path: string): Promise<{ data: unknown; lenient: boolean } | undefined> {
  const { readBounded, READ_LIMITS } = await import("../../src/lib/bounded-read.ts");
  const bytes = readBounded(path, { maxBytes: READ_LIMITS.yaml, errorClass: DataError, what: "the original OpsTerm's YAML files" });
  if (bytes === undefined) return undefined;
  const text = bytes.toString("utf8");
  const { loadYaml, MAX_YAML_ALIASES } = await import("../../src/lib/yaml-file.ts");
  const YAML = await loadYaml();
  const doc = YAML.parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length === 0) {
    try {
      return { data: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {}, lenient: false };
    } catch {
      // fall through to the original's grammar
    }
  }
  try {
    return { data: parseLenient(text), lenient: true };
  } catch (error) {
    throw new DataError("E_MIGRATE_READ", `${path}: cannot be read as YAML nor as the original OpsTerm read it (${(error as Error).message})`);
  }
}

/** The original's own reading of its files (see the header). */
export function parseLenient(text: string): Legacy {
  const lines = text.split(/\r?\n/).map(stripComment).filter((l) => l.trim() !== "");
  if (lines.length === 0) return {};
  let i = 0;
  const indentOf = (l: string) => l.length - l.trimStart().length;

  function block(indent: number): Legacy {
    const first = lines[i].trim();
    if (first.startsWith("- ") || first === "-") return list(indentOf(lines[i]));
    if (isPair(first)) return map(indent);
    i++;
    return scalar(first);
  }

  function map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (i < lines.length) {
      const line = lines[i];
      const at = indentOf(line);
      if (at < indent) break;
      const content = line.trim();
      if (!isPair(content)) break;
      const [key, value] = splitPair(content);
      i++;
      if (value === "") {
        out[key] = i < lines.length && indentOf(lines[i]) > at ? block(indentOf(lines[i])) : i < lines.length && indentOf(lines[i]) === at && lines[i].trim().startsWith("- ") ? list(at) : {};
      } else out[key] = scalar(value);
    }
    return out;
  }

  function list(indent: number): unknown[] {
    const out: unknown[] = [];
    while (i < lines.length) {
      const line = lines[i];
      const at = indentOf(line);
      const content = line.trim();
      if (at !== indent || !(content.startsWith("- ") || content === "-")) break;
      const item = content.slice(2).trim();
      i++;
      if (item !== "" && isPair(item) && !/^["']/.test(item)) {
        const [k, v] = splitPair(item);
        const obj: Record<string, unknown> = {};
        obj[k] = v === "" && i < lines.length && indentOf(lines[i]) > indent + 2 ? block(indentOf(lines[i])) : scalar(v);
        while (i < lines.length && indentOf(lines[i]) === indent + 2 && isPair(lines[i].trim())) {
          const [k2, v2] = splitPair(lines[i].trim());
          i++;
          obj[k2] = v2 === "" && i < lines.length && indentOf(lines[i]) > indent + 2 ? block(indentOf(lines[i])) : scalar(v2);
        }
        out.push(obj);
      } else out.push(scalar(item));
    }
    return out;
  }

  const result = block(indentOf(lines[0]));
  return result;
}

function isPair(content: string): boolean {
  return content.includes(": ") || content.endsWith(":");
}

function splitPair(content: string): [string, string] {
  const at = content.indexOf(": ");
  if (at === -1) return [unquote(content.slice(0, -1).trim()), ""];
  return [unquote(content.slice(0, at).trim()), content.slice(at + 2).trim()];
}

/** `#` starts a comment when the quotes before it are balanced. */
function stripComment(line: string): string {
  const trimmed = line.trimEnd();
  const at = trimmed.indexOf("#");
  if (at === -1) return trimmed;
  const before = trimmed.slice(0, at);
  const balanced = (before.split('"').length - 1) % 2 === 0 && (before.split("'").length - 1) % 2 === 0;
  return balanced ? before.trimEnd() : trimmed;
}

function unquote(text: string): string {
  return text.length >= 2 && ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'"))) ? text.slice(1, -1) : text;
}

function scalar(text: string): Legacy {
  if (text === "") return "";
  if (text.length >= 2 && ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'")))) return text.slice(1, -1);
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === "true" || lower === "yes" || lower === "on") return true;
  if (lower === "false" || lower === "no" || lower === "off") return false;
  if (lower === "null" || lower === "~") return null;
  return text;
}

/** One row of the original's history table: `history(id, timestamp, mode, input, output)`. */
export interface OriginalHistoryRow {
  id: number;
  timestamp: string;
  mode: string;
  input: string;
  output: string;
}

/** The rows of the original's history.db, oldest first (read-only: the file is never written). */
export async function readOriginalHistory(path: string): Promise<OriginalHistoryRow[]> {
  const { readBounded } = await import("../../src/lib/bounded-read.ts");
  const bytes = readBounded(path, { maxBytes: 512 * 1024 * 1024, errorClass: DataError, what: "the original OpsTerm's history.db" });
  if (bytes === undefined) return [];
  const { loadSqlJs } = await import("../../src/lib/sqlite.ts");
  const SQL = await loadSqlJs("query");
  let db: import("sql.js").Database;
  try {
    db = new SQL.Database(bytes);
  } catch (error) {
    throw new DataError("E_MIGRATE_READ", `${path}: not an SQLite database (${(error as Error).message})`);
  }
  try {
    const table = db.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'history'");
    if (table.length === 0) return [];
    const cols = new Set(db.exec("PRAGMA table_info(history)")[0]?.values.map((r) => String(r[1])) ?? []);
    const col = (name: string, fallback: string) => (cols.has(name) ? name : fallback);
    const result = db.exec(`SELECT ${col("id", "rowid")}, ${col("timestamp", "''")}, ${col("mode", "''")}, ${col("input", "''")}, ${col("output", "''")} FROM history ORDER BY ${col("id", "rowid")}`);
    return (result[0]?.values ?? []).map((r) => ({ id: Number(r[0]), timestamp: String(r[1] ?? ""), mode: String(r[2] ?? ""), input: String(r[3] ?? ""), output: String(r[4] ?? "") }));
  } catch (error) {
    throw new DataError("E_MIGRATE_READ", `${path}: cannot read its history table (${(error as Error).message})`);
  } finally {
    db.close();
  }
}
