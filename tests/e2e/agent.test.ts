/**
 * The agent end to end: the BUILT binary (dist/opsterm), a real sshd on loopback, and the fake
 * OpenAI-compatible server scripted with tool-call transcripts in three dialects (OpenAI, Ollama,
 * llama.cpp). Every tool call goes through the gate; these tests read what the gate wrote (the
 * audit log, history) and what the model was sent, and what happened on the "server".
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeAi, type Dialect, type FakeAi, type ScriptedCall } from "../helpers/fake-ai-server.ts";
import { requireBuilt } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

let ai: FakeAi;
let sshd: SshdHandle;
let scratch: string;
const homes: OpstermHome[] = [];

beforeAll(async () => {
  requireBuilt();
  [ai, sshd] = await Promise.all([startFakeAi(), startSshd()]);
  scratch = mkdtempSync(join(tmpdir(), "opsterm-agent-"));
});
afterAll(async () => {
  await Promise.all([ai?.close(), sshd?.stop()]);
  for (const h of homes) h.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => ai.reset());

const ACTOR = "ai:env/fake-model";

function home(): OpstermHome {
  const h = writeOpstermHome({ servers: { web1: sshd.server({ tags: ["web"] }), db1: sshd.server({ tags: ["db"] }) }, knownHosts: [sshd.knownHostsLine()] });
  homes.push(h);
  return h;
}

interface Proc {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  pid: number;
  kill(signal: NodeJS.Signals): void;
}

function start(args: string[], h: OpstermHome, input = ""): Proc {
  const child = spawn(requireBuilt(), args, { cwd: scratch, env: { ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const code = new Promise<number | null>((resolve) =>
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve(c);
    }),
  );
  return { code, stdout: () => out, stderr: () => err, pid: child.pid!, kill: (s) => child.kill(s) };
}

async function run(args: string[], h: OpstermHome, input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(args, h, input);
  const code = await p.code;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

interface AuditRecord {
  seq: number;
  actor: string;
  server: string;
  action: string;
  phase: string;
  approver?: string;
  exitCode?: number | null;
  args: { command?: string; path?: string; conversation?: string };
}

function audit(h: OpstermHome): AuditRecord[] {
  const file = join(h.home, "audit", "audit.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

/** What the model did, as pairs (kind, path or command) of the intents, and of the results, of its own actor. */
function aiPairs(h: OpstermHome, phase: "intent" | "result"): string[] {
  return audit(h)
    .filter((r) => r.actor === ACTOR && r.phase === phase)
    .map((r) => `${r.server} ${r.action} ${r.action === "exec" ? r.args.command : r.args.path}`);
}

/** The tool messages the model received in its last request, parsed. */
function toolResults(index = -1): Record<string, any>[] {
  const req = ai.chats().at(index)!;
  return (req.body!.messages as { role: string; content: string }[]).filter((m) => m.role === "tool").map((m) => JSON.parse(m.content));
}

