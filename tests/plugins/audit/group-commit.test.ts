/**
 * Group commit: a fan-out's concurrent appends share one lock, write and fsync, yet each caller
 * gets its own durable record, the chain stays valid, and a failed write fails every append in it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendRecords, auditFiles, readHead, verifyLog } from "../../../plugins/audit/log.ts";
import { groupCommit } from "../../../plugins/audit/service.ts";
import type { AuditInput, AuditRecord } from "../../../plugins/audit/types.ts";

const input = (i: number): AuditInput => ({ runId: "r", actor: "alice", server: `web-${i}`, action: "exec", args: { command: `uname -n # ${i}` }, decision: "auto-allow", rule: "allow.uname", phase: "intent" });

describe("audit group commit", () => {
  it("50 concurrent appends: far fewer writes than records, each caller gets its own record, one valid chain", async () => {
    const files = auditFiles(mkdtempSync(join(tmpdir(), "opsterm-audit-gc-")));
    const batches: number[] = [];
    const append = groupCommit(async (inputs: AuditInput[]) => {
      batches.push(inputs.length);
      return appendRecords(files, inputs);
    });
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => append(input(i))));
    expect(records.map((r) => r.server)).toEqual(Array.from({ length: 50 }, (_, i) => `web-${i}`));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(50);
    expect(batches.length).toBeLessThanOrEqual(3);
    const report = verifyLog(files);
    expect(report).toMatchObject({ ok: true, records: 50 });
    expect(readHead(files)).toMatchObject({ seq: 50, hash: records[49].hash });
    // The anchor's lastOffset points at the start of the last record's line.
    const text = readFileSync(files.log);
    expect(JSON.parse(text.subarray(readHead(files)!.lastOffset).toString()).seq).toBe(50);
    // Appends after the burst chain on.
    const next = await append(input(99));
    expect(next).toMatchObject({ seq: 51, prevHash: records[49].hash });
    expect(verifyLog(files).ok).toBe(true);
  });

  it("a failed write rejects every append of its batch, and later appends still work", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opsterm-audit-gc-"));
    const files = auditFiles(dir);
    let fail = true;
    const append = groupCommit(async (inputs: AuditInput[]) => {
      if (fail) throw new Error("disk full");
      return appendRecords(files, inputs);
    });
    const results = await Promise.allSettled([append(input(1)), append(input(2)), append(input(3))]);
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    fail = false;
    const ok: AuditRecord = await append(input(4));
    expect(ok.seq).toBe(1);
  });

  it("appendRecords() fails closed as a whole: when the anchor is unusable, no record of the batch is written (exit 74)", async () => {
    const files = auditFiles(mkdtempSync(join(tmpdir(), "opsterm-audit-gc-")));
    await appendRecords(files, [input(1)]);
    const before = readFileSync(files.log);
    // A directory where head.json's temp file and rename must go: the anchor cannot be read or written (also as root).
    rmSync(files.head);
    mkdirSync(files.head);
    writeFileSync(join(files.head, "keep"), "");
    await expect(appendRecords(files, [input(2), input(3)])).rejects.toMatchObject({ code: expect.stringMatching(/^E_AUDIT_/), exitCode: 74 });
    expect(readFileSync(files.log)).toEqual(before);
  });
});
