/**
 * Issue 8 §4 for the audit files: pre-existing OPSTERM_HOME and audit/ directories with loose
 * modes are tightened to 0700, one owned by another user is refused; the log is read bounded and a
 * device or FIFO in its place is refused with one line (on the built binary), never read.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendRecord, auditFiles, readRecords, verifyLog } from "../../../plugins/audit/log.ts";
import type { AuditInput } from "../../../plugins/audit/types.ts";
import { opstermAsync } from "../../helpers/binary.ts";

const input: AuditInput = { runId: "r", actor: "alice", server: "web-1", action: "exec", args: { command: "uptime" }, phase: "intent" };
const home = () => mkdtempSync(join(tmpdir(), "opsterm-dirs-"));
const mode = (p: string) => statSync(p).mode & 0o777;

describe("private state directories", () => {
  it("a pre-existing OPSTERM_HOME 0755 and audit/ 0777 are tightened to 0700 on the next append", async () => {
    const dataDir = home();
    const files = auditFiles(dataDir);
    mkdirSync(files.dir);
    chmodSync(dataDir, 0o755);
    chmodSync(files.dir, 0o777);
    await appendRecord(files, input);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(files.dir)).toBe(0o700);
    expect(mode(files.log)).toBe(0o600);
  });

  it("an audit/ or OPSTERM_HOME owned by another user is refused: nothing is written (exit 74, names the owner)", async () => {
    expect(process.getuid?.()).toBe(0); // chown needs root (the CI and dev machines run the tests as root)
    for (const which of ["audit", "home"] as const) {
      const dataDir = home();
      const files = auditFiles(dataDir);
      mkdirSync(files.dir, { mode: 0o700 });
      chownSync(which === "audit" ? files.dir : dataDir, 65534, 65534);
      const error = await appendRecord(files, input).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "E_AUDIT_WRITE", exitCode: 74, message: expect.stringMatching(/belongs to uid 65534, not to you \(uid 0\).*nothing was run/) });
      expect(existsSync(files.log)).toBe(false);
    }
  });
});

describe("bounded audit reads", () => {
  it("audit.jsonl as a link to /dev/zero or a FIFO: audit log/verify end with one line and exit 65, at once", async () => {
    for (const kind of ["devzero", "fifo"] as const) {
      const dataDir = home();
      const files = auditFiles(dataDir);
      mkdirSync(files.dir, { mode: 0o700 });
      if (kind === "devzero") symlinkSync("/dev/zero", files.log);
      else execFileSync("mkfifo", [files.log]);
      expect(() => readRecords(files)).toThrow(/not a regular file/);
      expect(() => verifyLog(files)).toThrow(/not a regular file/);
      for (const args of [["audit", "log"], ["audit", "verify"]]) {
        const t0 = Date.now();
        const r = await opstermAsync(args, { home: dataDir });
        expect({ kind, args, code: r.code }).toEqual({ kind, args, code: 65 });
        expect(r.stderr).toMatch(/audit\.jsonl is a (character device|FIFO \(named pipe\)), not a regular file: opsterm does not read it/);
        expect(r.stderr).not.toMatch(/bug in opsterm|at .*\.ts:\d+/);
        expect(Date.now() - t0).toBeLessThan(15_000);
      }
    }
  }, 60_000);
});