describe.each(["openai", "ollama", "llamacpp"] as Dialect[])("read → patch → verify (%s dialect)", (dialect) => {
  it("patches the file, each call is one audited action of the AI actor, the model sees every result in order", async () => {
    const h = home();
    const file = join(scratch, `app-${dialect}.conf`);
    writeFileSync(file, "workers = 2\nlisten = 80\nlog = info\n");
    const diff = `--- a/app.conf\n+++ b/app.conf\n@@ -1,3 +1,3 @@\n-workers = 2\n+workers = 8\n listen = 80\n log = info\n`;
    ai.enqueue(
      ai.toolCalls([{ name: "remote_read_file", args: { server: "web1", path: file } }], { dialect }),
      ai.toolCalls([{ name: "remote_patch_file", args: { server: "web1", path: file, unified_diff: diff } }], { dialect }),
      ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `cat ${file}` } }, { name: "remote_stat", args: { server: "web1", path: file } }], { dialect }),
      ai.stream(["Raised ", "workers to 8."]),
    );
    const handshakes = () => (sshd.logs().match(/Accepted publickey/g) ?? []).length;
    const before = handshakes();
    const r = await run(["agent", "--yes", "--json", "raise the workers to 8"], h);
    expect(r.stderr).toBe("");
    // Host facts and six actions: one SSH handshake for the whole session.
    expect(handshakes() - before).toBe(1);
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("workers = 8\nlisten = 80\nlog = info\n");
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ answer: "Raised workers to 8.", steps: 4, stop: null, model: "fake-model" });
    expect(out.toolCalls.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual(["remote_read_file:ok", "remote_patch_file:ok", "remote_exec:ok", "remote_stat:ok"]);
    // The gate's records of the model's actor are exactly its calls (a write reads the file first, through the gate too).
    const expected = [`web1 read ${file}`, `web1 stat ${file}`, `web1 read ${file}`, `web1 write ${file}`, `web1 exec cat ${file}`, `web1 stat ${file}`];
    expect(aiPairs(h, "intent").sort()).toEqual([...expected].sort());
    expect(aiPairs(h, "result").sort()).toEqual([...expected].sort());
    const records = audit(h);
    for (const call of out.toolCalls) expect(records.find((x) => x.seq === call.auditSeq && x.phase === "intent")).toBeTruthy();
    expect(records.filter((x) => x.actor === ACTOR).every((x) => x.args.conversation === out.conversation)).toBe(true);
    expect(records.find((x) => x.action === "write" && x.phase === "intent")!.approver).toBe("flag:--yes");
    // Results went back in call order; the verify step saw the patched bytes.
    const last = toolResults();
    expect(last.map((t) => t.tool)).toEqual(["remote_read_file", "remote_patch_file", "remote_exec", "remote_stat"]);
    expect(last[0].content.text).toBe("workers = 2\nlisten = 80\nlog = info\n");
    expect(last[1]).toMatchObject({ status: "ok", written: { snapshot: { before: expect.stringMatching(/^[0-9a-f]{40}$/) } } });
    expect(last[2].stdout.text).toBe("workers = 8\nlisten = 80\nlog = info\n");
    // Tool schemas went out strict, with the server argument.
    const tools = ai.chats()[0].body!.tools as { function: { name: string; parameters: { properties: Record<string, unknown>; additionalProperties: boolean } } }[];
    expect(tools.find((t) => t.function.name === "remote_exec")!.function.parameters).toMatchObject({ additionalProperties: false, properties: { server: expect.anything() } });
    // Token usage: summed over the turns, in the output and in history.
    expect(out.usage.promptTokens).toBeGreaterThan(0);
    const hist = spawnSync(requireBuilt(), ["history", "search", "--mode", "agent", "--json"], { env: h.env, encoding: "utf8" });
    const entry = JSON.parse(hist.stdout).entries[0];
    expect(entry).toMatchObject({ mode: "agent", promptTokens: out.usage.promptTokens, completionTokens: out.usage.completionTokens });
  });
});

