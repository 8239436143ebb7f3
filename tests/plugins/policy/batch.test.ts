/**
 * `policy check --batch` on hostile input (issue 8 §4): lines are split in linear time, a line
 * over 64 KiB gets an error object without being echoed, and SIGTERM/SIGINT end it promptly.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const tsx = join(root, "node_modules/.bin/tsx");

function start() {
  const home = mkdtempSync(join(tmpdir(), "policy-batch-"));
  const child = spawn(tsx, [join(root, "src/main.ts"), "policy", "check", "--batch"], { env: { PATH: process.env.PATH, HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" }, cwd: home, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return { child, exited, out: () => stdout };
}

async function waitFor(test: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes `total` bytes of `a` in 64 KiB chunks, honouring backpressure. */
async function writeBig(stream: NodeJS.WritableStream, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
  }
}

describe("policy check --batch on hostile input", () => {
  it("answers a line over 64 KiB with an error object that does not echo it, and goes on", async () => {
    const p = start();
    p.child.stdin.write('"' + "x".repeat(70_000) + '"\n"uptime"\n');
    p.child.stdin.end();
    const { code } = await p.exited;
    const lines = p.out().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ command: null, decision: "reject", rule: "input.too-long", line: 1, error: { code: "E_BATCH_LINE_TOO_LONG" } });
    expect(p.out()).not.toContain("xxxxxxxxxx");
    expect(lines[1]).toMatchObject({ command: "uptime", decision: "auto-allow" });
    expect(code).toBe(65);
  }, 60_000);

  it("reads a 256 MiB line in linear time and memory (no re-scan, no re-copy of what came before)", async () => {
    const p = start();
    const t0 = Date.now();
    await writeBig(p.child.stdin, 256 * 1024 * 1024);
    p.child.stdin.end('\n"ls -la"\n');
    const { code } = await p.exited;
    const lines = p.out().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.rule)).toEqual(["input.too-long", "allow.ls"]);
    expect(code).toBe(65);
    // A quadratic splitter copies ~32 TiB here; a linear one is bounded by the pipe's speed.
    expect(Date.now() - t0).toBeLessThan(90_000);
  }, 120_000);

  it.each(["SIGTERM", "SIGINT"] as const)("%s ends it promptly while stdin stays open", async (signal) => {
    const p = start();
    p.child.stdin.write('"uptime"\n');
    await waitFor(() => p.out().includes("allow.uptime"), 30_000);
    const t0 = Date.now();
    p.child.kill(signal);
    const { code } = await p.exited;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(code).toBe(130);
    expect(JSON.parse(p.out().trim())).toMatchObject({ command: "uptime" });
  }, 60_000);
});
