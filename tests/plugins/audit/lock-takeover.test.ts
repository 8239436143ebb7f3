/**
 * The audit append lock with two real processes (issue 8 §3): a holder frozen inside its append
 * for more than 10 s is waited for — the chain stays one line, never forked — and a SIGKILLed
 * holder's lock is taken over at once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { auditFiles, verifyLog } from "../../../plugins/audit/log.ts";
import { parseOwner } from "../../../src/lib/lock.ts";

let worker: string;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "opsterm-audit-lock-"));
  worker = join(dir, "append-worker.cjs");
  await build({ entryPoints: [join(import.meta.dirname, "fixtures", "append-worker.ts")], bundle: true, platform: "node", format: "cjs", outfile: worker, logLevel: "warning" });
});

function start(dataDir: string, count: number, tag: string): { child: ChildProcess; stderr: () => string; done: Promise<number> } {
  const child = spawn(process.execPath, [worker, dataDir, String(count), tag], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return { child, stderr: () => stderr, done };
}

function holder(lock: string): number | undefined {
  try {
    return parseOwner(readFileSync(lock, "utf8"))?.pid;
  } catch {
    return undefined;
  }
}

/** Stops `child` at a moment it holds the lock (SIGSTOP, then checks; resumes and retries if it did not). */
async function freezeHoldingLock(child: ChildProcess, lock: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (holder(lock) === child.pid) {
      child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 20));
      if (holder(lock) === child.pid) return;
      child.kill("SIGCONT");
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("never caught the worker holding the lock");
}

const size = (path: string) => {
  try {
    return readFileSync(path).length;
  } catch {
    return 0;
  }
};
const records = (log: string) => readFileSync(log, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; runId: string; prevHash: string });

describe("audit append lock across processes", () => {
  it("a holder frozen for more than 10 s is waited for, never forked; the waiter says why it waits", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "opsterm-audit-stall-"));
    const files = auditFiles(dataDir);
    const a = start(dataDir, 400, "a");
    await freezeHoldingLock(a.child, `${files.log}.lock`);
    const frozenAt = size(files.log);
    const b = start(dataDir, 5, "b");
    await new Promise((r) => setTimeout(r, 11_000));
    // b neither finished nor wrote a byte while a held the lock.
    expect(b.child.exitCode).toBeNull();
    expect(size(files.log)).toBe(frozenAt);
    expect(b.stderr()).toMatch(new RegExp(`waiting for .*audit\\.jsonl\\.lock: held by opsterm process ${a.child.pid} .*alive`));
    a.child.kill("SIGCONT");
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
    expect(verifyLog(files)).toMatchObject({ ok: true, records: 405 });
    const all = records(files.log);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 405 }, (_, i) => i + 1));
    expect(new Set(all.map((r) => r.prevHash)).size).toBe(405);
    expect(all.filter((r) => r.runId === "b")).toHaveLength(5);
  }, 120_000);

  it("a SIGKILLed holder's lock is taken over promptly and the chain stays valid", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "opsterm-audit-killed-"));
    const files = auditFiles(dataDir);
    const a = start(dataDir, 100_000, "a");
    await freezeHoldingLock(a.child, `${files.log}.lock`);
    a.child.kill("SIGKILL");
    await a.done;
    expect(holder(`${files.log}.lock`)).toBe(a.child.pid);
    const t0 = Date.now();
    const b = start(dataDir, 3, "b");
    expect(await b.done, b.stderr()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(b.stderr()).not.toContain("waiting for");
    const report = verifyLog(files);
    expect(report.ok, report.problem).toBe(true);
    expect(records(files.log).filter((r) => r.runId === "b")).toHaveLength(3);
  }, 120_000);
});