describe("refusals", () => {
  it("a rejected and a denied call return tool errors, nothing of them runs, and the loop goes on", async () => {
    const h = home();
    const victim = join(scratch, "victim");
    ai.enqueue(
      ai.toolCalls([
        { name: "remote_exec", args: { server: "web1", command: "rm -rf /" } },
        { name: "remote_exec", args: { server: "web1", command: `touch ${victim}` } },
      ]),
      ai.stream(["I could not do that."]),
    );
    const r = await run(["agent", "--json", "clean up"], h);
    expect(r.code).toBe(0);
    const results = toolResults();
    expect(results[0]).toMatchObject({ status: "rejected", error: { code: "E_POLICY_REJECT", rule: expect.stringMatching(/^hard\./) } });
    expect(results[1]).toMatchObject({ status: "denied", error: { code: "E_APPROVAL_DENIED", message: expect.stringContaining("--yes") } });
    expect(existsSync(victim)).toBe(false);
    expect(aiPairs(h, "intent")).toEqual([]);
    const events = audit(h).filter((x) => x.actor === ACTOR && x.action === "approval");
    expect(events.map((e) => e.approver ?? "")).toEqual(expect.arrayContaining(["refused:no-tty"]));
    expect(JSON.parse(r.stdout).answer).toBe("I could not do that.");
  });

  it("--yes never runs what the policy rejects", async () => {
    const h = home();
    ai.enqueue(ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: "mkfs.ext4 /dev/sda" } }]), ai.stream(["no"]));
    const r = await run(["agent", "--yes", "--json", "format"], h);
    expect(r.code).toBe(0);
    expect(toolResults()[0]).toMatchObject({ status: "rejected" });
    expect(aiPairs(h, "intent")).toEqual([]);
  });

  it("bad arguments and unknown tools are tool errors the model reads; nothing reaches the gate", async () => {
    const h = home();
    ai.enqueue(
      ai.toolCalls([
        { name: "remote_exec", args: { server: "web1", command: "uname -n", sudo: true } },
        { name: "remote_shell", args: { server: "web1" } },
      ]),
      ai.stream(["ok"]),
    );
    const r = await run(["agent", "--json", "x"], h);
    expect(r.code).toBe(0);
    expect(toolResults().map((t) => t.error.code)).toEqual(["E_TOOL_ARGUMENTS", "E_TOOL_ARGUMENTS"]);
    expect(aiPairs(h, "intent")).toEqual([]);
  });
});

