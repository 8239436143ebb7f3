/**
 * Issue 8 §4 on the built binary: a hostile state file gives a one-line error and a documented
 * exit code, never "This is a bug in opsterm", a hang, or gigabytes of memory.
 */
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { opstermAsync, tempDir } from "../helpers/binary.ts";

/** Nine levels of nine aliases: 9^9 strings if expanded. */
function billionLaughs(): string {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let previous = "a";
  for (const name of "bcdefghi") {
    text += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]\n`;
    previous = name;
  }
  return text;
}

function expectOneLine(r: { code: number | null; stderr: string }, code: number, mention: string) {
  expect(r.code).toBe(code);
  expect(r.stderr).toContain(mention);
  expect(r.stderr).not.toContain("This is a bug");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.split("\n")[0].length).toBeLessThan(400);
}

describe("hostile state files, on the built binary", () => {
  it("a billion-laughs config.yaml: exit 78, no expansion", async () => {
    const home = tempDir();
    writeFileSync(join(home, "config.yaml"), billionLaughs());
    const r = await opstermAsync(["config", "list"], { home });
    expectOneLine(r, 78, `${join(home, "config.yaml")}: invalid YAML: Excessive alias count`);
  });

  it("servers.yaml symlinked to /dev/zero: exit 78 at once", async () => {
    const home = tempDir();
    symlinkSync("/dev/zero", join(home, "servers.yaml"));
    const started = Date.now();
    const r = await opstermAsync(["servers", "list"], { home });
    expectOneLine(r, 78, `${join(home, "servers.yaml")} is a character device, not a regular file`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("servers.yaml as a FIFO nobody writes to: exit 78, no hang", async () => {
    const home = tempDir();
    execFileSync("mkfifo", [join(home, "servers.yaml")]);
    const r = await opstermAsync(["servers", "list"], { home });
    expectOneLine(r, 78, "is a FIFO (named pipe), not a regular file");
  });

  it("a config.yaml over 4 MiB: exit 78 naming the cap", async () => {
    const home = tempDir();
    writeFileSync(join(home, "config.yaml"), "# padding\n".repeat(500_000));
    const r = await opstermAsync(["config", "list"], { home });
    expectOneLine(r, 78, "is larger than 4 MiB, the cap for YAML state files");
  });

  it("a policy.yaml that is a device: every command is rejected (fail closed), with the reason", async () => {
    const home = tempDir();
    symlinkSync("/dev/zero", join(home, "policy.yaml"));
    const r = await opstermAsync(["policy", "check", "--json", "--", "uptime"], { home });
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "reject", reason: expect.stringContaining("is a character device, not a regular file") });
    expect(r.stderr).not.toContain("This is a bug");
  });

  it("plugins.json as a device: exit 65 naming it", async () => {
    const home = tempDir();
    symlinkSync("/dev/zero", join(home, "plugins.json"));
    const r = await opstermAsync(["plugin", "list"], { home });
    expectOneLine(r, 65, `${join(home, "plugins.json")} is a character device`);
  });
});
