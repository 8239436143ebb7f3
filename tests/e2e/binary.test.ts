/**
 * The built executable as a user gets it: ELF, runs without node or PATH, unaffected by
 * NODE_OPTIONS, exit codes, "did you mean", doctor --json, NO_COLOR.
 */
import { openSync, readSync, closeSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { binaryPath, opsterm, packageVersion, requireBuilt, tempDir } from "../helpers/binary.ts";

const ANSI = /\x1b\[[0-9;]*m/;

describe("dist/opsterm", () => {
  it("is an executable ELF file", () => {
    requireBuilt();
    const fd = openSync(binaryPath, "r");
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    expect(magic).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(statSync(binaryPath).mode & 0o111).toBe(0o111);
  });

  it("--version and --help exit 0 with an empty PATH and an empty environment", () => {
    const home = tempDir();
    const version = opsterm(["--version"], { home, clean: true, env: { PATH: "" } });
    expect(version).toMatchObject({ code: 0, stdout: `opsterm ${packageVersion}\n`, stderr: "" });
    const help = opsterm(["--help"], { home, clean: true, env: { PATH: "", OPSTERM_HOME: home } });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage:\s+opsterm <command>/);
    for (const command of ["completion", "config", "doctor", "plugin"]) expect(help.stdout).toContain(command);
    expect(help.stderr).toBe("");
  });

  it("--version --json prints the version as JSON", () => {
    const r = opsterm(["--version", "--json"], { home: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: packageVersion });
  });

  it("ignores NODE_OPTIONS (execArgvExtension none)", () => {
    const home = tempDir();
    // Each of these would make a plain `node` fail or print something.
    for (const value of ["--require /nonexistent/preload.cjs", "--import data:text/javascript,console.log('injected')", "--title=x --eval process.exit(9)"]) {
      const r = opsterm(["--version"], { home, env: { NODE_OPTIONS: value } });
      expect(r, value).toMatchObject({ code: 0, stdout: `opsterm ${packageVersion}\n` });
    }
  });

  it("an unknown command exits 2 with a did-you-mean hint and no stack trace", () => {
    const r = opsterm(["doctr"], { home: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did you mean "doctor"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("doctor --json parses and reports the single executable on Node 24", () => {
    const r = opsterm(["doctor", "--json"], { home: tempDir() });
    const report = JSON.parse(r.stdout) as { ok: boolean; runtime: { engine: string; version: string; singleExecutable: boolean }; checks: { name: string; status: string }[] };
    expect(r.code).toBe(report.ok ? 0 : 1);
    expect(report.runtime).toMatchObject({ engine: "node", singleExecutable: true });
    expect(report.runtime.version).toMatch(/^v?24\./);
    expect(report.checks.map((c) => c.name)).toContain("config");
  });

  it("respects NO_COLOR and --no-color even when FORCE_COLOR asks for colour", () => {
    const home = tempDir();
    const forced = opsterm(["doctor"], { home, env: { FORCE_COLOR: "1" } });
    expect(forced.stdout).toMatch(ANSI); // the control: colour is on without NO_COLOR
    const noColor = opsterm(["doctor"], { home, env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(noColor.stdout).not.toMatch(ANSI);
    expect(noColor.stdout).toContain("opsterm");
    const flag = opsterm(["doctor", "--no-color"], { home, env: { FORCE_COLOR: "1" } });
    expect(flag.stdout).not.toMatch(ANSI);
    const err = opsterm(["doctr"], { home, env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(err.code).toBe(2);
    expect(err.stderr).not.toMatch(ANSI);
  });
});
