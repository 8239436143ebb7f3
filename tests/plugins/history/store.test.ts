import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir as tempDirFor, testStore } from "./setup.ts";

const exec = (command: string, extra: Record<string, unknown> = {}) => ({ mode: "exec", server: "web-1", command, exitCode: 0, durationMs: 42, decision: "auto-allow", approver: "tty:alice", ...extra });
const ask = (question: string, answer: string, extra: Record<string, unknown> = {}) => ({ mode: "ask", question, answer, provider: "openai", model: "gpt-4o-mini", promptTokens: 12, completionTokens: 34, durationMs: 900, ...extra });

describe("history store", () => {
  it("search() finds questions, answers and commands by word, newest first, with filters and limit", async () => {
    const { store } = testStore();
    await store.record(exec("systemctl restart nginx"));
    await store.record(ask("why does nginx return 502?", "The upstream socket is missing."));
    await store.record(exec("df -h", { server: "db-1" }));
    await store.record(ask("disk full on db-1", "Clean /var/log"));

    const hits = await store.search({ query: "nginx" });
    expect(hits.map((h) => h.input)).toEqual(["why does nginx return 502?", "systemctl restart nginx"]);
    expect(hits[0]).toMatchObject({ kind: "message", mode: "ask", provider: "openai", model: "gpt-4o-mini", promptTokens: 12, completionTokens: 34, durationMs: 900, output: "The upstream socket is missing." });
    expect(hits[1]).toMatchObject({ kind: "execution", server: "web-1", exitCode: 0, decision: "auto-allow", approver: "tty:alice", durationMs: 42 });

    expect((await store.search({ query: "upstream" })).map((h) => h.mode)).toEqual(["ask"]);
    expect((await store.search({ query: "restart*" })).map((h) => h.input)).toEqual(["systemctl restart nginx"]);
    expect((await store.search({ mode: "exec" })).map((h) => h.input)).toEqual(["df -h", "systemctl restart nginx"]);
    expect((await store.search({ server: "db-1" })).map((h) => h.input)).toEqual(["df -h"]);
    expect(await store.search({ limit: 2 })).toHaveLength(2);
    expect(await store.search({ query: "kubernetes" })).toEqual([]);
    // FTS syntax in user input is neutralised, not an error.
    expect(await store.search({ query: '"nginx (-' })).toHaveLength(2);
  });

  it("search() returns the newest matches in order when a word matches more entries than one IN list holds", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, ingest, search } = await import("../../../plugins/history/store.ts");
    const { db } = openDatabase(await loadSqlJs(), join(tempDirFor(), "history.db"));
    // Timestamps out of insertion order, so ordering by id would be wrong.
    const n = 1300;
    const ts = (i: number) => 1_700_000_000_000 + ((i * 7919) % n) * 1000;
    ingest(db, Array.from({ length: n }, (_, i) => ({ v: 1 as const, id: `r${i}`, ts: ts(i), event: i % 2 ? exec(`df -h common ${i}`, { server: i % 4 === 1 ? "db-1" : "web-1" }) : ask(`common question ${i}`, "common answer") })));
    const all = search(db, { query: "common", limit: 1200 });
    expect(all).toHaveLength(1200);
    const times = all.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[0]).toBe(1_700_000_000_000 + (n - 1) * 1000);
    const onDb = search(db, { query: "common", server: "db-1", limit: 1000 });
    expect(onDb).toHaveLength(n / 4);
    expect(onDb.every((e) => e.server === "db-1" && e.kind === "execution" && e.decision === "auto-allow")).toBe(true);
    expect(search(db, { mode: "ask", limit: 3 }).map((e) => e.output)).toEqual(["common answer", "common answer", "common answer"]);
    db.close();
  });

  it.each([
    ["timestamps out of insertion order", (i: number) => 1_700_000_000_000 + ((i * 7919) % 1000) * 1000],
    // Mostly in order (as recorded), with some entries much older or newer than their neighbours.
    ["a few timestamps far from their neighbours", (i: number) => 1_700_000_000_000 + i * 1000 + (i % 37 === 0 ? -2_000_000 : i % 101 === 0 ? 500_000 : 0)],
  ])("search() gives the same newest matches whether they are found among the newest entries or not (%s)", async (_name, tsOf) => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, ingest, search } = await import("../../../plugins/history/store.ts");
    const { db } = openDatabase(await loadSqlJs(), join(tempDirFor(), "history.db"));
    // 3000 entries, three per timestamp in the first case (ties are ordered by id).
    const n = 3000;
    const records = Array.from({ length: n }, (_, i) => {
      const words = ["common", i % 2 ? "half" : "", i % 10 === 3 ? "tenth" : "", i % 700 === 5 ? "rare" : "", i % 37 === 0 || i % 101 === 0 ? "odd" : ""].join(" ");
      const event: Record<string, unknown> = i % 3 ? exec(`echo ${words} ${i}`, { server: i % 4 ? "web-1" : "db-1" }) : ask(`${words} ${i}?`, "an answer");
      return { v: 1 as const, id: `w${i}`, ts: tsOf(i), event: event as { mode: string } & Record<string, unknown> };
    });
    ingest(db, records);
    // Rowids follow insertion order, so entry i has id i + 1.
    const expected = (word: string, limit: number, mode?: string, server?: string) =>
      records
        .map((r, i) => ({ r, id: i + 1 }))
        .filter(({ r }) => String(r.event.command ?? r.event.question).split(/[ ?]/).includes(word))
        .filter(({ r }) => (!mode || r.event.mode === mode) && (!server || r.event.server === server))
        .sort((a, b) => b.r.ts - a.r.ts || b.id - a.id)
        .slice(0, limit)
        .map(({ id }) => id);
    for (const word of ["common", "half", "tenth", "rare", "odd"]) {
      for (const limit of [1, 2, 5, 20, 40]) {
        expect(search(db, { query: word, limit }).map((e) => e.id), `${word} ${limit}`).toEqual(expected(word, limit));
        expect(search(db, { query: word, limit, mode: "exec" }).map((e) => e.id), `${word} ${limit} exec`).toEqual(expected(word, limit, "exec"));
        expect(search(db, { query: word, limit, server: "db-1" }).map((e) => e.id), `${word} ${limit} db-1`).toEqual(expected(word, limit, undefined, "db-1"));
      }
    }
    db.close();
  });

  it("compaction keeps the full-text index to a few segments, so readers do not pay for many", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { MAX_FTS_SEGMENTS } = await import("../../../plugins/history/store.ts");
    const { store, dir } = testStore();
    const SQL = await loadSqlJs();
    const segments = () => {
      const db = new SQL.Database(readFileSync(join(dir, "history.db")));
      try {
        return Number(db.exec("SELECT count(*) FROM entries_fts_segdir")[0].values[0][0]);
      } finally {
        db.close();
      }
    };
    const seen: number[] = [];
    for (let i = 0; i < 2 * MAX_FTS_SEGMENTS + 2; i++) {
      await store.record(exec(`echo segment-${i} marker`));
      await store.compact();
      seen.push(segments());
    }
    // One segment per compaction until the limit, then folded into one.
    expect(Math.max(...seen)).toBe(MAX_FTS_SEGMENTS - 1);
    expect(seen).toContain(1);
    expect(seen.slice(0, MAX_FTS_SEGMENTS - 1)).toEqual(Array.from({ length: MAX_FTS_SEGMENTS - 1 }, (_, i) => i + 1));
    expect(await store.search({ query: "marker", limit: 100 })).toHaveLength(2 * MAX_FTS_SEGMENTS + 2);
    expect((await store.search({ query: "segment-3" })).map((e) => e.input)).toEqual(["echo segment-3 marker"]);
  });

  it("record() redacts known secret values and secret patterns before anything is written", async () => {
    const t = testStore();
    t.secrets.push("hunter2-vault-value");
    await t.store.record(exec("mysql -p hunter2-vault-value -e 'select 1'"));
    await t.store.record(ask("is AKIAIOSFODNN7EXAMPLE a valid key?", "The token hunter2-vault-value leaked"));
    const journal = readFileSync(t.store.journalPath, "utf8");
    expect(journal).not.toContain("hunter2-vault-value");
    expect(journal).not.toContain("AKIAIOSFODNN7EXAMPLE");
    await t.store.compact();
    const db = readFileSync(t.store.dbPath).toString("latin1");
    expect(db).not.toContain("hunter2-vault-value");
    expect(db).not.toContain("AKIAIOSFODNN7EXAMPLE");
    const hits = await t.store.search({ query: "valid" });
    expect(hits[0].input).toMatch(/is \[REDACTED:[a-z0-9-]+\] a valid key\?/);
  });

  it("keeps its files 0600 in a 0700 directory", async () => {
    const t = testStore(join(testStore().dir, "nested", "data"));
    await t.store.record(exec("uptime"));
    expect(statSync(t.store.journalPath).mode & 0o777).toBe(0o600);
    await t.store.compact();
    expect(statSync(t.store.dbPath).mode & 0o777).toBe(0o600);
    expect(statSync(t.dir).mode & 0o777).toBe(0o700);
  });

  it("compact() folds the journal into history.db and leaves no journal behind", async () => {
    const { store, dir } = testStore();
    for (let i = 0; i < 5; i++) await store.record(exec(`echo ${i}`));
    expect(await store.compact()).toEqual({ added: 5, total: 5 });
    expect(readdirSync(dir).filter((n) => n.startsWith("history.journal"))).toEqual([]);
    expect(await store.compact()).toEqual({ added: 0, total: 5 });
    expect(await store.count()).toBe(5);
  });

  it("a crash between saving history.db and removing the folded journal does not duplicate rows", async () => {
    const { store, dir } = testStore();
    for (let i = 0; i < 3; i++) await store.record(exec(`echo ${i}`));
    const saved = readFileSync(store.journalPath);
    await store.compact();
    // The folded journal is back, as if the process died right after the rename of history.db.
    writeFileSync(join(dir, "history.journal.000000000000001-99.pending"), saved);
    await store.record(exec("echo after"));
    expect(await store.count()).toBe(4);
    expect(await store.compact()).toEqual({ added: 1, total: 4 });
    expect((await store.search({ query: "echo" })).length).toBe(4);
  });

  it("a torn last journal line is skipped, and does not swallow the next record", async () => {
    const { store } = testStore();
    await store.record(exec("echo one"));
    appendFileSync(store.journalPath, '\n{"v":1,"id":"torn0000000000000","ts":1,"event":{"mode":"exec","comm');
    expect((await store.search()).map((e) => e.input)).toEqual(["echo one"]);
    await store.record(exec("echo two"));
    expect((await store.search()).map((e) => e.input)).toEqual(["echo two", "echo one"]);
    await store.compact();
    expect(await store.count()).toBe(2);
  });

  it("a truncated history.db is quarantined with a warning, never overwritten, and new events still land", async () => {
    const t = testStore();
    for (let i = 0; i < 300; i++) await t.store.record(ask(`question number ${i}`, "x".repeat(400)));
    await t.store.compact();
    const size = statSync(t.store.dbPath).size;
    truncateSync(t.store.dbPath, Math.floor(size / 2));
    await t.store.record(exec("echo survivor"));

    const hits = await t.store.search();
    expect(hits.map((h) => h.input)).toEqual(["echo survivor"]);
    expect(t.warnings.join("\n")).toMatch(/history\.db is damaged \(truncated.*moved it to .*history\.db\.corrupt-/);
    const aside = readdirSync(t.dir).filter((n) => n.startsWith("history.db.corrupt-"));
    expect(aside).toHaveLength(1);
    expect(statSync(join(t.dir, aside[0])).size).toBe(Math.floor(size / 2));
    expect(await t.store.count()).toBe(1);
  });

  it("a history.db damaged in place (same size) is caught by quick_check and quarantined", async () => {
    const t = testStore();
    for (let i = 0; i < 200; i++) await t.store.record(ask(`question number ${i}`, "y".repeat(300)));
    await t.store.compact();
    const size = statSync(t.store.dbPath).size;
    const fd = openSync(t.store.dbPath, "r+");
    writeSync(fd, Buffer.alloc(4096 * 3, 0xa5), 0, 4096 * 3, Math.floor(size / 4096 / 2) * 4096);
    closeSync(fd);
    expect(statSync(t.store.dbPath).size).toBe(size);
    await t.store.search();
    expect(t.warnings.join("\n")).toMatch(/history\.db is damaged/);
    expect(readdirSync(t.dir).some((n) => n.startsWith("history.db.corrupt-"))).toBe(true);
  });

  it("a history.db that is not SQLite at all is quarantined, not overwritten", async () => {
    const t = testStore();
    writeFileSync(t.store.dbPath, "this is not a database\n".repeat(100));
    await t.store.record(exec("echo fresh"));
    expect((await t.store.search()).map((h) => h.input)).toEqual(["echo fresh"]);
    const aside = readdirSync(t.dir).find((n) => n.startsWith("history.db.corrupt-"))!;
    expect(readFileSync(join(t.dir, aside), "utf8")).toContain("this is not a database");
  });

  it("remove() deletes one entry, and a replayed journal cannot bring it back", async () => {
    const { store, dir } = testStore();
    await store.record(exec("echo keep"));
    await store.record(exec("echo drop"));
    const journal = readFileSync(store.journalPath);
    const [drop] = await store.search({ query: "drop" });
    expect(await store.remove(drop.id)).toBe(true);
    expect(await store.remove(drop.id)).toBe(false);
    writeFileSync(join(dir, "history.journal.000000000000001-99.pending"), journal);
    expect((await store.search()).map((e) => e.input)).toEqual(["echo keep"]);
    expect(await store.get(drop.uid)).toBeUndefined();
  });

  it("prune() deletes entries older than the cutoff; retentionDays prunes on compaction", async () => {
    const t = testStore();
    const day = 86_400_000;
    const now = t.clock.now;
    t.clock.now = now - 100 * day;
    await t.store.record(exec("echo ancient"));
    t.clock.now = now - 10 * day;
    await t.store.record(exec("echo recent"));
    t.clock.now = now;
    await t.store.record(exec("echo today"));
    expect(await t.store.prune(now - 90 * day)).toBe(1);
    expect((await t.store.search()).map((e) => e.input)).toEqual(["echo today", "echo recent"]);
    t.retention.days = 7;
    await t.store.compact();
    expect((await t.store.search()).map((e) => e.input)).toEqual(["echo today"]);
  });

  it("get() returns the full entry with extra fields; lastConversation() returns its messages in order", async () => {
    const { store } = testStore();
    await store.record(ask("first?", "one", { conversation: "conv-a" }));
    await store.record(ask("other?", "x", { conversation: "conv-b" }));
    await store.record(ask("second?", "two", { conversation: "conv-a", cwd: "/srv/app" }));
    const [entry] = await store.search({ query: "second" });
    expect(await store.get(entry.id)).toMatchObject({ conversation: "conv-a", extra: { cwd: "/srv/app" }, output: "two" });
    expect(await store.lastConversation()).toEqual({
      conversation: "conv-a",
      messages: [
        { role: "user", content: "first?" },
        { role: "assistant", content: "one" },
        { role: "user", content: "second?" },
        { role: "assistant", content: "two" },
      ],
    });
  });

  it("a reader saves the database once the journal passes the compaction threshold", async () => {
    const { store, dir } = testStore();
    const { COMPACT_BYTES } = await import("../../../plugins/history/service.ts");
    const big = "z".repeat(2000);
    let i = 0;
    while (!existsSync(store.journalPath) || statSync(store.journalPath).size <= COMPACT_BYTES) await store.record(ask(`q${i++}`, big));
    expect(existsSync(store.dbPath)).toBe(false);
    expect(await store.count()).toBe(i);
    expect(existsSync(store.dbPath)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith("history.journal"))).toEqual([]);
  });
});
