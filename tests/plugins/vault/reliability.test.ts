/**
 * vault.enc under crashes and contention, with real processes (the built binary):
 * - 200 SIGKILLs at random moments of `vault set`: the file always opens and holds either the
 *   old content (byte for byte) or the new value, never a torn or mixed file;
 * - 20 processes setting different names at once: all 20 are there afterwards.
 * logN 15 (the production floor) keeps each run short; these tests are about atomicity.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deriveKey } from "../../../plugins/vault/crypto.ts";
import { openVault, parseVault } from "../../../plugins/vault/format.ts";
import { requireBuilt } from "../../helpers/binary.ts";
import { runBinary, tempHome } from "./helpers.ts";

const PASS = "reliability passphrase";

async function vaultHome(): Promise<{ dir: string; env: Record<string, string>; path: string }> {
  const dir = tempHome();
  const env = { OPSTERM_HOME: dir, HOME: dir, OPSTERM_VAULT_PASSWORD: PASS };
  expect((await runBinary(["vault", "init", "--log-n", "15"], env)).code).toBe(0);
  return { dir, env, path: join(dir, "vault.enc") };
}

/** Opens the vault file in-process (the key is derived once: every write keeps the salt). */
function opener(path: string) {
  let key: Promise<Uint8Array> | undefined;
  return async () => {
    const sealed = parseVault(readFileSync(path, "utf8"), path);
    key ??= deriveKey(PASS, sealed.header.kdf);
    return openVault(sealed, await key, path, "test");
  };
}

/** Runs `vault set name` with `value` on stdin and SIGKILLs it after `killAfterMs` if it is still running. */
function setAndKill(env: Record<string, string>, name: string, value: string, killAfterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(requireBuilt(), ["vault", "set", name], { cwd: env.OPSTERM_HOME, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["pipe", "ignore", "ignore"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - started });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(value);
  });
}

const temps = (dir: string) => readdirSync(dir).filter((f) => /^vault\.enc\.\d+$/.test(f));

describe("vault set under SIGKILL", () => {
  it("200 kills at random moments: the vault always opens, with the old or the new content", async () => {
    const { dir, env, path } = await vaultHome();
    const open = opener(path);
    expect((await setAndKill(env, "n", "value-0", 60_000)).code).toBe(0);
    // How long a whole run takes here and now (the median of three): kills are spread over it
    // and a little past, so some runs finish before their kill.
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await setAndKill(env, "n", "value-0", 60_000)).ms);
    const whole = runs.sort((a, b) => a - b)[1];
    let expected = "value-0";
    let previous = readFileSync(path);
    const outcomes = { old: 0, new: 0, killed: 0, takeovers: 0 };
    for (let i = 1; i <= 200; i++) {
      const value = `value-${i}`;
      // A run killed while holding the lock leaves it behind: the next run must take it over from
      // the dead holder and finish (it is not killed), or every later run would only wait for it.
      const deadHolder = existsSync(`${path}.lock`);
      if (deadHolder) outcomes.takeovers++;
      const r = await setAndKill(env, "n", value, deadHolder ? 60_000 : Math.random() * whole * 1.5);
      if (deadHolder) expect(r.code, `run ${i} after a dead lock holder`).toBe(0);
      if (r.signal === "SIGKILL") outcomes.killed++;
      else expect(r.code, `run ${i} exited`).toBe(0);
      const now = readFileSync(path);
      if (now.equals(previous)) {
        outcomes.old++;
        expect(r.code, `run ${i} reported success but the file did not change`).not.toBe(0);
      } else {
        const entries = await open();
        expect(entries.get("n")?.value, `run ${i}`).toBe(value);
        expect([...entries.keys()]).toEqual(["n"]);
        outcomes.new++;
        expected = value;
        previous = now;
      }
      expect((await open()).get("n")?.value).toBe(expected);
    }
    // Both sides of the rename were hit: kills before the write and writes that completed.
    expect(outcomes.killed).toBeGreaterThan(50);
    expect(outcomes.old).toBeGreaterThan(10);
    expect(outcomes.new).toBeGreaterThanOrEqual(5);
    // A run that completes clears temp files left by killed writers.
    expect((await setAndKill(env, "n", "final-value", 60_000)).code).toBe(0);
    expect((await open()).get("n")?.value).toBe("final-value");
    expect(temps(dir)).toEqual([]);
    console.log(`vault SIGKILL test: whole run ${whole.toFixed(0)} ms; ${outcomes.killed} killed (${outcomes.takeovers} while holding the lock), ${outcomes.old} left the old file, ${outcomes.new} wrote the new one`);
  }, 600_000);
});

describe("vault set from many processes at once", () => {
  it("20 processes setting different names: all 20 are present", async () => {
    const { env, path } = await vaultHome();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => runBinary(["vault", "set", `name-${i}`], env, { input: `value-${i}` })));
    for (const [i, r] of results.entries()) expect(r.code, `process ${i}: ${r.stderr}`).toBe(0);
    const entries = await opener(path)();
    expect(entries.size).toBe(20);
    for (let i = 0; i < 20; i++) expect(entries.get(`name-${i}`)?.value).toBe(`value-${i}`);
  }, 300_000);
});
