/**
 * An upload whose connection is killed mid-transfer (the sshd serving it is SIGKILLed while
 * `opsterm put` streams) leaves the old file byte for byte, fails with a clear error, and the audit
 * log says the result is unknown: never success.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

const REPO = new URL("../../../", import.meta.url).pathname;

let sshd: SshdHandle;
let home: OpstermHome;
let remote: string;

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  remote = mkdtempSync(join(tmpdir(), "opsterm-scp-kill-"));
});
afterAll(async () => {
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("opsterm put, connection killed mid-transfer", () => {
  it("leaves the old file intact and fails without claiming success", async () => {
    const path = join(remote, "app.bin");
    const old = randomBytes(200 * 1024);
    writeFileSync(path, old);
    const child = spawn(join(REPO, "node_modules/.bin/tsx"), [join(REPO, "src/main.ts"), "put", "web1", path, "--yes", "--json"], { cwd: REPO, env: home.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdin!.on("error", () => {}); // EPIPE once opsterm has given up
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

    // Feed stdin until the temp file next to the target holds over 1 MiB: the transfer is under way.
    const temp = () => readdirSync(remote).find((n) => n.startsWith(".app.bin.opsterm-"));
    const deadline = Date.now() + 20_000;
    let fed = 0;
    while (Date.now() < deadline) {
      const t = temp();
      if (t && statSync(join(remote, t)).size > 1024 * 1024) break;
      if (fed < 64 * 1024 * 1024 && child.stdin!.writableLength < 1024 * 1024) {
        child.stdin!.write(randomBytes(256 * 1024));
        fed += 256 * 1024;
      }
      await sleep(20);
    }
    expect(temp(), `the upload never started: ${stderr}`).toBeDefined();

    // The network "drops": sshd's per-connection processes die; the listener stays up.
    expect(sshd.killConnections()).toBeGreaterThan(0);
    // opsterm keeps getting input; it must notice the dead connection on its own.
    for (let i = 0; i < 8 && child.exitCode === null; i++) {
      child.stdin!.write(randomBytes(256 * 1024));
      await sleep(50);
    }
    child.stdin!.end();
    const code = await exited;

    expect(code).not.toBe(0);
    expect(readFileSync(path).equals(old)).toBe(true);
    expect(statSync(path).size).toBe(old.length);
    const out = JSON.parse(stdout);
    expect(out.exitCode).not.toBe(0);
    expect(out.error.message).toMatch(/old file is intact|connection|lost|closed/i);
    // The audit result of the write records an unknown exit status (null), never 0.
    const records = readFileSync(join(home.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const result = records.filter((r) => r.action === "write" && r.phase === "result").at(-1);
    expect(result).toBeDefined();
    expect(result.exitCode).toBeNull();

    // The server still works, and the next upload replaces the file normally.
    const again = spawn(join(REPO, "node_modules/.bin/tsx"), [join(REPO, "src/main.ts"), "put", "web1", path, "--yes"], { cwd: REPO, env: home.env, stdio: ["pipe", "ignore", "pipe"] });
    again.stdin!.end("fresh\n");
    expect(await new Promise((resolve) => again.on("close", resolve))).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("fresh\n");
    expect(existsSync(path)).toBe(true);
  });
});
