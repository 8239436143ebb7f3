/**
 * File-system errors are facts about the machine, not bugs: exit 74 (IoError), the path, a hint,
 * never "This is a bug in opsterm" and never a stack trace. doctor lists them as FAIL rows.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { definePlugin, fromSystemError, IoError } from "../../src/kernel/index.ts";
import { corePlugin } from "../../src/cli/core-plugin.ts";
import { runInProcess, tempDir } from "../helpers/run-cli.ts";

const owner = definePlugin({ name: "owner", apiVersion: 1, config: { ai: { type: "object", properties: { model: { type: "string" } } } } });
const run = (argv: string[], home: string, env: Record<string, string> = {}) => runInProcess(argv, { home, plugins: [corePlugin, owner], env });

function expectIoError(r: { code: number; stderr: string }, code: string, ...mentions: string[]) {
  expect(r.code).toBe(74);
  expect(r.stderr).toContain(`(${code})`);
  for (const m of mentions) expect(r.stderr).toContain(m);
  expect(r.stderr).toMatch(/\nhint /);
  expect(r.stderr).not.toContain("This is a bug");
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("file-system errors", () => {
  it.each([
    { code: "EACCES", syscall: "open", path: "/x/config.yaml", message: "Cannot open /x/config.yaml: permission denied", hint: /permissions of \/x\/config\.yaml/ },
    { code: "ENOSPC", syscall: "write", path: undefined, message: "Cannot write a file: no space left on device", hint: /disk is full/ },
  ])("fromSystemError() turns $code into IoError E_IO_$code with a hint", ({ code, syscall, path, message, hint }) => {
    const raw = Object.assign(new Error(`${code}: ${message.split(": ")[1]}, ${syscall}${path ? ` '${path}'` : ""}`), { code, syscall, path });
    const e = fromSystemError(raw) as IoError;
    expect(e).toBeInstanceOf(IoError);
    expect(e).toMatchObject({ code: `E_IO_${code}`, exitCode: 74, message });
    expect(e.hint).toMatch(hint);
  });

  it("fromSystemError() leaves other errors alone", () => {
    const bug = new TypeError("x is undefined");
    expect(fromSystemError(bug)).toBe(bug);
    const odd = Object.assign(new Error("EWHAT: something"), { code: "EWHAT", syscall: "open" });
    expect(fromSystemError(odd)).toBe(odd);
  });

  it("OPSTERM_HOME pointing at a file: config set exits 74 naming the file; doctor reports it and exits 1", async () => {
    const home = tempDir();
    const file = join(home, "not-a-dir");
    writeFileSync(file, "");
    expectIoError(await run(["config", "set", "ai.model", "x"], home, { OPSTERM_HOME: file }), "E_IO_EEXIST", file, "OPSTERM_HOME");
    const doctor = await run(["doctor", "--json"], home, { OPSTERM_HOME: file });
    expect(doctor.code).toBe(1);
    const report = JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] };
    expect(report.checks).toContainEqual(expect.objectContaining({ name: "dir", status: "fail", detail: `${file} is not a directory` }));
    expect(report.checks).toContainEqual(expect.objectContaining({ name: "config", status: "fail" }));
  });

  it("a directory where config.yaml or plugins.json should be: exit 74 with the path, not a crash", async () => {
    const home = tempDir();
    mkdirSync(join(home, "config.yaml"));
    expectIoError(await run(["config", "list"], home), "E_IO_EISDIR", join(home, "config.yaml"), "is a directory");
    const other = tempDir();
    mkdirSync(join(other, "plugins.json"));
    expectIoError(await run(["plugin", "list"], other), "E_IO_EISDIR", join(other, "plugins.json"));
    const json = await run(["plugin", "list", "--json"], other);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "E_IO_EISDIR", exitCode: 74 } });
  });
});
