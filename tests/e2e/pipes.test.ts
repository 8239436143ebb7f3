/**
 * Nothing is lost on a pipe (issue 8 §2), on the built binary against a real sshd: output into a
 * slow or early-closing reader, 100 MB through `exec … | sha256sum`, stdin forwarded to the
 * remote command, fan-out stdin refused unless --stdin, large --json outputs that parse, and
 * approval questions asked on the controlling terminal when stdin is the data.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditService } from "../../plugins/audit/service.ts";
import { createHistoryStore } from "../../plugins/history/service.ts";
import { requireBuilt } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

let sshd: SshdHandle;
let h: OpstermHome;
let scratch: string;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

beforeAll(async () => {
  requireBuilt();
  sshd = await startSshd();
  h = writeOpstermHome({ servers: { a: sshd.server({ tags: ["all"] }), b: sshd.server({ tags: ["all"] }), c: sshd.server({ tags: ["all"] }) }, knownHosts: [sshd.knownHostsLine()] });
  scratch = mkdtempSync(join(tmpdir(), "opsterm-pipes-"));
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  h?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs a bash pipeline in which `opsterm` is the built binary; `set -o pipefail` is off unless asked. */
function sh(script: string, options: { timeoutMs?: number; input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `opsterm() { ${q(requireBuilt())} "$@"; }\n${script}`], { env: { ...h.env, LANG: "C.UTF-8" }, cwd: scratch, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("output into a pipe", () => {
  it("every line reaches a reader that keeps up: seq 1 2000000 | tail -1", async () => {
    const r = await sh("opsterm exec a --yes -- 'seq 1 2000000' | tail -1");
    expect(r.stdout).toBe("2000000\n");
  });

  it("a slow reader gets every byte: head -c 1M /dev/zero | (sleep 1; wc -c)", async () => {
    const r = await sh("set -o pipefail; opsterm exec a --yes -- 'head -c 1M /dev/zero' | (sleep 1; wc -c)");
    expect(r.stdout.trim()).toBe("1048576");
    expect(r.code).toBe(0);
  });

  it("100 MB through exec … | sha256sum equals the remote sha256sum", async () => {
    const file = join(scratch, "big.bin");
    writeFileSync(file, randomBytes(100 * 1024 * 1024));
    const want = await sha256File(file);
    const r = await sh(`set -o pipefail; opsterm exec a --yes -- cat ${q(file)} | sha256sum`, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(" ")[0]).toBe(want);
    // The same bytes the other way: stdin reaches the remote command, as with `ssh host cmd`.
    const up = await sh(`set -o pipefail; cat ${q(file)} | opsterm exec a --yes -- sha256sum`, { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.split(" ")[0]).toBe(want);
    rmSync(file);
  }, 240_000);

  it("a reader that closes early (| head -1) ends opsterm quietly, and the audit result is still written", async () => {
    const r = await sh("set -o pipefail; opsterm exec a --yes -- 'seq 1 100000000' | head -1; echo \"status ${PIPESTATUS[0]}\"", { timeoutMs: 30_000 });
    expect(r.stdout).toBe("1\nstatus 141\n");
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    const records = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { phase: string; args: { command?: string } });
    const mine = records.filter((x) => x.args.command === "seq 1 100000000");
    expect(mine.map((x) => x.phase)).toEqual(["intent", "result"]);
  });

  it("a fan-out --json over 3 hosts with 200 KB each returns all 3", async () => {
    const r = await sh("opsterm exec @all --yes --json -- 'head -c 200000 /dev/zero | tr \"\\\\0\" a' | (sleep 1; cat)");
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { server: string; stdout: string });
    expect(lines.map((l) => l.server).sort()).toEqual(["a", "b", "c"]);
    for (const l of lines) expect(l.stdout).toBe("a".repeat(200000));
  });
});

describe("stdin", () => {
  it("a fan-out refuses piped input unless --stdin, which sends the same bytes to every host", async () => {
    const refused = await sh("echo hello | opsterm exec @all --yes -- cat");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/piped into a fan-out over 3 hosts/);
    expect(refused.stderr).toMatch(/--stdin/);
    const sent = await sh("echo hello | opsterm exec @all --yes --stdin --json -- cat");
    const lines = sent.stdout.trim().split("\n").map((l) => JSON.parse(l) as { stdout: string });
    expect(lines.map((l) => l.stdout)).toEqual(["hello\n", "hello\n", "hello\n"]);
  });

  it("a fan-out with stdin from /dev/null (cron) is not refused", async () => {
    const r = await sh("opsterm exec @all --yes -- true < /dev/null");
    expect(r.code).toBe(0);
  });
});

describe("thousands of records as --json", () => {
  it("audit log --json and history --json with thousands of entries parse, even through a slow reader", async () => {
    const t = await createTestKernel([], { home: h.home, env: h.env });
    const audit = createAuditService(t.ctx);
    // Concurrent appends share one write and fsync (group commit): thousands in a second or two.
    for (let chunk = 0; chunk < 30; chunk++) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => audit.append({ runId: `r${chunk}-${j}`, actor: "tester (user)", server: "a", action: "exec", args: { command: `echo ${"x".repeat(60)} ${chunk * 100 + j}` }, phase: "event" })));
    }
    const history = createHistoryStore({ dataDir: h.home, pid: process.pid, warn: () => {}, debug: () => {}, secretValues: async () => [], retentionDays: async () => undefined });
    for (let i = 0; i < 3000; i++) await history.record({ mode: "ask", question: `question ${i} ${"y".repeat(60)}`, answer: `answer ${i}` });
    const log = await sh("opsterm audit log --json --limit 5000 | (sleep 1; cat)");
    // JSON lines: one record per line.
    expect(log.stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown).length).toBeGreaterThanOrEqual(3000);
    const hist = await sh("opsterm history --json --limit 5000 | (sleep 1; cat)");
    expect((JSON.parse(hist.stdout) as { entries: unknown[] }).entries.length).toBeGreaterThanOrEqual(3000);
  }, 120_000);
});

describe("questions on the controlling terminal", () => {
  it("with stdin piped, an approval is asked on /dev/tty (as sudo does), and the data still reaches the remote command", async () => {
    const marker = join(scratch, "approved");
    const out = join(scratch, "received");
    // `script` gives the pipeline a controlling terminal; stdin of opsterm is the pipe from echo.
    const inner = `echo piped-data | ${q(requireBuilt())} exec a -- ${q(`touch ${marker}; cat > ${out}`)}`;
    const r = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn("script", ["-qefc", inner, "/dev/null"], { env: { ...h.env, SHELL: "/bin/sh", TERM: "dumb" }, cwd: scratch, stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      let answered = false;
      child.stdout.on("data", (c: Buffer) => {
        output += c.toString();
        if (!answered && /Run it\? \[y\/N\]/.test(output)) {
          answered = true;
          child.stdin.write("y\r");
        }
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
    expect(r.output).toMatch(/approval required/);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("piped-data\n");
  });

  it("with stdin piped and no terminal at all, an approval-required command is denied (77) and nothing runs", async () => {
    const marker = join(scratch, "never");
    const r = await sh(`echo data | opsterm exec a -- ${q(`touch ${marker}; cat`)}`);
    expect(r.code).toBe(77);
    expect(existsSync(marker)).toBe(false);
  });
});