describe("limits", () => {
  it("the same call three times in a row: the third does not run and the agent stops (75)", async () => {
    const h = home();
    const call: ScriptedCall = { name: "remote_exec", args: { server: "web1", command: "uname -n" } };
    ai.enqueue(ai.toolCalls([call]), ai.toolCalls([call], { dialect: "ollama" }), ai.toolCalls([call], { dialect: "llamacpp" }), ai.stream(["never asked"]));
    const r = await run(["agent", "--json", "loop"], h);
    expect(r.code).toBe(75);
    expect(JSON.parse(r.stdout).stop.code).toBe("E_AGENT_DOOM_LOOP");
    expect(r.stderr).toMatch(/E_AGENT_DOOM_LOOP/);
    expect(aiPairs(h, "intent")).toEqual(["web1 exec uname -n", "web1 exec uname -n"]);
    expect(ai.chats()).toHaveLength(3);
  });

  it("--max-steps stops a model that keeps calling tools (75)", async () => {
    const h = home();
    ai.enqueue(
      ai.toolCalls([{ name: "remote_stat", args: { server: "web1", path: "/etc" } }]),
      ai.toolCalls([{ name: "remote_stat", args: { server: "web1", path: "/tmp" } }]),
      ai.toolCalls([{ name: "remote_stat", args: { server: "web1", path: "/var" } }]),
    );
    const r = await run(["agent", "--max-steps", "2", "--json", "look around"], h);
    expect(r.code).toBe(75);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: 2, stop: { code: "E_AGENT_MAX_STEPS" } });
    expect(ai.chats()).toHaveLength(2);
  });

  it("the token budget and the time budget stop the agent between turns (75)", async () => {
    const h = home();
    ai.enqueue(ai.toolCalls([{ name: "remote_stat", args: { server: "web1", path: "/etc" } }]), ai.stream(["unreached"]));
    const tokens = await run(["agent", "--token-budget", "50", "--json", "x"], h);
    expect(tokens.code).toBe(75);
    expect(JSON.parse(tokens.stdout)).toMatchObject({ steps: 1, stop: { code: "E_AGENT_TOKEN_BUDGET" }, usage: { promptTokens: 100, completionTokens: 10 } });
    ai.reset();
    ai.enqueue({ ...ai.toolCalls([{ name: "remote_stat", args: { server: "web1", path: "/etc" } }]), delayMs: 300 } as never, ai.stream(["unreached"]));
    const time = await run(["agent", "--time-budget", "1s", "--json", "x"], h);
    expect(time.code).toBe(75);
    expect(JSON.parse(time.stdout)).toMatchObject({ steps: 1, stop: { code: "E_AGENT_TIME_BUDGET" } });
    expect(ai.chats()).toHaveLength(1);
  });

  it("calls that need no approval run in parallel (at most 4 at once); one that needs it runs alone, in its place", async () => {
    const h = home();
    const reads = (n: number) => Array.from({ length: n }, (_, i) => ({ name: "remote_exec", args: { server: "web1", command: `cat /etc/hostname /etc/os-release${" /etc/hostname".repeat(i)}` } }));
    const mark = join(scratch, "barrier");
    ai.enqueue(ai.toolCalls([...reads(6), { name: "remote_exec", args: { server: "web1", command: `touch ${mark}` } }, ...reads(9).slice(6)]), ai.stream(["done"]));
    const r = await run(["agent", "--yes", "--json", "x"], h);
    expect(r.code).toBe(0);
    const mine = audit(h).filter((x) => x.actor === ACTOR);
    let open = 0;
    let most = 0;
    for (const x of mine) {
      open += x.phase === "intent" ? 1 : x.phase === "result" ? -1 : 0;
      most = Math.max(most, open);
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    // The approval-required call starts after the six before it ended, and ends before the three after it start.
    const at = (cmd: string, phase: string) => mine.findIndex((x) => x.args.command === cmd && x.phase === phase);
    const touchIntent = at(`touch ${mark}`, "intent");
    const touchResult = at(`touch ${mark}`, "result");
    for (const c of reads(6)) expect(at(String(c.args.command), "result")).toBeLessThan(touchIntent);
    for (const c of reads(9).slice(6)) expect(at(String(c.args.command), "intent")).toBeGreaterThan(touchResult);
    // Results went back in call order.
    expect(toolResults().map((t) => t.status)).toEqual(Array(10).fill("ok"));
    expect(toolResults()[6].stdout.text).toBe("");
  });

  it("--timeout ends a remote command at its deadline, on the server too; the model reads why", async () => {
    const h = home();
    const marker = `${30 + Math.floor(Math.random() * 1000) / 1000}`;
    ai.enqueue(ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `sleep ${marker}` } }]), ai.stream(["too slow"]));
    const r = await run(["agent", "--yes", "--timeout", "1", "--json", "wait"], h);
    expect(r.code).toBe(0);
    expect(toolResults()[0]).toMatchObject({ status: "failed", exitCode: null, error: { code: "E_EXEC_TIMEOUT" } });
    expect(spawnSync("pgrep", ["-f", `^sleep ${marker}$`], { encoding: "utf8" }).stdout.trim()).toBe("");
  });

  it("a model without tool support: one clear line, exit 69, nothing ran", async () => {
    const h = home();
    ai.enqueue({ kind: "json", status: 400, body: { error: { message: "registry.ollama.ai/library/gemma:2b does not support tools" } } });
    const r = await run(["agent", "what is up"], h);
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/cannot call tools.*\(E_CHAT_NO_TOOLS\)/);
    expect(aiPairs(h, "intent")).toEqual([]);
  });
});

describe("Ctrl-C", () => {
  it("cancels the running remote command: the remote process is gone and agent exits 130", async () => {
    const h = home();
    const marker = `${40 + Math.floor(Math.random() * 1000) / 1000}`;
    ai.enqueue(ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: `sleep ${marker}` } }]), ai.stream(["never"]));
    const p = start(["agent", "--yes", "wait"], h);
    const remote = () => spawnSync("pgrep", ["-f", `^sleep ${marker}$`], { encoding: "utf8" }).stdout.trim();
    const deadline = Date.now() + 60_000;
    while (!remote() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(remote()).not.toBe("");
    p.kill("SIGINT");
    expect(await p.code).toBe(130);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = remote() === "";
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone).toBe(true);
    // The action has its result record: interrupted, status unknown.
    const result = audit(h).find((x) => x.actor === ACTOR && x.phase === "result" && x.args.command === `sleep ${marker}`);
    expect(result).toMatchObject({ exitCode: null });
    expect(ai.chats()).toHaveLength(1);
  });
});

