/**
 * The bundle (dist/opsterm.cjs) under Deno, from the npm package @deno/linux-x64-glibc (the
 * platform package of `deno`, which holds the binary; the registry reachable here carries only
 * this platform's package, so the `deno` meta package cannot be locked): a smoke set that keeps
 * the source Deno-compatible. Fails (never skips) when Deno or the bundle is missing.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundlePath, packageVersion, repoRoot, requireBuilt, run, tempDir } from "../helpers/binary.ts";

function denoBinary(): string {
  const candidates = [join(repoRoot, "node_modules/@deno/linux-x64-glibc/deno")];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`Deno is missing (looked for ${candidates.join(", ")}): run "npm ci" (@deno/linux-x64-glibc is a devDependency)`);
  return found;
}

describe("dist/opsterm.cjs under Deno", () => {
  const home = tempDir("opsterm-deno-");
  let deno: string;
  const opsterm = (...args: string[]) =>
    run(deno, ["run", "--allow-all", "--quiet", bundlePath, ...args], { home, env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(home, ".deno"), NO_COLOR: "1" } });

  beforeAll(() => {
    requireBuilt(bundlePath);
    deno = denoBinary();
    expect(run(deno, ["--version"], { home }).stdout).toMatch(/^deno \d+\.\d+/);
  });

  it("--version", () => {
    expect(opsterm("--version")).toMatchObject({ code: 0, stdout: `opsterm ${packageVersion}\n` });
  });

  it("--help", () => {
    const r = opsterm("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage:\s+opsterm <command>/);
    expect(r.stdout).toContain("doctor");
  });

  it("completion zsh", () => {
    const r = opsterm("completion", "zsh");
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("#compdef opsterm\n")).toBe(true);
    expect(r.stdout).toContain("_opsterm()");
  });

  it("doctor --json reports the deno runtime", () => {
    const r = opsterm("doctor", "--json");
    const report = JSON.parse(r.stdout) as { ok: boolean; runtime: { engine: string } };
    expect(report.runtime.engine).toBe("deno");
    expect(r.code).toBe(report.ok ? 0 : 1);
  });
});
