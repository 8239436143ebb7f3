import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { atomicWrite, atomicWriteSync } from "../../src/lib/atomic-write.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "opsterm-atomic-"));

describe("atomicWrite", () => {
  it("creates the file and its missing parents with explicit modes, whatever the umask", async () => {
    const dir = scratch();
    const old = process.umask(0);
    try {
      await atomicWrite(join(dir, "a/b/state.json"), "{}\n");
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(dir, "a/b/state.json"), "utf8")).toBe("{}\n");
    expect(statSync(join(dir, "a/b/state.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "a")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "a/b")).mode & 0o777).toBe(0o700);
  });

  it("replaces the content and the mode, and leaves no temp file", () => {
    const dir = scratch();
    const file = join(dir, "f");
    writeFileSync(file, "old content that is longer");
    chmodSync(file, 0o644);
    atomicWriteSync(file, new Uint8Array([104, 105]), { mode: 0o640 });
    expect(readFileSync(file, "utf8")).toBe("hi");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  it("updates the file a symlink points at and keeps the link (a dotfiles checkout)", () => {
    const dir = scratch();
    mkdirSync(join(dir, "dotfiles"));
    writeFileSync(join(dir, "dotfiles/config.yaml"), "a: 1\n");
    symlinkSync(join(dir, "dotfiles/config.yaml"), join(dir, "config.yaml"));
    atomicWriteSync(join(dir, "config.yaml"), "a: 2\n");
    expect(lstatSync(join(dir, "config.yaml")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "config.yaml"))).toBe(join(dir, "dotfiles/config.yaml"));
    expect(readFileSync(join(dir, "dotfiles/config.yaml"), "utf8")).toBe("a: 2\n");
  });

  it("keeps the old content and cleans up when the rename fails", () => {
    const dir = scratch();
    mkdirSync(join(dir, "taken"));
    writeFileSync(join(dir, "taken/x"), "");
    // A non-empty directory where the file should go: rename(2) fails with EISDIR/ENOTEMPTY.
    expect(() => atomicWriteSync(join(dir, "taken"), "data")).toThrow();
    expect(statSync(join(dir, "taken")).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(["taken"]);
  });

  it("steps over temp files a crashed process with the same pid left behind, and leaves them alone", () => {
    const dir = scratch();
    const file = join(dir, "f");
    // Names this process's next writes would pick (pid + a per-process counter): all taken.
    const leftovers = Array.from({ length: 60 }, (_, i) => `f.${process.pid}.${i + 1}.tmp`);
    for (const name of leftovers) writeFileSync(join(dir, name), "half-written by a dead process");
    atomicWriteSync(file, "whole\n");
    expect(readFileSync(file, "utf8")).toBe("whole\n");
    expect(readdirSync(dir).sort()).toEqual(["f", ...leftovers].sort());
  });
});
