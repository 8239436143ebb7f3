/**
 * The append-only journal in front of history.db: one JSON line per event, written with
 * O_APPEND, so recording an event costs the same with 10 rows stored or 10 million.
 *
 * No fsync per event: a write(2) that returned survives the process being killed (it is in the
 * page cache), and only a power loss could drop the newest lines. The audit log, fsynced before
 * and after every action, is the record that must survive that; history is its searchable
 * mirror, and leaving out this fsync takes ~0.5 ms off every action (bench:agent, bench:mcp).
 *
 * Compaction rotates the journal (rename) before reading it. An appender that finds, after its
 * write, that the path no longer names the file it wrote to appends again: its record may sit
 * in a file that was already read. Event ids make the duplicate harmless.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IoError, isOpstermError } from "../../src/kernel/index.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { ensureDir, fsyncDir } from "../../src/lib/atomic-write.ts";

/** One journal line. */
export interface JournalRecord {
  v: 1;
  /** Event id: the database ignores a record whose id it already has. */
  id: string;
  /** Milliseconds since the epoch. */
  ts: number;
  event: Record<string, unknown> & { mode: string };
}

const ROTATED = /\.(\d{15})-(\d+)\.pending$/;

/** Appends one record (safe against the process being killed, see above). Returns the journal's size afterwards. */
export function appendRecord(path: string, record: JournalRecord): number {
  ensureDir(dirname(path));
  // The leading newline ends a line torn by a killed writer, so it cannot swallow this record.
  const data = Buffer.from(`\n${JSON.stringify(record)}\n`);
  for (let attempt = 0; attempt < 8; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    } catch (error) {
      throw ioError(path, error);
    }
    try {
      const written = writeSync(fd, data);
      if (written !== data.length) throw new Error(`short write (${written} of ${data.length} bytes)`);
      const mine = fstatSync(fd);
      if (sameFile(mine, path)) return mine.size;
    } catch (error) {
      throw ioError(path, error);
    } finally {
      closeSync(fd);
    }
  }
  throw new IoError("E_HISTORY_JOURNAL", `Cannot append to ${path}: it keeps being rotated`, { hint: "Try again" });
}

function sameFile(stat: { ino: number; dev: number }, path: string): boolean {
  try {
    const now = statSync(path);
    return now.ino === stat.ino && now.dev === stat.dev;
  } catch {
    return false;
  }
}

function ioError(path: string, error: unknown): IoError {
  const code = (error as NodeJS.ErrnoException).code;
  return new IoError("E_HISTORY_JOURNAL", `Cannot write the history journal ${path}: ${code ?? (error as Error).message}`, {
    hint: "Check free disk space and the permissions of the data directory",
    cause: error,
  });
}

/** Journal files that a compaction renamed but did not finish with, oldest first. */
function pendingFiles(path: string): string[] {
  const dir = dirname(path);
  const prefix = basename(path) + ".";
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && ROTATED.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Renames the live journal aside (caller holds the lock). Returns the new name, if there was one. */
export function rotate(path: string, pid: number): string | undefined {
  const target = `${path}.${String(Date.now()).padStart(15, "0")}-${pid}.pending`;
  try {
    renameSync(path, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError(path, error);
  }
  fsyncDir(dirname(path));
  return target;
}

export interface ReadResult {
  records: JournalRecord[];
  /** Lines that were not a whole record (a writer killed mid-line). */
  skipped: number;
}

/**
 * Reads the pending files and (with `live`) then the live journal, in the order they were written.
 * `files` lists the pending files actually read, for removal once their rows are saved.
 */
export function readAll(path: string, live: boolean): ReadResult & { files: string[] } {
  const files = pendingFiles(path);
  const result: ReadResult = { records: [], skipped: 0 };
  const read: string[] = [];
  for (const file of live ? [...files, path] : files) {
    let text: string | undefined;
    try {
      text = readBoundedText(file, { maxBytes: READ_LIMITS.journal, what: "history journals" });
    } catch (error) {
      throw isOpstermError(error) ? error : ioError(file, error);
    }
    // A pending file another process just finished with: its rows are in the database now.
    if (text === undefined) continue;
    if (file !== path) read.push(file);
    parseInto(text, result);
  }
  return { ...result, files: read };
}

function parseInto(text: string, result: ReadResult): void {
  for (const line of text.split("\n")) {
    if (line.length === 0) continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      result.skipped++;
      continue;
    }
    if (!isRecord(record)) {
      result.skipped++;
      continue;
    }
    result.records.push(record);
  }
}

function isRecord(r: JournalRecord): boolean {
  return (
    typeof r === "object" && r !== null && typeof r.id === "string" && typeof r.ts === "number" &&
    typeof r.event === "object" && r.event !== null && typeof r.event.mode === "string"
  );
}

/** Size of the live journal plus pending files, in bytes. */
export function journalBytes(path: string): number {
  let total = 0;
  for (const file of [...pendingFiles(path), path]) {
    try {
      total += statSync(file).size;
    } catch {
      // gone: nothing to count
    }
  }
  return total;
}

export function removeFiles(files: string[]): void {
  for (const file of files) {
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(file, error);
    }
  }
  if (files.length) fsyncDir(dirname(files[0]));
}
