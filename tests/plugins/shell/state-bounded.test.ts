/**
 * The shell state reader (plugins/shell/state.ts) reads through readBounded: a FIFO, a device or a
 * link to one in the shell state dir is refused at once (undefined), never read or waited on.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCapture, readLastCommand, readStateFile } from "../../../plugins/shell/state.ts";
import { STATE_END, STATE_FIELDS, STATE_MAGIC } from "../../../plugins/shell/scripts.ts";

const dir = () => mkdtempSync(join(tmpdir(), "opsterm-shell-state-"));

function stateText(command: string): string {
  const fields = ["0", "0", "1700000000.0", "1700000001.0", "1000", "bash", "4242", "", "", "1", "", "/tmp", command];
  expect(fields).toHaveLength(STATE_FIELDS);
  return [STATE_MAGIC, ...fields, STATE_END].join("\0");
}

describe("shell state reads are bounded", () => {
  it("reads a real state file; refuses a FIFO, /dev/zero and an oversized file without hanging", () => {
    const d = dir();
    writeFileSync(join(d, "4242.last"), stateText("make test"));
    writeFileSync(join(d, "latest"), "4242\n");
    expect(readLastCommand(d)?.command).toBe("make test");

    const t0 = Date.now();
    execFileSync("mkfifo", [join(d, "100.last")]);
    expect(readStateFile(join(d, "100.last"))).toBeUndefined();
    symlinkSync("/dev/zero", join(d, "101.last"));
    expect(readStateFile(join(d, "101.last"))).toBeUndefined();
    writeFileSync(join(d, "102.last"), stateText("x".repeat(2 * 1024 * 1024)));
    expect(readStateFile(join(d, "102.last"))).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2000);

    const p = dir();
    execFileSync("mkfifo", [join(p, "latest")]);
    expect(readLastCommand(p)).toBeUndefined();
    const q = dir();
    symlinkSync("/dev/zero", join(q, "latest"));
    expect(readLastCommand(q)).toBeUndefined();
  });

  it("readCapture() refuses a FIFO or a device in place of <pid>.out", () => {
    const d = dir();
    execFileSync("mkfifo", [join(d, "7.out")]);
    expect(readCapture(d, 7)).toBeUndefined();
    symlinkSync("/dev/zero", join(d, "8.out"));
    expect(readCapture(d, 8)).toBeUndefined();
    writeFileSync(join(d, "9.out"), "line 1\nline 2\n");
    expect(readCapture(d, 9)).toBe("line 1\nline 2\n");
  });
});