describe("a session bound to one server", () => {
  it("connect: the tools take no server; a model asking for another host cannot reach it", async () => {
    const h = home();
    ai.enqueue(
      ai.toolCalls([{ name: "remote_exec", args: { server: "db1", command: "uname -n" } }]),
      ai.toolCalls([{ name: "list_servers", args: {} }, { name: "remote_exec", args: { command: "uname -n" } }]),
      ai.stream(["Only web1 here."]),
    );
    const r = await run(["connect", "web1"], h, "show me db1\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Only web1 here.");
    const tools = ai.chats()[0].body!.tools as { function: { name: string; parameters: { properties: Record<string, unknown> } } }[];
    for (const t of tools) expect(Object.keys(t.function.parameters.properties)).not.toContain("server");
    const results = toolResults();
    expect(results[0]).toMatchObject({ status: "error", error: { code: "E_TOOL_ARGUMENTS", message: expect.stringContaining('unknown argument "server"') } });
    expect(results[1].servers.map((s: { id: string }) => s.id)).toEqual(["web1"]);
    expect(results[2]).toMatchObject({ status: "ok", server: "web1" });
    // Nothing of the model's reached db1; host facts were gathered for web1 only.
    expect(audit(h).filter((x) => x.server === "db1")).toEqual([]);
    expect(aiPairs(h, "intent")).toEqual(["web1 exec uname -n"]);
    const system = (ai.chats()[0].body!.messages as { role: string; content: string }[])[0].content;
    expect(system).toMatch(/connected to the server "web1" only/);
    expect(system).toMatch(/Host facts[\s\S]*web1: /);
  });

  it("host facts: gathered read-only through the gate once, then cached (a second session asks nothing)", async () => {
    const h = home();
    const factsRecords = () => audit(h).filter((x) => x.actor === "opsterm:host-facts");
    ai.enqueue(ai.stream(["first"]));
    expect((await run(["agent", "--on", "web1", "x"], h)).code).toBe(0);
    const first = factsRecords();
    const commands = first.filter((x) => x.phase === "intent").map((x) => x.args.command);
    expect(commands).toHaveLength(4);
    expect(commands).toEqual(expect.arrayContaining(["cat /etc/os-release", "cat /proc/1/comm", "uname -srm", expect.stringMatching(/^which apt-get dnf/)]));
    expect(first.every((x) => x.action === "exec" && (x as unknown as { decision: string }).decision === "auto-allow")).toBe(true);
    const system = (ai.chats()[0].body!.messages as { content: string }[])[0].content;
    expect(system).toMatch(new RegExp(`web1: .*kernel ${spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim().replace(/[.+]/g, "\\$&")}`));
    ai.reset();
    ai.enqueue(ai.stream(["second"]));
    expect((await run(["agent", "--on", "web1", "x"], h)).code).toBe(0);
    expect(factsRecords()).toHaveLength(first.length);
    expect((ai.chats()[0].body!.messages as { content: string }[])[0].content).toMatch(/Host facts[\s\S]*web1: /);
    const cache = JSON.parse(readFileSync(join(h.home, "agent", "host-facts.json"), "utf8"));
    expect(Object.keys(cache)).toEqual([expect.stringMatching(/^web1@\S+@127\.0\.0\.1:\d+$/)]);
  });

  it("the user's ai.system_prompt (the original OpsTerm's key) follows opsterm's own instructions", async () => {
    const h = home();
    const configPath = join(h.home, "config.yaml");
    const existing = existsSync(configPath) ? readFileSync(configPath, "utf8") : "";
    writeFileSync(configPath, `${existing}\nai:\n  system_prompt: "Answer in French, please."\n`, { mode: 0o600 });
    ai.enqueue(ai.stream(["fait"]));
    const r = await run(["agent", "--on", "web1", "x"], h);
    expect(r.code, r.stderr).toBe(0);
    const system = (ai.chats()[0].body!.messages as { content: string }[])[0].content;
    expect(system).toMatch(/^You are opsterm's operations agent/);
    expect(system).toContain("The person's own instructions (from their config):\nAnswer in French, please.");
  });

  it("agent --on with several servers refuses a call to any other", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server(), web2: sshd.server(), db1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    homes.push(h);
    ai.enqueue(ai.toolCalls([{ name: "remote_exec", args: { server: "db1", command: "uname -n" } }, { name: "remote_exec", args: { server: "web2", command: "uname -n" } }]), ai.stream(["done"]));
    const r = await run(["agent", "--on", "web1,web2", "--json", "x"], h);
    expect(r.code).toBe(0);
    expect(toolResults().map((t) => t.status)).toEqual(["error", "ok"]);
    expect(toolResults()[0].error.code).toBe("E_AGENT_SERVER");
    expect(aiPairs(h, "intent")).toEqual(["web2 exec uname -n"]);
  });
});

