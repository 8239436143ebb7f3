/**
 * readBounded(): state files are read whole only when they are regular files under the cap.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DataError, IoError } from "../../src/kernel/errors.ts";
import { readBounded } from "../../src/lib/bounded-read.ts";
import { tempDir } from "../helpers/run-cli.ts";

describe("readBounded()", () => {
  const dir = tempDir("bounded-");

  it("returns the bytes of a regular file, undefined for a missing one", () => {
    writeFileSync(join(dir, "a.yaml"), "x: 1\n");
    expect(readBounded(join(dir, "a.yaml"), { maxBytes: 100 })?.toString()).toBe("x: 1\n");
    expect(readBounded(join(dir, "missing.yaml"), { maxBytes: 100 })).toBeUndefined();
  });

  it("refuses a file over the cap with the error class the caller chose", () => {
    writeFileSync(join(dir, "big.yaml"), "x".repeat(2049));
    expect(() => readBounded(join(dir, "big.yaml"), { maxBytes: 2048, errorClass: ConfigError, what: "config files" })).toThrow(
      expect.objectContaining({ code: "E_FILE_TOO_BIG", exitCode: 78, message: `${join(dir, "big.yaml")} is larger than 2 KiB, the cap for config files: opsterm does not read it` }),
    );
  });

  it.each([
    { name: "a symlink to /dev/zero", make: (p: string) => symlinkSync("/dev/zero", p), kind: "a character device" },
    { name: "a FIFO", make: (p: string) => execFileSync("mkfifo", [p]), kind: "a FIFO (named pipe)" },
  ])("refuses $name without reading (or blocking on) it", ({ make, kind }) => {
    const path = join(dir, `special-${kind.length}`);
    make(path);
    const started = Date.now();
    expect(() => readBounded(path, { maxBytes: 1024 })).toThrow(expect.objectContaining({ code: "E_FILE_TYPE", message: expect.stringContaining(`is ${kind}, not a regular file`) }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(() => readBounded(path, { maxBytes: 1024 })).toThrow(DataError);
  });

  it("names a directory as an I/O error (exit 74)", () => {
    mkdirSync(join(dir, "adir"));
    expect(() => readBounded(join(dir, "adir"), { maxBytes: 1024 })).toThrow(IoError);
  });
});
