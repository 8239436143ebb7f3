/**
 * The history store: appends go to the journal; reads load history.db and fold in the journal;
 * writes (rm, prune, a large journal) compact the journal into the database under a lock.
 */
import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "sql.js";
import { IoError, type HistoryEvent, type PluginContext } from "../../src/kernel/index.ts";
import { atomicWrite, fsyncDir } from "../../src/lib/atomic-write.ts";
import { withLock } from "../../src/lib/lock.ts";
import { appendRecord, journalBytes, readAll, removeFiles, rotate } from "./journal.ts";
import type { ConversationMessages, HistoryEntry, HistoryService, SearchOptions } from "./types.ts";

/** Above this much journal, a reader saves the compacted database instead of folding in memory. */
export const COMPACT_BYTES = 256 * 1024;
/** Above this much journal, a process that recorded events compacts before it exits. */
export const JOURNAL_MAX_BYTES = 4 * COMPACT_BYTES;

export interface HistoryDeps {
  dataDir: string;
  pid: number;
  warn(text: string): void;
  debug(text: string): void;
  /** Secret values the redactor must replace. */
  secretValues(): Promise<string[]>;
  /** Days to keep; undefined keeps everything. */
  retentionDays(): Promise<number | undefined>;
  now?: () => number;
}

export interface HistoryStore extends HistoryService {
  readonly dbPath: string;
  readonly journalPath: string;
  /** Folds the journal into history.db now (under the lock). Returns the rows added. */
  compact(): Promise<{ added: number; total: number }>;
  /** Deletes one entry by id. Returns whether it existed. */
  remove(id: number | string): Promise<boolean>;
  /** Deletes entries recorded before `cutoffMs`. Returns how many. */
  prune(cutoffMs: number): Promise<number>;
  count(): Promise<number>;
}

export function pluginDeps(ctx: PluginContext): HistoryDeps {
  return {
    dataDir: ctx.paths.dataDir,
    pid: ctx.runtime.pid,
    warn: (t) => ctx.io.warn(t),
    debug: (t) => ctx.io.debug(t),
    secretValues: async () => (await ctx.hooks.call("secretValues")) ?? [],
    retentionDays: async () => {
      const value = (await ctx.config()).get("history.retentionDays");
      return typeof value === "number" ? value : undefined;
    },
  };
}

