/**
 * history.db: schema, integrity check, ingestion of journal records, queries.
 *
 * The FTS4 table is where text lives (question/command in `input`, answer in `output`), so text
 * is stored once; the other tables hold the structured columns. sql.js 1.16 has FTS3/FTS4, not
 * FTS5.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type BigIntStats } from "node:fs";
import type { Database, SqlJsStatic, SqlValue } from "sql.js";
import type { JournalRecord } from "./journal.ts";
import { PagedFile } from "./paged-file.ts";
import type { EntryKind, HistoryEntry, SearchOptions } from "./types.ts";

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations(
  id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,
  started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, provider TEXT, model TEXT);
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
  mode TEXT NOT NULL, kind TEXT NOT NULL, server TEXT, conversation_id INTEGER,
  run_id TEXT, duration_ms INTEGER, extra TEXT);
CREATE INDEX IF NOT EXISTS entries_ts ON entries(ts);
CREATE INDEX IF NOT EXISTS entries_conversation ON entries(conversation_id) WHERE conversation_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS messages(
  entry_id INTEGER PRIMARY KEY, provider TEXT, model TEXT,
  prompt_tokens INTEGER, completion_tokens INTEGER, finish_reason TEXT);
CREATE TABLE IF NOT EXISTS executions(
  entry_id INTEGER PRIMARY KEY, path TEXT, exit_code INTEGER,
  decision TEXT, rule TEXT, approver TEXT, origin TEXT);
CREATE TABLE IF NOT EXISTS deleted(uid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts4(input, output, tokenize=unicode61);
`;

export class CorruptDatabase extends Error {}

/** Identity of a file version: any write, truncation or replacement changes it. */
export function fileStamp(path: string): string | undefined {
  try {
    return stampOf(statSync(path, { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function stampOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** Stamp of the last history.db version that passed quick_check (or that opsterm wrote itself). */
function readVerified(path: string): string | undefined {
  try {
    return readFileSync(`${path}.verified`, "utf8").trim();
  } catch {
    return undefined;
  }
}

export interface Opened {
  db: Database;
  /** Set when quick_check ran and passed on a version not verified before. */
  newlyVerified?: string;
  /** The file read on demand (absent for a new database, or when sql.js would not take it). */
  file?: PagedFile;
}

/**
 * Opens history.db, or a new database. Throws CorruptDatabase when the file is damaged.
 * PRAGMA quick_check reads every page (about 1 s per 40 MB under WebAssembly), so it runs only
 * on a file version that is not the one recorded in `history.db.verified`: a file opsterm saved
 * itself, from a database that had passed the check, needs no second look until it changes.
 *
 * The file is not read up front: SQLite reads the pages it needs from an open descriptor, and
 * what it writes (folding in the journal) stays in memory until `export()` (see paged-file.ts).
 * `db.close()` closes the descriptor.
 */
export function openDatabase(SQL: SqlJsStatic, path: string): Opened {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const db = new SQL.Database();
    db.exec(SCHEMA);
    db.exec(`INSERT INTO meta VALUES ('schema', '${SCHEMA_VERSION}')`);
    return { db };
  }
  let db: Database;
  let file: PagedFile | undefined;
  let stamp: string;
  try {
    const stat = fstatSync(fd, { bigint: true });
    stamp = stampOf(stat);
    const size = Number(stat.size);
    const header = new Uint8Array(Math.min(100, size));
    if (readSync(fd, header, 0, header.length, 0) !== header.length) throw new CorruptDatabase("truncated while reading the header");
    const problem = headerProblem(header, size);
    if (problem) throw new CorruptDatabase(problem);
    ({ db, file } = openPaged(SQL, fd, size));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let newlyVerified: string | undefined;
  try {
    const known = stamp === readVerified(path);
    if (!known) {
      // Opening succeeds on a damaged file; quick_check reads every page.
      const rows = db.exec("PRAGMA quick_check");
      const verdict = rows[0]?.values.map((r) => String(r[0])) ?? [];
      if (verdict.length !== 1 || verdict[0] !== "ok") throw new CorruptDatabase(`quick_check: ${verdict.slice(0, 3).join("; ")}`);
      if (stamp === fileStamp(path)) newlyVerified = stamp;
    }
    const version = db.exec("SELECT value FROM meta WHERE key = 'schema'")[0]?.values[0]?.[0];
    if (version === undefined) throw new CorruptDatabase("not an opsterm history database (no schema version)");
    if (Number(version) > SCHEMA_VERSION) throw new CorruptDatabase(`written by a newer opsterm (schema ${version})`);
  } catch (error) {
    db.close();
    throw error instanceof CorruptDatabase ? error : new CorruptDatabase((error as Error).message);
  }
  return { db, newlyVerified, file };
}

/** A database over the file open at `fd`, read on demand; its `close()` closes `fd`. */
function openPaged(SQL: SqlJsStatic, fd: number, size: number): { db: Database; file?: PagedFile } {
  const file = new PagedFile(fd, size);
  let db: Database;
  try {
    db = new SQL.Database(file.asInitialData());
  } catch (error) {
    throw new CorruptDatabase((error as Error).message);
  }
  if (!file.adopted) {
    // This sql.js stored the data some other way than paged-file.ts expects: load it all instead.
    db.close();
    const bytes = file.subarray(0, size);
    try {
      db = new SQL.Database(bytes);
    } catch (error) {
      throw new CorruptDatabase((error as Error).message);
    }
    closeSync(fd);
    return { db };
  }
  const close = db.close.bind(db);
  db.close = () => {
    try {
      close();
    } finally {
      file.close();
    }
  };
  return { db, file };
}

/** A cheap look at the header: a truncated file has fewer bytes than its page count says. */
function headerProblem(header: Uint8Array, size: number): string | undefined {
  if (size < 100) return `${size} bytes is too short for a SQLite file`;
  const magic = Buffer.from(header.subarray(0, 16)).toString("latin1");
  if (magic !== "SQLite format 3\0") return "not a SQLite file (bad header)";
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const raw = view.getUint16(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const pages = view.getUint32(28);
  // The page count in the header is valid when "version-valid-for" matches the change counter.
  if (view.getUint32(92) === view.getUint32(24) && pages > 0 && size < pages * pageSize) {
    return `truncated: ${size} bytes, the header says ${pages} pages of ${pageSize}`;
  }
  if (size % pageSize !== 0) return `truncated: ${size} bytes is not a whole number of ${pageSize}-byte pages`;
  return undefined;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.length ? v : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? Math.round(v) : null);

const KNOWN = new Set([
  "mode", "server", "command", "path", "exitCode", "durationMs", "decision", "rule", "approver", "origin", "runId",
  "question", "answer", "content", "provider", "model", "promptTokens", "completionTokens", "usage", "finishReason",
  "conversation", "input", "output", "text",
]);

/** Inserts journal records; a record whose id is already stored (or was removed) is skipped. */
export function ingest(db: Database, records: JournalRecord[]): number {
  if (records.length === 0) return 0;
  let added = 0;
  const seen = db.prepare("SELECT 1 FROM deleted WHERE uid = ?");
  // RETURNING gives the new row's id in the same step (no row when the uid was already stored).
  const entry = db.prepare(
    "INSERT OR IGNORE INTO entries(uid, ts, mode, kind, server, conversation_id, run_id, duration_ms, extra) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
  );
  const fts = db.prepare("INSERT INTO entries_fts(docid, input, output) VALUES (?,?,?)");
  const message = db.prepare("INSERT INTO messages VALUES (?,?,?,?,?,?)");
  const execution = db.prepare("INSERT INTO executions VALUES (?,?,?,?,?,?,?)");
  const convInsert = db.prepare("INSERT OR IGNORE INTO conversations(uid, started_at, updated_at, provider, model) VALUES (?,?,?,?,?)");
  const convUpdate = db.prepare("UPDATE conversations SET updated_at = max(updated_at, ?) WHERE uid = ? RETURNING id");
  db.exec("BEGIN");
  try {
    for (const { id, ts, event: e } of records) {
      seen.bind([id]);
      const wasDeleted = seen.step();
      seen.reset();
      if (wasDeleted) continue;
      const kind: EntryKind = typeof e.command === "string" ? "execution" : e.question !== undefined || e.answer !== undefined || e.content !== undefined ? "message" : "event";
      const usage = (typeof e.usage === "object" && e.usage !== null ? e.usage : {}) as Record<string, unknown>;
      let conversationId: number | null = null;
      const conv = str(e.conversation);
      if (conv) {
        convInsert.run([conv, ts, ts, str(e.provider), str(e.model)]);
        convUpdate.bind([ts, conv]);
        if (convUpdate.step()) conversationId = Number(convUpdate.get()[0]);
        convUpdate.reset();
      }
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) if (!KNOWN.has(k) && v !== undefined) extra[k] = v;
      entry.bind([id, ts, e.mode, kind, str(e.server), conversationId, str(e.runId), int(e.durationMs), Object.keys(extra).length ? JSON.stringify(extra) : null]);
      const inserted = entry.step() ? Number(entry.get()[0]) : undefined;
      entry.reset();
      if (inserted === undefined) continue;
      const rowid = inserted;
      const input = kind === "execution" ? String(e.command) : text(e.question ?? e.input ?? e.text);
      const output = text(e.answer ?? e.content ?? e.output);
      fts.run([rowid, input, output]);
      if (kind === "message") {
        message.run([rowid, str(e.provider), str(e.model), int(e.promptTokens ?? usage.promptTokens), int(e.completionTokens ?? usage.completionTokens), str(e.finishReason)]);
      } else if (kind === "execution") {
        execution.run([rowid, str(e.path), int(e.exitCode), str(e.decision), str(e.rule), str(e.approver), str(e.origin)]);
      }
      added++;
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  } finally {
    for (const s of [seen, entry, fts, message, execution, convInsert, convUpdate]) s.free();
  }
  return added;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

const SELECT = `
SELECT e.id, e.uid, e.ts, e.mode, e.kind, e.server, c.uid, f.input, f.output, e.duration_ms, e.run_id, e.extra,
  x.exit_code, x.decision, x.rule, x.approver, x.origin, x.path,
  m.provider, m.model, m.prompt_tokens, m.completion_tokens, m.finish_reason`;
const JOINS = `
  JOIN entries_fts f ON f.docid = e.id
  LEFT JOIN conversations c ON c.id = e.conversation_id
  LEFT JOIN executions x ON x.entry_id = e.id
  LEFT JOIN messages m ON m.entry_id = e.id`;

function toEntry(r: SqlValue[], full: boolean): HistoryEntry {
  const entry: HistoryEntry = {
    id: Number(r[0]),
    uid: String(r[1]),
    at: new Date(Number(r[2])).toISOString(),
    mode: String(r[3]),
    kind: String(r[4]) as EntryKind,
    input: String(r[7] ?? ""),
  };
  const set = <K extends keyof HistoryEntry>(key: K, value: SqlValue, conv: (v: SqlValue) => HistoryEntry[K]) => {
    if (value !== null && value !== undefined) entry[key] = conv(value);
  };
  set("server", r[5], String);
  set("conversation", r[6], String);
  if (r[8]) entry.output = String(r[8]);
  set("durationMs", r[9], Number);
  set("runId", r[10], String);
  if (entry.kind === "execution") entry.exitCode = r[12] === null ? null : Number(r[12]);
  set("decision", r[13], String);
  set("rule", r[14], String);
  set("approver", r[15], String);
  set("origin", r[16], String);
  set("path", r[17], String);
  set("provider", r[18], String);
  set("model", r[19], String);
  set("promptTokens", r[20], Number);
  set("completionTokens", r[21], Number);
  set("finishReason", r[22], String);
  if (full && r[11]) entry.extra = JSON.parse(String(r[11])) as Record<string, unknown>;
  return entry;
}

/** Turns what a person typed into a safe FTS4 query: each word a quoted phrase, `*` kept for prefixes. */
function ftsQuery(query: string): string | undefined {
  const words = query.match(/[\p{L}\p{N}_]+\*?/gu) ?? [];
  if (words.length === 0) return undefined;
  return words.map((w) => (w.endsWith("*") ? `"${w.slice(0, -1)}"*` : `"${w}"`)).join(" ");
}

/** Newest entries a text search looks at first, per result wanted (see search()). */
const WINDOW_PER_RESULT = 100;

export function search(db: Database, options: SearchOptions): HistoryEntry[] {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const match = options.query ? ftsQuery(options.query) : undefined;
  if (options.query && !match) return [];
  if (match) {
    where.push("f.entries_fts MATCH ?");
    params.push(match);
  }
  if (options.mode) {
    where.push("e.mode = ?");
    params.push(options.mode);
  }
  if (options.server) {
    where.push("e.server = ?");
    params.push(options.server);
  }
  const limit = Math.max(1, Math.min(options.limit ?? 20, 100_000));
  // Two steps: pick the ids (sorting only small tuples from `entries`), then read text and details
  // for those ids alone. Sorting whole rows would read the text of every match: a common word
  // matches thousands of entries, and their text is most of the database.
  // With a text query, FTS narrows first; without one, walk the ts index from the newest.
  const filters = where.slice(match ? 1 : 0);
  let ids: number[] | undefined;
  if (match) {
    // A common word matches thousands of entries, and looking each one up to sort them by time
    // reads most of `entries`. So first: W, the newest `window` entries (the ts index, newest
    // first), and S, the matches whose id is at least the smallest id in W (FTS skips the others
    // in its doclist; ids mostly grow with time, so S is about the matches in W). A match outside
    // S is outside W, so older than all of W: when the `limit` newest of S are all in W, they are
    // the newest matches of all. Otherwise (a rarer word), all its matches are sorted.
    const window = Math.min(limit * WINDOW_PER_RESULT, 1_000_000);
    // The oldest entry of W; none when there are fewer entries than that.
    const edge = rows(db, `SELECT ts, id FROM entries ORDER BY ts DESC, id DESC LIMIT 1 OFFSET ${window - 1}`, [])[0];
    if (edge) {
      const minId = Number(rows(db, `SELECT min(id) FROM (SELECT id FROM entries ORDER BY ts DESC, id DESC LIMIT ${window})`, [])[0][0]);
      const found = rows(
        db,
        `SELECT e.id, e.ts FROM entries_fts f JOIN entries e ON e.id = f.docid
         WHERE f.entries_fts MATCH ? AND f.docid >= ${minId} ${filters.map((f) => `AND ${f}`).join(" ")}
         ORDER BY e.ts DESC, e.id DESC LIMIT ${limit}`,
        params,
      );
      const last = found.at(-1);
      const inWindow = (r: SqlValue[]) => Number(r[1]) > Number(edge[0]) || (Number(r[1]) === Number(edge[0]) && Number(r[0]) >= Number(edge[1]));
      if (found.length === limit && last && inWindow(last)) ids = found.map((r) => Number(r[0]));
    }
  }
  ids ??= rows(
    db,
    match
      ? `SELECT e.id FROM (SELECT docid FROM entries_fts WHERE entries_fts MATCH ?) hit JOIN entries e ON e.id = hit.docid
       ${filters.length ? "WHERE " + filters.join(" AND ") : ""} ORDER BY e.ts DESC, e.id DESC LIMIT ${limit}`
      : `SELECT e.id FROM entries e ${filters.length ? "WHERE " + filters.join(" AND ") : ""} ORDER BY e.ts DESC, e.id DESC LIMIT ${limit}`,
    params,
  ).map((r) => Number(r[0]));
  if (ids.length === 0) return [];
  const found: HistoryEntry[] = [];
  // Bounded IN lists (SQLite caps bound parameters).
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    found.push(...rows(db, `${SELECT} FROM entries e ${JOINS} WHERE e.id IN (${chunk.map(() => "?").join(",")})`, chunk).map((r) => toEntry(r, false)));
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  return found.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

export function getEntry(db: Database, id: number | string): HistoryEntry | undefined {
  const column = typeof id === "number" ? "e.id" : "e.uid";
  return rows(db, `${SELECT} FROM entries e ${JOINS} WHERE ${column} = ?`, [id]).map((r) => toEntry(r, true))[0];
}

export function lastConversation(db: Database): { uid: string; entries: HistoryEntry[] } | undefined {
  const conv = rows(db, "SELECT c.id, c.uid FROM entries e JOIN conversations c ON c.id = e.conversation_id WHERE e.conversation_id IS NOT NULL ORDER BY e.ts DESC, e.id DESC LIMIT 1", [])[0];
  if (!conv) return undefined;
  const list = rows(db, `${SELECT} FROM entries e ${JOINS} WHERE e.conversation_id = ? ORDER BY e.ts, e.id`, [conv[0]]).map((r) => toEntry(r, true));
  return { uid: String(conv[1]), entries: list };
}

/** Segments the FTS index may have before a compaction folds them into one. */
export const MAX_FTS_SEGMENTS = 8;

/**
 * FTS4 adds a segment per transaction and merges 16 of a level into one of the next; a query reads
 * every segment. Readers fold the journal into their in-memory copy (one more segment each time),
 * so a database saved with many segments makes every search pay for them. Under the compaction
 * lock, fold them into one once there are `max`. Returns whether it did.
 */
export function maintainIndex(db: Database, max = MAX_FTS_SEGMENTS): boolean {
  const segments = Number(db.exec("SELECT count(*) FROM entries_fts_segdir")[0]?.values[0]?.[0] ?? 0);
  if (segments < max) return false;
  db.exec("INSERT INTO entries_fts(entries_fts) VALUES('optimize')");
  return true;
}

/** Deletes entries (and their text and detail rows). `remember` keeps their ids so a replay cannot bring them back. */
export function deleteWhere(db: Database, condition: string, params: SqlValue[], remember: boolean): number {
  const ids = rows(db, `SELECT id, uid FROM entries WHERE ${condition}`, params);
  if (ids.length === 0) return 0;
  db.exec("BEGIN");
  try {
    const del = [
      db.prepare("DELETE FROM entries_fts WHERE docid = ?"),
      db.prepare("DELETE FROM messages WHERE entry_id = ?"),
      db.prepare("DELETE FROM executions WHERE entry_id = ?"),
      db.prepare("DELETE FROM entries WHERE id = ?"),
    ];
    const tomb = db.prepare("INSERT OR IGNORE INTO deleted VALUES (?)");
    for (const [id, uid] of ids) {
      for (const s of del) s.run([id]);
      if (remember) tomb.run([uid]);
    }
    for (const s of [...del, tomb]) s.free();
    db.exec("DELETE FROM conversations WHERE NOT EXISTS (SELECT 1 FROM entries WHERE conversation_id = conversations.id)");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return ids.length;
}

export function count(db: Database): number {
  return Number(db.exec("SELECT count(*) FROM entries")[0].values[0][0]);
}

function rows(db: Database, sql: string, params: SqlValue[]): SqlValue[][] {
  const stmt = db.prepare(sql);
  try {
    stmt.bind(params);
    const out: SqlValue[][] = [];
    while (stmt.step()) out.push(stmt.get());
    return out;
  } finally {
    stmt.free();
  }
}
