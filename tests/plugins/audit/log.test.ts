import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { IoError } from "../../../src/kernel/errors.ts";
import { selfIdentity } from "../../../src/lib/lock.ts";
import { appendRecord, auditFiles, readHead, verifyBuffer, verifyLog, type AuditFiles } from "../../../plugins/audit/log.ts";
import type { AuditInput } from "../../../plugins/audit/types.ts";

function home(): string {
  return mkdtempSync(join(tmpdir(), "opsterm-audit-"));
}

const INPUTS: AuditInput[] = [
  { runId: "r1", actor: "alice", server: "web-1", action: "exec", args: { command: "uptime" }, decision: "auto-allow", rule: "allow.uptime", phase: "intent" },
  { runId: "r1", actor: "alice", server: "web-1", action: "exec", args: { command: "uptime" }, decision: "auto-allow", rule: "allow.uptime", phase: "result", exitCode: 0, durationMs: 12 },
  { runId: "r2", actor: "alice (ai)", server: "db-1", action: "write", args: { path: "/etc/häfen.conf", bytes: 3 }, decision: "approval-required", approver: "tty:alice", phase: "intent", snapshot: { path: "db-1/x", before: "abc1234" } },
  { runId: "r2", actor: "alice (ai)", server: "db-1", action: "write", args: { path: "/etc/häfen.conf" }, phase: "result", exitCode: null, durationMs: 3.5 },
];

async function smallLog(): Promise<AuditFiles> {
  const files = auditFiles(home());
  for (const input of INPUTS) await appendRecord(files, input);
  return files;
}

/** Start offset of each record's line, plus the file length. */
function lineStarts(buf: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a) starts.push(i + 1);
  return starts;
}

