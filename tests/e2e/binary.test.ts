/**
 * The built executable as a user gets it: ELF, runs without node or PATH, unaffected by
 * NODE_OPTIONS, exit codes, "did you mean", doctor --json, NO_COLOR.
 */
import { spawn } from "node:child_process";
import { openSync, readSync, closeSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baseEnv, binaryPath, opsterm, packageVersion, requireBuilt, run, tempDir } from "../helpers/binary.ts";

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

  it("concurrent `config set` processes never lose each other's writes (lock + atomic rename)", async () => {
    const home = tempDir();
    const values: [string, string][] = [
      ["ai.api_url", "https://llm.example/v1"],
      ["ai.model", "m-1"],
      ["ai.temperature", "0.3"],
      ["ai.max_tokens", "512"],
      ["ai.api_key", "sk-e2e-0123456789"],
    ];
    const codes = await Promise.all(
      values.map(
        ([key, value]) =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(binaryPath, ["config", "set", key, value], { env: baseEnv(home), stdio: "ignore" });
            child.on("error", reject);
            child.on("exit", resolve);
          }),
      ),
    );
    expect(codes).toEqual(values.map(() => 0));
    const listed = opsterm(["config", "list", "--json"], { home });
    const got = Object.fromEntries((JSON.parse(listed.stdout) as { values: { key: string; value: unknown }[] }).values.map((v) => [v.key, v.value]));
    expect(got).toEqual({ "ai.api_url": "https://llm.example/v1", "ai.model": "m-1", "ai.temperature": 0.3, "ai.max_tokens": 512, "ai.api_key": "********" });
    expect(statSync(join(home, "config.yaml")).mode & 0o777).toBe(0o600);
    expect(readdirSync(home).filter((f) => f !== "config.yaml")).toEqual([]); // no temp or lock files left
  });

  it.each([
    ["opsterm </dev/null", "</dev/null"],
    ["opsterm ask with stdin closed", "ask <&-"],
    ["opsterm doctor with stdin closed", "doctor <&-"],
    ["opsterm config set with stdin closed", "config set ai.model x <&-"],
  ])("%s exits on its own without a TTY (never waits for input), without a stack trace", (_name, tail) => {
    const home = tempDir();
    const started = Date.now();
    const r = run("bash", ["-c", `exec "${binaryPath}" ${tail}`], { home });
    expect(r.code).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain("This is a bug");
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
