/**
 * audit.jsonl: append under a lock with fsync, keep the head anchor (head.json) in step, and
 * verify the whole chain. Fail closed: any doubt about durability or integrity throws IoError.
 */
import { closeSync, constants, existsSync, fchmodSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { IoError } from "../../src/kernel/errors.ts";
import { atomicWrite, ensureDir, fsyncDir, securePrivateDir, writeAll } from "../../src/lib/atomic-write.ts";
import { READ_LIMITS, readBounded } from "../../src/lib/bounded-read.ts";
import { withLock } from "../../src/lib/lock.ts";
import { canonical, checkLine, GENESIS, hashOf, lineOf, splitLines } from "./chain.ts";
import type { AuditInput, AuditRecord } from "./types.ts";

export interface AuditFiles {
  dir: string;
  log: string;
  head: string;
  snapshots: string;
}

export function auditFiles(dataDir: string): AuditFiles {
  const dir = join(dataDir, "audit");
  return { dir, log: join(dir, "audit.jsonl"), head: join(dir, "head.json"), snapshots: join(dir, "snapshots") };
}

/** The head anchor, kept outside the log: where the log must end. */
export interface HeadAnchor {
  version: 1;
  seq: number;
  hash: string;
  /** Byte length of the log after record `seq`. */
  bytes: number;
  /** Byte offset where record `seq` starts. */
  lastOffset: number;
}

interface Tail {
  seq: number;
  hash: string;
  bytes: number;
  lastOffset: number;
  /** head.json exists (false only for a chain that has neither records nor an anchor yet). */
  anchored: boolean;
}

const VERIFY_HINT = 'Run "opsterm audit verify" to find the first bad record; see "opsterm help audit" "Recovering"';

/** The data dir and audit/ are private: created 0700, loose modes tightened, another owner refused. */
export function securePrivateDirs(files: AuditFiles): void {
  securePrivateDir(dirname(files.dir));
  securePrivateDir(files.dir);
}

/** The whole log, bounded; a device, FIFO or a link to one is refused (E_FILE_TYPE), never read. */
function readLogBytes(files: AuditFiles): Buffer {
  return readBounded(files.log, { maxBytes: READ_LIMITS.auditLog, what: "the audit log" }) ?? Buffer.alloc(0);
}

export function readHead(files: AuditFiles): HeadAnchor | undefined {
  const bytes = readBounded(files.head, { maxBytes: READ_LIMITS.json, what: "head.json" });
  if (!bytes) return undefined;
  const text = bytes.toString("utf8");
  const h = JSON.parse(text) as HeadAnchor;
  if (
    typeof h !== "object" || h === null || h.version !== 1 || !Number.isSafeInteger(h.seq) || h.seq < 0 || typeof h.hash !== "string" ||
    !Number.isSafeInteger(h.bytes) || !Number.isSafeInteger(h.lastOffset)
  ) {
    throw new Error("head.json has an unexpected shape");
  }
  return h;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

function readRange(path: string, start: number, end: number): Buffer {
  const buf = Buffer.alloc(end - start);
  const fd = openSync(path, "r");
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, start + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function refuse(files: AuditFiles, why: string): IoError {
  return new IoError("E_AUDIT_INTEGRITY", `Audit log ${files.log} does not match its head anchor: ${why}; nothing was run`, { hint: VERIFY_HINT });
}

/**
 * Where the next record goes. Checks only the tail against the anchor (O(1) in the log size):
 * the last anchored record must still be there, byte for byte. Complete, correctly chained
 * records after the anchor (a crash between the log fsync and the anchor update) are adopted;
 * a torn final line after the anchor (a crash mid-write, never acknowledged) is cut off.
 */
function readTail(files: AuditFiles): Tail {
  let head: HeadAnchor | undefined;
  try {
    head = readHead(files);
  } catch (error) {
    throw refuse(files, `head.json is unreadable (${(error as Error).message})`);
  }
  const size = sizeOf(files.log);
  if (!head) {
    if (size === 0) return { seq: 0, hash: GENESIS, bytes: 0, lastOffset: 0, anchored: false };
    throw refuse(files, "the log has records but head.json is missing");
  }
  if (size < head.bytes) throw refuse(files, `the log is ${size} bytes, the anchor says ${head.bytes} (records were removed from the end)`);
  let tail: Tail = { seq: head.seq, hash: head.hash, bytes: head.bytes, lastOffset: head.lastOffset, anchored: true };
  if (head.seq > 0) {
    const last = readRange(files.log, head.lastOffset, head.bytes);
    const prev = last.length > 0 ? extractPrevHash(last) : undefined;
    const ok = last.length > 1 && last[last.length - 1] === 0x0a && prev !== undefined && checkLine(last.subarray(0, -1), head.seq, prev);
    if (!ok || !ok.ok || ok.record.hash !== head.hash) throw refuse(files, `record ${head.seq} is not where the anchor says or was changed`);
  }
  if (size > head.bytes) {
    const extra = readRange(files.log, head.bytes, size);
    for (const line of splitLines(extra, head.bytes)) {
      if (!line.terminated) {
        // Never acknowledged: append only returns after the newline is fsynced.
        truncateTo(files.log, line.start);
        break;
      }
      const check = checkLine(extra.subarray(line.start - head.bytes, line.end - head.bytes), tail.seq + 1, tail.hash);
      if (!check.ok) throw refuse(files, `unexpected data after record ${tail.seq}: record ${tail.seq + 1} ${check.problem}`);
      tail = { seq: check.record.seq, hash: check.record.hash, bytes: line.end + 1, lastOffset: line.start, anchored: true };
    }
  }
  return tail;
}

function extractPrevHash(line: Buffer): string | undefined {
  const m = /"prevHash":"([0-9a-f]{64})"/.exec(line.toString("utf8"));
  return m?.[1];
}

function truncateTo(path: string, size: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}


export interface AppendOptions {
  now?: () => Date;
  /** Lock wait before giving up (exit 75). */
  lockTimeoutMs?: number;
}

/** Appends one record and returns it once it is durable (see appendRecords). */
export async function appendRecord(files: AuditFiles, input: AuditInput, options: AppendOptions = {}): Promise<AuditRecord> {
  return (await appendRecords(files, [input], options))[0];
}

/**
 * Appends records in order and returns them once they are all durable: lock → check tail against
 * anchor → one write + fsync → anchor. Several records share one lock, write and fsync (group
 * commit for a fan-out's intents). Any failure throws IoError E_AUDIT_WRITE (or
 * E_AUDIT_INTEGRITY) for all of them and leaves the log as it was.
 */
export async function appendRecords(files: AuditFiles, inputs: AuditInput[], options: AppendOptions = {}): Promise<AuditRecord[]> {
  if (inputs.length === 0) return [];
  const fail = (error: unknown): IoError => {
    if (error instanceof IoError) return error;
    const reason = reasonOf(error);
    return new IoError("E_AUDIT_WRITE", `Audit log ${files.log} could not be written: ${reason}; nothing was run`, {
      cause: error,
      hint: "Free disk space or fix the permissions of the audit directory (it must be writable by you), then retry",
    });
  };
  try {
    securePrivateDirs(files);
    return await withLock(
      files.log,
      async () => {
        const tail = readTail(files);
        const ts = (options.now?.() ?? new Date()).toISOString();
        const records: AuditRecord[] = [];
        const lines: string[] = [];
        let prev = { seq: tail.seq, hash: tail.hash };
        for (const input of inputs) {
          const record = {
            seq: prev.seq + 1,
            ts,
            runId: input.runId,
            actor: input.actor,
            server: input.server,
            action: input.action,
            args: input.args,
            decision: input.decision,
            rule: input.rule,
            approver: input.approver,
            phase: input.phase,
            exitCode: input.exitCode,
            durationMs: input.durationMs,
            snapshot: input.snapshot,
            prevHash: prev.hash,
          };
          const canon = canonical(record);
          const hash = hashOf(prev.hash, canon);
          lines.push(lineOf(canon, hash) + "\n");
          records.push({ ...record, hash } as AuditRecord);
          prev = { seq: record.seq, hash };
        }
        const bytes = Buffer.from(lines.join(""), "utf8");
        // The log is empty or absent here (readTail checked the size): its directory entry may be new.
        const created = tail.bytes === 0;
        // A new chain gets its anchor (seq 0) before its first record: killed between that record
        // and the anchor below, the next append finds an anchor to adopt the record from, rather
        // than records without a head.json, which it must refuse (a deleted head hides truncation).
        if (!tail.anchored) {
          await atomicWrite(files.head, JSON.stringify({ version: 1, seq: 0, hash: GENESIS, bytes: 0, lastOffset: 0 } satisfies HeadAnchor) + "\n", { mode: 0o600 });
        }
        const fd = openSync(files.log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
        try {
          // Explicit mode: a umask of 000 must not widen it. Only chmod a regular file we own.
          if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
          try {
            writeAll(fd, bytes);
            fsyncSync(fd);
          } catch (error) {
            // Do not leave half a line behind (disk full writes part of it).
            try {
              ftruncateSync(fd, tail.bytes);
              fsyncSync(fd);
            } catch {
              // The torn line is cut off by the next append (it was never acknowledged).
            }
            throw error;
          }
        } finally {
          closeSync(fd);
        }
        if (created) fsyncDir(files.dir);
        const lastLine = Buffer.byteLength(lines[lines.length - 1], "utf8");
        const anchor: HeadAnchor = { version: 1, seq: prev.seq, hash: prev.hash, bytes: tail.bytes + bytes.length, lastOffset: tail.bytes + bytes.length - lastLine };
        try {
          // No directory fsync: if a crash loses this rename, the previous anchor (itself complete)
          // comes back, and readTail adopts the fsynced records after it. One fsync less per record.
          await atomicWrite(files.head, JSON.stringify(anchor) + "\n", { mode: 0o600, syncDir: false });
        } catch (error) {
          // Without the anchor the record would not count: take it back, and fail closed.
          try {
            truncateTo(files.log, tail.bytes);
          } catch {
            // Left in place, it is adopted by the next append (complete and chained).
          }
          throw error;
        }
        return records;
      },
      { timeoutMs: options.lockTimeoutMs ?? 30_000 },
    );
  } catch (error) {
    throw fail(error);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  EEXIST: "a file is in the way of the audit directory",
  ENOTDIR: "a file is in the way of the audit directory",
  EISDIR: "a directory is in the way of an audit file",
  EIO: "an I/O error occurred",
};

/** A short reason with the errno code kept for searching, e.g. "the disk is full (ENOSPC)". */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  // errno codes (ENOSPC…); opsterm's own codes (E_LOCK_TIMEOUT) come with a message that says more.
  if (typeof code === "string" && !code.startsWith("E_")) return ERRNO_TEXT[code] ? `${ERRNO_TEXT[code]} (${code})` : code;
  return error instanceof Error ? error.message : String(error);
}

export interface VerifyReport {
  ok: boolean;
  file: string;
  records: number;
  /** The first record that is wrong or missing. */
  firstBadSeq?: number;
  problem?: string;
  head?: { seq: number; hash: string };
  warnings: string[];
}

/** Verifies every line, the chain, and the log against its head anchor. */
export function verifyLog(files: AuditFiles): VerifyReport & { hashes: string[] } {
  const buf = readLogBytes(files);
  let head: HeadAnchor | undefined;
  let headProblem: string | undefined;
  try {
    head = readHead(files);
  } catch (error) {
    headProblem = `head.json is unreadable (${(error as Error).message})`;
  }
  return verifyBuffer(buf, head, { file: files.log, headProblem });
}

/** The pure part of verifyLog(): the log's bytes against an anchor. */
export function verifyBuffer(buf: Buffer, head: HeadAnchor | undefined, options: { file?: string; headProblem?: string } = {}): VerifyReport & { hashes: string[] } {
  const warnings: string[] = [];
  const hashes: string[] = [];
  const headProblem = options.headProblem;
  const base = { file: options.file ?? "", warnings, hashes, head: head && { seq: head.seq, hash: head.hash } };
  let prev = GENESIS;
  let count = 0;
  for (const line of splitLines(buf)) {
    const seq = count + 1;
    const check = checkLine(buf.subarray(line.start, line.end), seq, prev);
    if (!check.ok) return { ...base, ok: false, records: count, firstBadSeq: seq, problem: `record ${seq} (line ${seq}) ${check.problem}` };
    if (!line.terminated) {
      return { ...base, ok: false, records: count, firstBadSeq: seq, problem: `record ${seq} has no trailing newline (torn write or truncated file)` };
    }
    prev = check.record.hash;
    hashes.push(prev);
    count++;
  }
  if (headProblem) return { ...base, ok: false, records: count, problem: headProblem };
  if (!head) {
    if (count === 0) return { ...base, ok: true, records: 0 };
    return { ...base, ok: false, records: count, problem: "head.json is missing: tail truncation cannot be ruled out" };
  }
  if (head.seq > count) {
    return {
      ...base,
      ok: false,
      records: count,
      firstBadSeq: count + 1,
      problem: `the log ends at record ${count} but the head anchor says ${head.seq}: records ${count + 1}..${head.seq} are missing (tail truncated)`,
    };
  }
  if (head.seq > 0 && hashes[head.seq - 1] !== head.hash) {
    return { ...base, ok: false, records: count, firstBadSeq: head.seq, problem: `record ${head.seq} does not have the hash the head anchor recorded` };
  }
  if (head.seq === 0 && head.hash !== GENESIS) return { ...base, ok: false, records: count, firstBadSeq: 1, problem: "the head anchor is inconsistent" };
  if (head.seq < count) {
    warnings.push(`the head anchor lags by ${count - head.seq} record(s) (a crash between append and anchor update); the next append adopts them`);
  } else if (head.bytes !== buf.length) {
    return { ...base, ok: false, records: count, firstBadSeq: count, problem: `the log is ${buf.length} bytes, the head anchor says ${head.bytes}` };
  }
  return { ...base, ok: true, records: count };
}

/** Parses the log for display; stops at the first line that does not parse (reported to `onBadLine`). */
export function readRecords(files: AuditFiles, onBadLine?: (line: number) => void): AuditRecord[] {
  const buf = readLogBytes(files);
  const out: AuditRecord[] = [];
  for (const line of splitLines(buf)) {
    try {
      const rec = JSON.parse(buf.subarray(line.start, line.end).toString("utf8")) as AuditRecord;
      if (typeof rec !== "object" || rec === null || Array.isArray(rec)) throw new Error("not an object");
      out.push(rec);
    } catch {
      onBadLine?.(out.length + 1);
      break;
    }
  }
  return out;
}

/**
 * `audit restart`: under the lock, `announce` the end of the current chain (its last record, as
 * far as the log still has one), then move audit.jsonl and head.json aside as evidence
 * (`.broken-<time>`). The next append starts a new chain at seq 1.
 */
export async function restartChain(files: AuditFiles, announce: (previous: { seq: number; hash: string }) => Promise<void>): Promise<{ archived: string[]; previous: { seq: number; hash: string } }> {
  securePrivateDirs(files);
  return withLock(
    files.log,
    async () => {
      const records = readRecords(files);
      const last = records[records.length - 1];
      const previous = last && typeof last.hash === "string" && Number.isSafeInteger(last.seq) ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS };
      await announce(previous);
      const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
      const archived: string[] = [];
      for (const path of [files.log, files.head]) {
        if (sizeOf(path) === 0 && !existsSync(path)) continue;
        const to = `${path}.broken-${stamp}`;
        renameSync(path, to);
        archived.push(to);
      }
      fsyncDir(files.dir);
      return { archived, previous };
    },
    { timeoutMs: 30_000 },
  );
}
