/**
 * The error catalogue is complete and usable: every E_* code in the source is catalogued, every
 * catalogued exit code is a documented one, and `opsterm help errors` prints it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, errorInfo } from "../../src/kernel/error-codes.ts";
import { OpstermError, UsageError } from "../../src/kernel/errors.ts";
import { runInProcess } from "../helpers/run-cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

describe("the error catalogue", () => {
  it("holds every error code the source uses", () => {
    const used = new Set<string>();
    for (const file of [...sources(join(ROOT, "src")), ...sources(join(ROOT, "plugins"))]) {
      for (const m of readFileSync(file, "utf8").matchAll(/["'`](E_[A-Z0-9_]+)["'`]/g)) used.add(m[1]);
    }
    const missing = [...used].filter((c) => !errorInfo(c) && !c.endsWith("_"));
    expect(missing).toEqual([]);
  });

  it("uses only documented exit codes", () => {
    const documented = new Set([1, 2, 65, 69, 74, 75, 77, 78, 130, 255]);
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      for (const exit of Array.isArray(info.exit) ? info.exit : [info.exit]) expect(documented.has(exit), `${code} exits ${exit}`).toBe(true);
    }
  });

  it("gives an error its exit code and hint unless the thrower says otherwise", () => {
    expect(new OpstermError("E_LOCK_TIMEOUT", "held")).toMatchObject({ exitCode: 75, hint: "Wait for it to finish" });
    expect(new OpstermError("E_LOCK_TIMEOUT", "held", { exitCode: 1, hint: "mine" })).toMatchObject({ exitCode: 1, hint: "mine" });
    expect(new UsageError("bad", { code: "E_TARGET" })).toMatchObject({ exitCode: 2, hint: '"opsterm servers list" shows the ids' });
    expect(new OpstermError("E_IO_ENOSPC", "full").exitCode).toBe(74);
  });

  it("opsterm help errors lists every code, one code with its hint, and JSON lines", async () => {
    const all = await runInProcess(["help", "errors"]);
    expect(all.code).toBe(0);
    for (const code of Object.keys(ERROR_CODES)) expect(all.stdout).toContain(code);
    const one = await runInProcess(["help", "errors", "E_POLICY_REJECT"]);
    expect(one.stdout).toMatch(/E_POLICY_REJECT\s+77\s+the policy rejects/);
    expect(one.stdout).toContain("policy check --explain");
    const json = await runInProcess(["help", "errors", "--json"]);
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(Object.keys(ERROR_CODES).length);
    const typo = await runInProcess(["help", "errors", "E_POLICY_REJCT"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean E_POLICY_REJECT");
  });
});
