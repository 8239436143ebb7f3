/**
 * `opsterm ask --on <server>` end to end: a real pseudo-terminal (util-linux `script`), the fake
 * chat-completions server, a real sshd on loopback, and the real policy, audit, history and ssh
 * plugins. The suggested command must run through the ssh plugin's "remote" service (the
 * orchestrator: policy → approval → audit → exec → audit → history), never locally.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { runOpsterm, startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let ai: FakeAi;
let sshd: SshdHandle;
let scratch: string;

beforeAll(async () => {
  [ai, sshd] = await Promise.all([startFakeAi(), startSshd()]);
  scratch = mkdtempSync(join(tmpdir(), "opsterm-on-"));
});
afterAll(async () => {
  await Promise.all([ai?.close(), sshd?.stop()]);
});

function home(): OpstermHome {
  return writeOpstermHome({ servers: { web1: sshd.server({ tier: "staging", tags: ["web"] }) }, knownHosts: [sshd.knownHostsLine()] });
}

/**
 * Runs the CLI under a pseudo-terminal and answers each prompt when it appears: `script` is the
 * list of [text to wait for, what to type]. Resolves with everything the terminal showed.
 */
function converse(args: string[], env: Record<string, string>, steps: [RegExp, string][]): Promise<{ code: number | null; out: string }> {
  const line = [process.execPath, "--import", "tsx", "src/main.ts", ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const child = spawn("script", ["-qec", line, "/dev/null"], { cwd: process.cwd(), env: { ...env, TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let seen = 0;
  const pending = [...steps];
  const pump = () => {
    const next = pending[0];
    if (!next) return;
    const m = next[0].exec(out.slice(seen));
    if (!m) return;
    seen += m.index + m[0].length;
    pending.shift();
    child.stdin.write(next[1]);
    pump();
  };
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    pump();
  });
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, out });
    }),
  );
}

const aiEnv = () => ({ OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" });
const auditOf = (h: OpstermHome) =>
  readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("opsterm ask --on <server>", () => {
  it("runs an approved suggested command on the server over SSH, with audit intent+result and a history row", async () => {
    const h = home();
    ai.reset();
    ai.enqueue(ai.stream(["Check the connection:\n", "```bash\nprintenv SSH_CONNECTION\n```\n"]));
    const r = await converse(["ask", "--on", "web1", "which", "ssh", "connection?"], { ...h.env, ...aiEnv() }, [
      [/What now\?[\s\S]*?Abort/, "1\r"],
      [/Run it\? \[y\/N\]/, "y\r"],
    ]);
    expect(r.code, r.out).toBe(0);
    // The server's facts went into the system prompt.
    const system = ai.chats()[0].body?.messages?.[0].content ?? "";
    expect(system).toContain('on the server "web1" over SSH');
    expect(system).toContain("tier: staging");
    expect(r.out).toContain("Suggested command 1/1 on web1");
    expect(r.out).toMatch(/policy: approval-required/);
    // SSH_CONNECTION is "client-ip client-port server-ip server-port": only set in a session sshd opened.
    expect(r.out).toMatch(new RegExp(`127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}`));
    expect(r.out).toContain("exit 0 on web1");

    const audit = auditOf(h).filter((a) => a.server === "web1");
    expect(audit.map((a) => a.phase)).toEqual(["intent", "result"]);
    expect(audit[0]).toMatchObject({ action: "exec", decision: "approval-required", args: { command: "printenv SSH_CONNECTION" } });
    expect(String(audit[0].approver)).toMatch(/^tty:/);
    expect(String(audit[0].actor)).toMatch(/\(ai\)$/);
    expect(audit[1]).toMatchObject({ exitCode: 0 });

    const history = await runOpsterm(["history", "--mode", "exec", "--server", "web1", "--json"], h.env);
    expect(history.code, history.stderr).toBe(0);
    const entries = (JSON.parse(history.stdout) as { entries: Record<string, unknown>[] }).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ mode: "exec", server: "web1", input: "printenv SSH_CONNECTION", exitCode: 0, decision: "approval-required", origin: "ai" });
    expect(String(entries[0].approver)).toMatch(/^tty:/);
    expect(entries[0].durationMs).toEqual(expect.any(Number));

    // The key binding gets the command wrapped so that it runs where it was meant to.
    expect(readFileSync(join(h.home, "shell", "suggestion"), "utf8")).toBe("opsterm exec web1 -- 'printenv SSH_CONNECTION'\n");
  }, 60_000);

  it("runs nothing when the approval is refused, and never offers a rejected command", async () => {
    const h = home();
    const marker = join(scratch, `touched-${Date.now()}`);
    ai.reset();
    ai.enqueue(ai.stream([`First:\n\`\`\`bash\ntouch ${marker}\n\`\`\`\nThen:\n\`\`\`bash\nrm -rf /\n\`\`\`\n`]));
    const r = await converse(["ask", "--on", "web1", "clean", "up"], { ...h.env, ...aiEnv() }, [
      [/What now\?[\s\S]*?Abort/, "1\r"],
      [/Run it\? \[y\/N\]/, "n\r"],
    ]);
    expect(existsSync(marker)).toBe(false);
    expect(r.out).toContain("not run:");
    expect(r.out).toContain("Suggested command 2/2 on web1");
    expect(r.out).toContain("not offered");
    // One "What now?" only: the rejected command was shown with its decision, not offered.
    expect(r.out.replace(/✔ What now\?/g, "").match(/What now\?/g)).toHaveLength(1);
    const audit = auditOf(h).filter((a) => a.server === "web1");
    expect(audit.map((a) => a.phase)).toEqual(["event"]);
    expect(String(audit[0].approver)).toMatch(/^refused:/);
    const history = await runOpsterm(["history", "--mode", "exec", "--json"], h.env);
    expect((JSON.parse(history.stdout) as { entries: unknown[] }).entries).toHaveLength(0);
  }, 60_000);

  it("executes nothing from an incomplete or truncated answer, even with --exec", async () => {
    const h = home();
    const marker = join(scratch, `cut-${Date.now()}`);
    ai.reset();
    ai.enqueue(ai.stream([`\`\`\`bash\nuptime; touch ${marker}\n\`\`\`\n`], { finish: null, done: false }));
    const incomplete = await converse(["ask", "--exec", "--on", "web1", "go"], { ...h.env, ...aiEnv() }, [[/What now\?[\s\S]*?Abort/, "1\r"]]);
    expect(incomplete.code).toBe(69);
    expect(incomplete.out).toContain("Incomplete answer");
    ai.enqueue(ai.stream([`\`\`\`bash\nuptime\n\`\`\`\n\`\`\`bash\ntouch ${marker}\n\`\`\`\n`], { finish: "length" }));
    const truncated = await converse(["ask", "--exec", "--on", "web1", "go"], { ...h.env, ...aiEnv() }, [[/What now\?[\s\S]*?Abort/, "1\r"]]);
    expect(truncated.code).toBe(0);
    expect(truncated.out).toContain("cut off at the length limit");
    for (const r of [incomplete, truncated]) expect(r.out).not.toContain("Suggested command");
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(h.home, "audit", "audit.jsonl")) ? auditOf(h).filter((a) => a.server === "web1") : []).toEqual([]);
  }, 60_000);
});