describe("chat", () => {
  it("several turns from stdin, slash commands, a saved 0600 conversation that --continue resumes", async () => {
    const h = home();
    ai.enqueue(ai.stream(["Hello."]), ai.toolCalls([{ name: "remote_exec", args: { server: "web1", command: "uname -n" } }]), ai.stream(["It is up."]));
    const r = await run(["chat"], h, "hi\n/servers\nis web1 up?\n/save\n/exit\nnever sent\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Hello.\nIt is up.\n");
    expect(r.stderr).toMatch(/^web1 {2}\S+@127\.0\.0\.1:\d+ {2}@web/m);
    expect(r.stderr).toMatch(/saved .*agent\/conversations\/[0-9a-f-]{36}\.json/);
    expect(ai.chats()).toHaveLength(3);
    const dir = join(h.home, "data", "agent", "conversations");
    const files = existsSync(dir) ? readdirSync(dir) : readdirSync(join(h.home, "agent", "conversations"));
    expect(files).toHaveLength(1);
    const path = existsSync(dir) ? join(dir, files[0]) : join(h.home, "agent", "conversations", files[0]);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    ai.reset();
    ai.enqueue(ai.stream(["Still up."]));
    const again = await run(["chat", "--continue"], h, "and now?\n");
    expect(again.code).toBe(0);
    const sent = ai.chats()[0].body!.messages as { role: string; content: string; tool_calls?: unknown[] }[];
    expect(sent.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["hi", "is web1 up?", "and now?"]);
    expect(sent.some((m) => m.role === "assistant" && m.tool_calls?.length)).toBe(true);
    expect(sent.filter((m) => m.role === "tool")).toHaveLength(1);
  });

  it("/undo puts the session's last file write back through opsterm undo's service (itself audited)", async () => {
    const h = home();
    const file = join(scratch, "undo-me.conf");
    writeFileSync(file, "port = 80\n");
    ai.enqueue(ai.toolCalls([{ name: "remote_write_file", args: { server: "web1", path: file, content: "port = 8080\n" } }]), ai.stream(["Changed."]));
    const r = await run(["chat", "--yes"], h, "change the port\n/undo\n/undo\n/exit\n");
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("port = 80\n");
    expect(r.stderr).toMatch(/undone web1:\S*undo-me\.conf/);
    expect(r.stderr).toMatch(/Nothing to undo/);
    const writes = audit(h).filter((x) => x.action === "write" && x.phase === "intent" && x.args.path === file);
    expect(writes).toHaveLength(2);
  });
});