export function createHistoryStore(deps: HistoryDeps): HistoryStore {
  const dbPath = join(deps.dataDir, "history.db");
  const journalPath = join(deps.dataDir, "history.journal");
  const now = deps.now ?? Date.now;

  async function record(event: HistoryEvent): Promise<string> {
    const { createRedactor } = await import("../../src/lib/redact.ts");
    const redactor = createRedactor({ knownSecrets: await deps.secretValues() });
    const clean = redactor.redactDeep(JSON.parse(JSON.stringify(event)) as HistoryEvent);
    const id = randomBytes(12).toString("base64url");
    appendRecord(journalPath, { v: 1, id, ts: now(), event: clean });
    return id;
  }

  /** Runs `fn` on a database that holds everything recorded so far. */
  async function read<T>(fn: (db: Database) => T): Promise<T> {
    if (journalBytes(journalPath) > COMPACT_BYTES) return write(fn);
    const { loadSqlJs } = await import("./sqlite.ts");
    const { openDatabase, ingest, CorruptDatabase } = await import("./store.ts");
    const SQL = await loadSqlJs("query");
    // Journal first, database second: rows a concurrent compaction moves in between are then
    // in the database, and the journal copy is ignored by id.
    const journal = readAll(journalPath, true);
    if (journal.skipped) deps.debug(`history: skipped ${journal.skipped} torn journal line(s)`);
    let db: Database;
    try {
      const opened = openDatabase(SQL, dbPath);
      db = opened.db;
      if (opened.newlyVerified) await markVerified(opened.newlyVerified);
    } catch (error) {
      if (error instanceof CorruptDatabase) return write(fn);
      throw error;
    }
    try {
      ingest(db, journal.records);
      return fn(db);
    } finally {
      db.close();
    }
  }

  /** Under the lock: rotate the journal, fold it in, run `fn`, save, then drop the folded files. */
  async function write<T>(fn: (db: Database, added: number, expired: number) => T): Promise<T> {
    const { loadSqlJs } = await import("./sqlite.ts");
    const { openDatabase, ingest, deleteWhere, maintainIndex, CorruptDatabase } = await import("./store.ts");
    const SQL = await loadSqlJs();
    // Compactions queue behind each other; under load one can take seconds, so wait longer than the default.
    return withLock(dbPath, async () => {
      rotate(journalPath, deps.pid);
      const journal = readAll(journalPath, false);
      if (journal.skipped) deps.debug(`history: skipped ${journal.skipped} torn journal line(s)`);
      let db: Database;
      try {
        db = openDatabase(SQL, dbPath).db;
      } catch (error) {
        if (!(error instanceof CorruptDatabase)) throw error;
        quarantine(error.message);
        db = openDatabase(SQL, dbPath).db;
      }
      try {
        const added = ingest(db, journal.records);
        const days = await deps.retentionDays();
        const expired = days === undefined ? 0 : deleteWhere(db, "ts < ?", [now() - days * 86_400_000], false);
        const result = fn(db, added, expired);
        if (maintainIndex(db)) deps.debug("history: folded the full-text index into one segment");
        await save(db);
        // Only now are the folded rows safe in history.db; a crash before this line replays
        // them next time, and their ids keep them from being added twice.
        removeFiles(journal.files);
        return result;
      } finally {
        db.close();
      }
    }, { timeoutMs: 30_000 });
  }

  async function save(db: Database): Promise<void> {
    const { fileStamp } = await import("./store.ts");
    try {
      await atomicWrite(dbPath, db.export(), { mode: 0o600 });
      // What was just written came from a database that passed quick_check: no need to check it again.
      const stamp = fileStamp(dbPath);
      if (stamp) await markVerified(stamp);
    } catch (error) {
      throw new IoError("E_HISTORY_SAVE", `Cannot save ${dbPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        hint: "Check free disk space; the journal still holds every recorded event",
        cause: error,
      });
    }
  }

  async function markVerified(stamp: string): Promise<void> {
    try {
      await atomicWrite(`${dbPath}.verified`, stamp + "\n", { mode: 0o600 });
    } catch (error) {
      // Only costs a quick_check next time.
      deps.debug(`history: cannot write ${dbPath}.verified: ${(error as Error).message}`);
    }
  }

  function quarantine(reason: string): void {
    const aside = `${dbPath}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
    renameSync(dbPath, aside);
    fsyncDir(deps.dataDir);
    deps.warn(`history.db is damaged (${reason}); moved it to ${aside} and started a new one. Events not yet compacted are kept.`);
  }

  return {
    dbPath,
    journalPath,
    record,
    async search(options: SearchOptions = {}): Promise<HistoryEntry[]> {
      const { search } = await import("./store.ts");
      return read((db) => search(db, options));
    },
    async get(id) {
      const { getEntry } = await import("./store.ts");
      return read((db) => getEntry(db, id));
    },
    async lastConversation(): Promise<ConversationMessages | undefined> {
      const { lastConversation } = await import("./store.ts");
      const last = await read((db) => lastConversation(db));
      if (!last) return undefined;
      const messages: ConversationMessages["messages"] = [];
      for (const e of last.entries) {
        if (e.input) messages.push({ role: "user", content: e.input });
        if (e.output) messages.push({ role: "assistant", content: e.output });
      }
      return { conversation: last.uid, messages };
    },
    async importEvents(records) {
      const [{ createRedactor }, { ingest }] = await Promise.all([import("../../src/lib/redact.ts"), import("./store.ts")]);
      const redactor = createRedactor({ knownSecrets: await deps.secretValues() });
      const clean = records.map((r) => ({ v: 1 as const, id: r.id, ts: r.ts, event: redactor.redactDeep(JSON.parse(JSON.stringify(r.event)) as HistoryEvent) }));
      return write((db) => ({ added: ingest(db, clean) }));
    },
    async compact() {
      const { count } = await import("./store.ts");
      return write((db, added) => ({ added, total: count(db) }));
    },
    async remove(id) {
      const { deleteWhere } = await import("./store.ts");
      return write((db) => deleteWhere(db, typeof id === "number" ? "id = ?" : "uid = ?", [id], true) > 0);
    },
    async prune(cutoffMs) {
      const { deleteWhere } = await import("./store.ts");
      // Entries the configured retention removed on the way count as pruned too.
      return write((db, _added, expired) => expired + deleteWhere(db, "ts < ?", [cutoffMs], false));
    },
    async count() {
      const { count } = await import("./store.ts");
      return read((db) => count(db));
    },
  };
}