describe("appendRecord()", () => {
  it("appendRecord() writes canonical, hash-chained lines and a head anchor", async () => {
    const files = await smallLog();
    const lines = readFileSync(files.log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const records = lines.map((l) => JSON.parse(l));
    expect(Object.keys(records[1])).toEqual(["seq", "ts", "runId", "actor", "server", "action", "args", "decision", "rule", "phase", "exitCode", "durationMs", "prevHash", "hash"]);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records[0].prevHash).toBe("0".repeat(64));
    for (let i = 1; i < 4; i++) expect(records[i].prevHash).toBe(records[i - 1].hash);
    expect(records[3].exitCode).toBeNull();
    const head = readHead(files)!;
    expect(head).toMatchObject({ seq: 4, hash: records[3].hash, bytes: statSync(files.log).size });
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 4 });
  });

  it("appendRecord() creates files 0600 and dirs 0700", async () => {
    const files = await smallLog();
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(statSync(files.log).mode & 0o777).toBe(0o600);
    expect(statSync(files.head).mode & 0o777).toBe(0o600);
  });

  it("appendRecord() fails closed with E_AUDIT_WRITE (exit 74) when the log is /dev/full", async () => {
    const files = auditFiles(home());
    mkdirSync(files.dir, { recursive: true });
    symlinkSync("/dev/full", files.log);
    const error = await appendRecord(files, INPUTS[0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IoError);
    expect(error).toMatchObject({ code: "E_AUDIT_WRITE", exitCode: 74 });
    expect((error as Error).message).toMatch(/could not be written: the disk is full \(ENOSPC\); nothing was run/);
    // The new chain's seq-0 anchor is written before its first record; nothing was recorded.
    expect(readHead(files)).toMatchObject({ seq: 0, hash: "0".repeat(64), bytes: 0 });
  });

  it("appendRecord() fails closed when the audit dir cannot be created", async () => {
    const root = home();
    writeFileSync(join(root, "audit"), "not a dir");
    const error = await appendRecord(auditFiles(root), INPUTS[0]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_AUDIT_WRITE", exitCode: 74, message: expect.stringMatching(/a file is in the way of the audit directory \(EEXIST\); nothing was run/) });
  });

  it("appendRecord() fails closed (74) and says why when another process holds the lock too long", async () => {
    const files = await smallLog();
    const before = readFileSync(files.log);
    // A live holder: this very process (a lock is never taken from a live one, however old).
    writeFileSync(`${files.log}.lock`, JSON.stringify({ ...selfIdentity(), nonce: "0123456789abcdef", since: 0 }));
    const error = await appendRecord(files, INPUTS[0], { lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_AUDIT_WRITE", exitCode: 74, message: expect.stringMatching(new RegExp(`could not be written: Gave up after \\d+ s waiting for .*audit\\.jsonl\\.lock: held by opsterm process ${process.pid} .*; nothing was run`)) });
    expect(readFileSync(files.log).equals(before)).toBe(true);
    execFileSync("rm", [`${files.log}.lock`]);
    expect((await appendRecord(files, INPUTS[0])).seq).toBe(5);
  });

  it("appendRecord() fails closed and leaves the log unchanged when the head anchor cannot be written", async () => {
    const files = await smallLog();
    const before = readFileSync(files.log);
    // A directory where head.json's temp file must go: make head.json itself a directory.
    const headCopy = readFileSync(files.head);
    execFileSync("rm", [files.head]);
    mkdirSync(files.head);
    const error = await appendRecord(files, INPUTS[0]).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 74 });
    expect(readFileSync(files.log).equals(before)).toBe(true);
    execFileSync("rmdir", [files.head]);
    writeFileSync(files.head, headCopy);
    expect(verifyLog(files).ok).toBe(true);
  });

  it.each([
    ["the last record is removed", (buf: Buffer, s: number[]) => buf.subarray(0, s[3])],
    ["the log is emptied", () => Buffer.alloc(0)],
    ["the last record is edited", (buf: Buffer) => Buffer.from(buf.toString().replace('"db-1","action":"write","args":{"path":"/etc/häfen.conf"},"phase":"result"', '"db-2","action":"write","args":{"path":"/etc/häfen.conf"},"phase":"result"'))],
    ["garbage is appended", (buf: Buffer) => Buffer.concat([buf, Buffer.from('{"seq":5}\n')])],
  ])("appendRecord() refuses with E_AUDIT_INTEGRITY when %s", async (_name, mutate) => {
    const files = await smallLog();
    const buf = readFileSync(files.log);
    const changed = mutate(buf, lineStarts(buf));
    expect(changed.equals(buf)).toBe(false);
    writeFileSync(files.log, changed);
    const error = await appendRecord(files, INPUTS[0]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_AUDIT_INTEGRITY", exitCode: 74 });
    expect((error as IoError).hint).toMatch(/opsterm audit verify/);
    expect(readFileSync(files.log).equals(changed)).toBe(true);
  });

  it("appendRecord() refuses when head.json is missing but the log has records", async () => {
    const files = await smallLog();
    execFileSync("rm", [files.head]);
    await expect(appendRecord(files, INPUTS[0])).rejects.toMatchObject({ code: "E_AUDIT_INTEGRITY" });
  });

  it("appendRecord() adopts a complete record written after the anchor (crash before the anchor update)", async () => {
    const files = await smallLog();
    const oldHead = readFileSync(files.head);
    await appendRecord(files, INPUTS[0]);
    writeFileSync(files.head, oldHead);
    const report = verifyLog(files);
    expect(report.ok).toBe(true);
    expect(report.warnings.join()).toMatch(/lags by 1/);
    const rec = await appendRecord(files, INPUTS[1]);
    expect(rec.seq).toBe(6);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 6, warnings: [] });
  });

  it("a new chain is anchored at seq 0 before its first record: killed right after that record, the next append adopts it", async () => {
    const files = auditFiles(home());
    const genesisHead = async () => {
      // What a process killed between the first record and its anchor leaves behind.
      await appendRecord(files, INPUTS[0]);
      writeFileSync(files.head, JSON.stringify({ version: 1, seq: 0, hash: "0".repeat(64), bytes: 0, lastOffset: 0 }) + "\n");
    };
    await genesisHead();
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 1 });
    const rec = await appendRecord(files, INPUTS[1]);
    expect(rec.seq).toBe(2);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 2, warnings: [] });
  });

  it("appendRecord() cuts off a torn final line that was never acknowledged", async () => {
    const files = await smallLog();
    writeFileSync(files.log, Buffer.concat([readFileSync(files.log), Buffer.from('{"seq":5,"ts":"20')]));
    expect(verifyLog(files)).toMatchObject({ ok: false, firstBadSeq: 5 });
    const rec = await appendRecord(files, INPUTS[0]);
    expect(rec.seq).toBe(5);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 5 });
  });
});

