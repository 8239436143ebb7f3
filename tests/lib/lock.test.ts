/**
 * src/lib/lock.ts with real processes: a lock is taken over only from a holder that is provably
 * dead (SIGKILLed, another boot, a reused PID), never from a live one however long it stalls.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { ownerIsDead, parseOwner, selfIdentity, withLock, type LockOwner } from "../../src/lib/lock.ts";

let worker: string;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "opsterm-lock-worker-"));
  worker = join(dir, "lock-worker.cjs");
  await build({ entryPoints: [join(import.meta.dirname, "fixtures", "lock-worker.ts")], bundle: true, platform: "node", format: "cjs", outfile: worker, logLevel: "warning" });
});

const dir = () => mkdtempSync(join(tmpdir(), "opsterm-lock-"));

function start(args: string[]): { child: ChildProcess; out: () => string; done: Promise<number> } {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const done = new Promise<number>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? -1 : -2))));
  return { child, out: () => out, done };
}

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function fakeOwner(over: Partial<LockOwner>): LockOwner {
  return { ...selfIdentity(), nonce: "0123456789abcdef", since: Date.now() - 3_600_000, ...over };
}

describe("withLock()", () => {
  it("takes over the lock of a SIGKILLed holder promptly", async () => {
    const path = join(dir(), "state.json");
    const holder = start([path, "hold", "600000"]);
    await until(() => holder.out().includes("held"));
    holder.child.kill("SIGKILL");
    await holder.done;
    expect(existsSync(`${path}.lock`)).toBe(true);
    const t0 = Date.now();
    await withLock(path, () => undefined);
    expect(Date.now() - t0).toBeLessThan(3000);
    // Nothing left behind: no lock, no claim, no owner file (neither the dead holder's nor ours).
    expect(readdirSync(join(path, "..")).filter((f) => f.includes(".lock"))).toEqual([]);
  }, 30_000);

  it("waits for a live holder stopped for more than 10 s (SIGSTOP), says so on stderr, and never forks", async () => {
    const path = join(dir(), "state.json");
    const holder = start([path, "hold", "2000"]);
    await until(() => holder.out().includes("held"));
    // Frozen inside its critical section: not even its event loop runs (an fsync stall looks like this).
    holder.child.kill("SIGSTOP");
    const messages: string[] = [];
    let acquiredAt = 0;
    const waiter = withLock(path, () => void (acquiredAt = Date.now()), { timeoutMs: 60_000, onWait: (m) => messages.push(m) });
    await new Promise((r) => setTimeout(r, 11_000));
    expect(acquiredAt).toBe(0);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(new RegExp(`held by opsterm process ${holder.child.pid} .*alive`));
    const resumedAt = Date.now();
    holder.child.kill("SIGCONT");
    await waiter;
    expect(acquiredAt).toBeGreaterThanOrEqual(resumedAt);
    expect(await holder.done).toBe(0);
    expect(holder.out()).toContain("released");
  }, 60_000);

  it("a live holder makes the waiter give up with E_LOCK_TIMEOUT (exit 75) naming it, not take over", async () => {
    const path = join(dir(), "state.json");
    const holder = start([path, "hold", "5000"]);
    await until(() => holder.out().includes("held"));
    await expect(withLock(path, () => undefined, { timeoutMs: 500, onWait: () => {} })).rejects.toMatchObject({
      code: "E_LOCK_TIMEOUT",
      exitCode: 75,
      message: expect.stringContaining(`process ${holder.child.pid}`),
    });
    holder.child.kill("SIGKILL");
    await holder.done;
  }, 30_000);

  it("12 processes contending for a dead holder's lock: exactly one takes it over, no update is lost", async () => {
    const path = join(dir(), "counter");
    writeFileSync(`${path}.lock`, JSON.stringify(fakeOwner({ pid: 2 ** 22 + 12345 })));
    writeFileSync(path, "0");
    const workers = Array.from({ length: 12 }, () => start([path, "count", "25"]));
    const codes = await Promise.all(workers.map((w) => w.done));
    expect(codes, workers.map((w) => w.out()).join("")).toEqual(Array(12).fill(0));
    expect(readFileSync(path, "utf8")).toBe(String(12 * 25));
  }, 120_000);

  it("decides death by PID, boot id and start time, never by age", () => {
    const self = selfIdentity();
    expect(self.boot).toMatch(/^[0-9a-f-]{36}$/);
    expect(self.start).toMatch(/^\d+$/);
    // Alive: this very process, an hour-old lock.
    expect(ownerIsDead(fakeOwner({}))).toBe(false);
    // Gone PID.
    expect(ownerIsDead(fakeOwner({ pid: 2 ** 22 + 777 }))).toBe(true);
    // Same PID, another boot.
    expect(ownerIsDead(fakeOwner({ boot: "00000000-0000-0000-0000-000000000000" }))).toBe(true);
    // Same PID, another start time: the PID was reused.
    expect(ownerIsDead(fakeOwner({ start: String(Number(self.start) + 1) }))).toBe(true);
    // Another host or pid namespace: cannot be proven, whatever the PID says.
    expect(ownerIsDead(fakeOwner({ pid: 2 ** 22 + 777, host: "elsewhere" }))).toBe(false);
    expect(ownerIsDead(fakeOwner({ pid: 2 ** 22 + 777, ns: "pid:[1]" }))).toBe(false);
    expect(parseOwner("not json")).toBeUndefined();
    expect(parseOwner(JSON.stringify(fakeOwner({})))).toMatchObject({ pid: process.pid });
  });

  it("a lock it cannot read as its own (a legacy directory, garbage) is waited for, never removed", async () => {
    const d = dir();
    const path = join(d, "state.json");
    writeFileSync(`${path}.lock`, "garbage");
    await expect(withLock(path, () => undefined, { timeoutMs: 300, onWait: () => {} })).rejects.toMatchObject({ code: "E_LOCK_TIMEOUT", message: expect.stringContaining("not an opsterm lock file") });
    expect(readFileSync(`${path}.lock`, "utf8")).toBe("garbage");
  });
});
