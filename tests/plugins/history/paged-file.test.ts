import { closeSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PagedFile } from "../../../plugins/history/paged-file.ts";
import { tempDir } from "./setup.ts";

/** Deterministic bytes that differ at every offset (so a shifted read is caught). */
function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function fileWith(bytes: Uint8Array): { path: string; file: PagedFile } {
  const path = join(tempDir(), "data.bin");
  writeFileSync(path, bytes);
  return { path, file: PagedFile.open(openSync(path, "r")) };
}

const exec = (i: number, word = "common") => ({ v: 1 as const, id: `r${i}`, ts: 1_700_000_000_000 + ((i * 7919) % 5000) * 1000, event: { mode: "exec", server: i % 3 ? "web-1" : "db-1", command: `echo ${word} ${i} ${"x".repeat(i % 300)}`, exitCode: i % 7 ? 0 : 1, durationMs: i } });

describe("PagedFile (history.db read on demand)", () => {
  it("reads any range, at odd offsets and across chunks, as the file holds it; zeros past the end", () => {
    const bytes = pattern(3 * 4096 + 123);
    const { file } = fileWith(bytes);
    for (const [a, b] of [[0, 100], [1, 2], [4095, 4097], [123, 9000], [4096, 8192], [0, bytes.length], [12_000, bytes.length]]) {
      expect(file.subarray(a, b)).toEqual(bytes.slice(a, b));
    }
    expect(file.subarray(bytes.length - 3, bytes.length + 5)).toEqual(Uint8Array.from([...bytes.slice(-3), 0, 0, 0, 0, 0]));
    expect(file.subarray(50_000, 50_010)).toEqual(new Uint8Array(10));
    // A fresh copy each time: changing it changes nothing.
    file.subarray(0, 10).fill(1);
    expect(file.subarray(0, 10)).toEqual(bytes.slice(0, 10));
    file.close();
  });

  it("writes over the file and past its end go to memory only, and reads see them", () => {
    const bytes = pattern(2 * 4096 + 500);
    const { path, file } = fileWith(bytes);
    const expected = new Uint8Array(6 * 4096);
    expected.set(bytes);
    const write = (at: number, data: Uint8Array) => {
      file.set(data, at);
      expected.set(data, at);
    };
    write(10, pattern(5, 1)); // inside one chunk
    write(4090, pattern(20, 2)); // across a chunk boundary
    write(2 * 4096 + 490, pattern(30, 3)); // over the end of the file
    write(5 * 4096 + 7, pattern(100, 4)); // past the end, leaving a gap of zeros
    write(0, pattern(4096, 5)); // a whole chunk
    for (const [a, b] of [[0, expected.length], [5, 20], [4000, 4200], [2 * 4096 + 400, 3 * 4096 + 10], [3 * 4096, 5 * 4096 + 200]]) {
      expect(file.subarray(a, b)).toEqual(expected.slice(a, b));
    }
    expect(file.overlayChunks).toBe(4); // chunks 0, 1, 2 and 5
    // The file on disk is untouched.
    expect(readFileSync(path)).toEqual(Buffer.from(bytes));
    file.close();
  });

  it("is adopted by sql.js as the file itself: a search reads a few pages, not the file", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, ingest, search } = await import("../../../plugins/history/store.ts");
    const SQL = await loadSqlJs();
    const path = join(tempDir(), "history.db");
    const seed = openDatabase(SQL, path).db;
    ingest(seed, Array.from({ length: 3000 }, (_, i) => exec(i, i % 500 ? "common" : "rare")));
    writeFileSync(path, seed.export());
    seed.close();

    const opened = openDatabase(SQL, path);
    // If a sql.js upgrade changes how MEMFS stores a file, this fails (the store then falls back
    // to reading the whole file, which is correct but slow).
    expect(opened.file?.adopted).toBe(true);
    const size = statSync(path).size;
    const before = opened.file!.bytesRead;
    const hits = search(opened.db, { query: "rare", limit: 20 });
    expect(hits.map((e) => e.input.split(" ")[2]).sort()).toEqual(["0", "1000", "1500", "2000", "2500", "500"]);
    expect(opened.file!.bytesRead - before).toBeLessThan(size / 4);
    opened.db.close();
    // close() closed the descriptor too.
    expect(() => opened.file!.subarray(0, 1)).toThrow(/after close/);
  });

  it("journal fold, deletes, index folding and export() give the same file as a database loaded whole", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, ingest, search, deleteWhere, maintainIndex } = await import("../../../plugins/history/store.ts");
    const SQL = await loadSqlJs();
    const path = join(tempDir(), "history.db");
    const seed = openDatabase(SQL, path).db;
    for (let k = 0; k < 10; k++) ingest(seed, Array.from({ length: 300 }, (_, i) => exec(k * 300 + i)));
    writeFileSync(path, seed.export());
    seed.close();
    const original = readFileSync(path);

    const work = (db: import("sql.js").Database) => {
      ingest(db, Array.from({ length: 2500 }, (_, i) => exec(3000 + i, "grown")));
      deleteWhere(db, "id % 5 = 0", [], true);
      maintainIndex(db, 1);
      return { exported: db.export(), hits: search(db, { query: "grown", limit: 50 }).map((e) => e.uid) };
    };
    const lazy = openDatabase(SQL, path);
    expect(lazy.file?.adopted).toBe(true);
    const a = work(lazy.db);
    expect(a.exported.length).toBeGreaterThan(original.length); // it grew past the end of the file
    // A copy: sql.js would write into a Buffer's memory (Buffer#slice is a view).
    const b = work(new SQL.Database(new Uint8Array(original)));
    expect(Buffer.from(a.exported).equals(Buffer.from(b.exported))).toBe(true);
    expect(a.hits).toEqual(b.hits);
    expect(a.hits).toHaveLength(50);
    // The database still works after export(), and the file on disk was never written.
    expect(search(lazy.db, { query: "common", limit: 3 })).toHaveLength(3);
    lazy.db.close();
    expect(readFileSync(path).equals(original)).toBe(true);
  });

  it("a reader keeps the version it opened when a compaction replaces history.db", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, ingest, search, count } = await import("../../../plugins/history/store.ts");
    const SQL = await loadSqlJs();
    const dir = tempDir();
    const path = join(dir, "history.db");
    const seed = openDatabase(SQL, path).db;
    ingest(seed, Array.from({ length: 500 }, (_, i) => exec(i)));
    writeFileSync(path, seed.export());
    ingest(seed, Array.from({ length: 500 }, (_, i) => exec(500 + i, "later")));
    const next = seed.export();
    seed.close();

    const reader = openDatabase(SQL, path);
    writeFileSync(join(dir, "next.db"), next);
    renameSync(join(dir, "next.db"), path);
    expect(count(reader.db)).toBe(500);
    expect(search(reader.db, { query: "later" })).toEqual([]);
    reader.db.close();
    const fresh = openDatabase(SQL, path);
    expect(count(fresh.db)).toBe(1000);
    fresh.db.close();
  });

  it("a damaged or foreign file is rejected and its descriptor closed", async () => {
    const { loadSqlJs } = await import("../../../plugins/history/sqlite.ts");
    const { openDatabase, CorruptDatabase } = await import("../../../plugins/history/store.ts");
    const SQL = await loadSqlJs();
    const dir = tempDir();
    const fdsBefore = openFds();
    for (const [name, bytes] of [["short.db", pattern(50)], ["foreign.db", pattern(8192)], ["zeros.db", new Uint8Array(0)]] as const) {
      writeFileSync(join(dir, name), bytes);
      expect(() => openDatabase(SQL, join(dir, name))).toThrow(CorruptDatabase);
    }
    // A valid SQLite file that is not an opsterm history: fails after opening.
    const other = new SQL.Database();
    other.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    writeFileSync(join(dir, "other.db"), other.export());
    other.close();
    expect(() => openDatabase(SQL, join(dir, "other.db"))).toThrow(CorruptDatabase);
    expect(openFds()).toBe(fdsBefore);
  });
});

function openFds(): number {
  // The lowest free descriptor: it goes up when one leaks.
  const fd = openSync("/dev/null", "r");
  closeSync(fd);
  return fd;
}