describe("verifyLog()", () => {
  it("verifyLog() reports an empty or missing log as intact", () => {
    expect(verifyLog(auditFiles(home()))).toMatchObject({ ok: true, records: 0 });
  });

  it("verifyLog() catches every single-byte change of a small log and names the record it is in", async () => {
    const files = await smallLog();
    const original = readFileSync(files.log);
    const head = readHead(files);
    const starts = lineStarts(original);
    const recordAt = (i: number) => starts.findIndex((s, k) => i >= s && i < starts[k + 1]) + 1;
    const fail = (i: number, mask: number, report: object) => new Error(`flip 0x${mask.toString(16)} at byte ${i} (record ${recordAt(i)}): ${JSON.stringify(report)}`);
    let checked = 0;
    for (let i = 0; i < original.length; i++) {
      // Every single-bit flip and the full inversion, in memory (the same code verifyLog runs)…
      for (const mask of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff]) {
        const buf = Buffer.from(original);
        buf[i] ^= mask;
        const report = verifyBuffer(buf, head);
        if (report.ok || report.firstBadSeq !== recordAt(i)) throw fail(i, mask, report);
        checked++;
      }
      // …and every position once more through the file on disk (what `audit verify` reads).
      const buf = Buffer.from(original);
      buf[i] ^= 0xff;
      writeFileSync(files.log, buf);
      const report = verifyLog(files);
      if (report.ok || report.firstBadSeq !== recordAt(i)) throw fail(i, 0xff, report);
    }
    expect(checked).toBe(original.length * 9);
    writeFileSync(files.log, original);
    expect(verifyLog(files).ok).toBe(true);
  });

  it.each([
    ["a record is deleted", (lines: string[]) => [lines[0], lines[2], lines[3]], 2],
    ["two records are swapped", (lines: string[]) => [lines[0], lines[2], lines[1], lines[3]], 2],
    ["a record is inserted (replayed)", (lines: string[]) => [lines[0], lines[1], lines[1], lines[2], lines[3]], 3],
    ["the tail is truncated", (lines: string[]) => lines.slice(0, 3), 4],
    ["everything is truncated", () => [], 1],
    ["a field is edited", (lines: string[]) => [lines[0], lines[1].replace('"exitCode":0', '"exitCode":1'), lines[2], lines[3]], 2],
    ["a field is edited and its hash recomputed by someone without the chain", (lines: string[]) => [lines[0], lines[1].replace(/"hash":"[0-9a-f]{64}"/, `"hash":"${"a".repeat(64)}"`), lines[2], lines[3]], 2],
    ["whitespace is added", (lines: string[]) => [lines[0].replace(",", ", "), lines[1], lines[2], lines[3]], 1],
    ["an unknown field is added", (lines: string[]) => [lines[0].replace("{", '{"note":"x",'), lines[1], lines[2], lines[3]], 1],
  ])("verifyLog() names the first bad seq when %s", async (_name, mutate, firstBad) => {
    const files = await smallLog();
    const lines = readFileSync(files.log, "utf8").split("\n").slice(0, -1);
    const changed = mutate(lines);
    writeFileSync(files.log, changed.map((l) => l + "\n").join(""));
    const report = verifyLog(files);
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(firstBad);
    expect(report.problem).toBeTruthy();
  });

  it("verifyLog() fails when head.json is missing or unreadable", async () => {
    const files = await smallLog();
    const head = readFileSync(files.head);
    writeFileSync(files.head, "{not json");
    expect(verifyLog(files)).toMatchObject({ ok: false, problem: expect.stringMatching(/head.json is unreadable/) });
    execFileSync("rm", [files.head]);
    expect(verifyLog(files)).toMatchObject({ ok: false, problem: expect.stringMatching(/head.json is missing/) });
    writeFileSync(files.head, head);
    expect(verifyLog(files).ok).toBe(true);
  });
});

describe("appendRecord() across processes", () => {
  let worker: string;
  beforeAll(async () => {
    // One bundle, so 20 spawned processes start in ~50 ms each instead of loading tsx 20 times.
    const dir = mkdtempSync(join(tmpdir(), "opsterm-audit-worker-"));
    worker = join(dir, "append-worker.cjs");
    await build({ entryPoints: [join(import.meta.dirname, "fixtures", "append-worker.ts")], bundle: true, platform: "node", format: "cjs", outfile: worker, logLevel: "warning" });
  });

  function run(args: string[], umask?: string): Promise<number> {
    const [cmd, argv] = umask ? ["sh", ["-c", `umask ${umask} && exec "$0" "$@"`, process.execPath, worker, ...args]] : [process.execPath, [worker, ...args]];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd as string, argv as string[], { stdio: ["ignore", "ignore", "inherit"] });
      child.on("error", reject);
      child.on("close", (code) => resolve(code ?? -1));
    });
  }

  it("20 processes × 100 appends give one valid chain of 2000 records, no forks, no torn lines", async () => {
    const dataDir = home();
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => run([dataDir, "100", `w${i}`])));
    expect(codes).toEqual(Array(20).fill(0));
    const files = auditFiles(dataDir);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 2000, head: { seq: 2000 } });
    const records = readFileSync(files.log, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(new Set(records.map((r) => r.prevHash)).size).toBe(2000);
    for (let w = 0; w < 20; w++) {
      const mine = records.filter((r) => r.runId === `w${w}`).map((r) => r.args.command);
      expect(mine).toEqual(Array.from({ length: 100 }, (_, i) => `echo w${w}-${i}`));
    }
  }, 120_000);

  it("files stay 0600 and dirs 0700 under umask 000, snapshots included", async () => {
    const dataDir = home();
    expect(await run([dataDir, "3", "a", "snapshot"], "000")).toBe(0);
    expect(await run([dataDir, "1", "b", "snapshot"], "000")).toBe(0);
    const files = auditFiles(dataDir);
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      return e.isDirectory() ? [p, ...walk(p)] : [p];
    });
    const paths = [files.dir, ...walk(files.dir)];
    expect(paths.some((p) => p.includes(`${join("snapshots", "objects")}`))).toBe(true);
    for (const p of paths) {
      const st = statSync(p);
      expect({ p, other: st.mode & 0o077 }).toEqual({ p, other: 0 });
      if (st.isDirectory()) expect({ p, mode: st.mode & 0o777 }).toEqual({ p, mode: 0o700 });
    }
    expect(statSync(files.log).mode & 0o777).toBe(0o600);
    expect(statSync(files.head).mode & 0o777).toBe(0o600);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 4 });
  });
});
