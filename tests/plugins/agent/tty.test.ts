/**
 * The agent's approval prompt on a real pseudo-terminal: host, exact command or the diff of a
 * write, the policy rule and reason; once / for this session (the same call runs again unasked,
 * another does not) / deny (the model gets a tool error, the loop goes on) / abort (77).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { runOnTty } from "../../helpers/pty.ts";
import { startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let ai: FakeAi;
let sshd: SshdHandle;
let dir: string;

beforeAll(async () => {
  [ai, sshd] = await Promise.all([startFakeAi(), startSshd()]);
  dir = mkdtempSync(join(tmpdir(), "opsterm-agent-tty-"));
});
afterAll(async () => {
  await Promise.all([ai?.close(), sshd?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("approval prompt", () => {
  it("once, session, deny, abort", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server({ tier: "staging" }) }, knownHosts: [sshd.knownHostsLine()] });
    const f = (n: string) => join(dir, n);
    ai.enqueue(
      ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${f("one")}` } }]),
      ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${f("one")}` } }]),
      ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${f("two")}` } }]),
      ai.toolCalls([{ name: "remote_write_file", args: { server: "web1", path: f("three"), content: "hello\n" } }]),
      ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${f("four")}` } }]),
      ai.stream(["never"]),
    );
    const prompt = /Allow it\?[\s\S]*?abort the agent/;
    const r = await runOnTty(["agent", "do things"], { ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" }, [
      { when: prompt, send: "s" },
      { when: prompt, send: "n" },
      { when: prompt, send: "y" },
      { when: prompt, send: "a" },
    ]);
    try {
      expect(r.code).toBe(77);
      expect(existsSync(f("one"))).toBe(true);
      expect(existsSync(f("two"))).toBe(false);
      expect(readFileSync(f("three"), "utf8")).toBe("hello\n");
      expect(existsSync(f("four"))).toBe(false);
      // What the person saw: the host with its address and tier, the exact command, the rule and reason; the diff of the write.
      expect(r.output).toMatch(new RegExp(`web1 \\(\\S+@127\\.0\\.0\\.1:${sshd.port}, staging\\) remote_exec → exec`));
      expect(r.output).toContain(`touch ${f("one")}`);
      expect(r.output).toMatch(/approval required \S+: /);
      expect(r.output).toMatch(/\+hello/);
      expect(r.output).toMatch(/E_AGENT_ABORTED/);
      // Asked four times, not five: the second `touch one` ran on the session approval.
      expect(r.output.replace(/✔ Allow it\?/g, "").match(/Allow it\?/g)).toHaveLength(4);
      const records = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const ones = records.filter((x) => x.args.command === `touch ${f("one")}` && x.phase === "intent");
      expect(ones.map((x) => x.approver)).toEqual([expect.stringMatching(/^tty:.+ \(session\)$/), expect.stringMatching(/^tty:.+ \(session\)$/)]);
      // The denial went back to the model as a tool error, and it carried on.
      const sent = ai.chats()[3].body!.messages as { role: string; content: string }[];
      expect(JSON.parse(sent.at(-1)!.content)).toMatchObject({ status: "denied", error: { code: "E_APPROVAL_DENIED" } });
      expect(ai.chats()).toHaveLength(5);
    } finally {
      h.cleanup();
    }
  });

  it("chat on a terminal: typed turns, a streamed answer, an approval in between, /exit", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    const target = join(dir, "chat-made");
    ai.reset();
    ai.enqueue(ai.stream(["Hi ", "there."]), ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${target}` } }]), ai.stream(["Made it."]));
    const r = await runOnTty(["chat"], { ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" }, [
      { when: /you> /, send: "hello" },
      { when: /there\.[\s\S]*you> /, send: "make the file" },
      { when: /Allow it\?[\s\S]*?abort the agent/, send: "1" },
      { when: /Made it\.[\s\S]*you> /, send: "/exit" },
    ]);
    try {
      expect(r.code).toBe(0);
      expect(existsSync(target)).toBe(true);
      expect(r.output).toContain("Hi there.");
      expect(r.output).toMatch(/tokens \(\d+ in, \d+ out\)/);
      expect(ai.chats()).toHaveLength(3);
    } finally {
      h.cleanup();
    }
  });

  it("Ctrl-C at the approval prompt stops the agent with 130 and runs nothing", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    const target = join(dir, "never-made");
    ai.reset();
    ai.enqueue(ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `touch ${target}` } }]), ai.stream(["never"]));
    const r = await runOnTty(["agent", "make it"], { ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" }, [{ when: /Allow it\?[\s\S]*?abort the agent/, send: "\x03" }]);
    try {
      expect(r.code).toBe(130);
      expect(existsSync(target)).toBe(false);
      expect(ai.chats()).toHaveLength(1);
    } finally {
      h.cleanup();
    }
  });
});
