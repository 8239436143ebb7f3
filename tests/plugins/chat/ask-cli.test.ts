import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { definePlugin, type OpstermPlugin } from "../../../src/kernel/index.ts";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { runInProcess, tempDir, writeTree } from "../../helpers/run-cli.ts";

const KEY = "sk-opsterm-test-KEY-9f8e7d6c5b4a39281706";
const AWS = "AKIAIOSFODNN7EXAMPLE";
let ai: FakeAi;
let home: string;

beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => {
  ai.reset();
  home = tempDir("opsterm-chat-");
});

const env = () => ({ OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_API_KEY: KEY, OPSTERM_MODEL: "fake-model", NO_COLOR: "1", OPSTERM_TEST_BACKOFF_MS: "5" });
const run = (argv: string[], options: { stdin?: string; plugins?: OpstermPlugin[]; env?: Record<string, string> } = {}) =>
  runInProcess(argv, { home, env: { ...env(), ...options.env }, stdin: options.stdin, plugins: options.plugins });

function noKey(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(KEY);
}

describe("opsterm <question…> (default command)", () => {
  it("streams the answer to stdout and sends system prompt + question with the bearer key", async () => {
    ai.enqueue(ai.stream(["The disk ", "is full ", "because of logs."]));
    const r = await run(["why", "is", "the", "disk", "full?"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("The disk is full because of logs.\n");
    const sent = ai.chats()[0];
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body?.model).toBe("fake-model");
    expect(sent.body?.messages?.[0]).toMatchObject({ role: "system" });
    expect(sent.body?.messages?.[0].content).toContain("fenced code block");
    expect(sent.body?.messages?.at(-1)).toEqual({ role: "user", content: "why is the disk full?" });
    noKey(r.stdout, r.stderr, sent.raw);
  });

  it("ask --no-stream --json prints one JSON document with the extracted commands", async () => {
    ai.enqueue(ai.answer("Run this:\n```bash\ndf -h /var\n```\n"));
    const r = await run(["ask", "--no-stream", "--json", "disk?"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ provider: "env", model: "fake-model", finishReason: "stop", truncated: false, commands: ["df -h /var"] });
    expect(ai.chats()[0].body?.stream).toBe(false);
  });

  it("redacts secrets and the provider's own key before they leave, and says so on stderr", async () => {
    ai.enqueue(ai.stream(["noted"]));
    const r = await run(["my", "key", "is", AWS, "and", KEY, "and", "PGPASSWORD=hunter2hunter2", "psql"]);
    expect(r.code).toBe(0);
    const raw = ai.chats()[0].raw;
    expect(raw).not.toContain(AWS);
    expect(raw).not.toContain("hunter2hunter2");
    expect(raw).toMatch(/\[REDACTED:aws-key-1\]/);
    expect(r.stderr).toMatch(/redacted [2-9] secret values/);
    noKey(raw, r.stdout, r.stderr);
  });

  it("--allow-secrets sends other secrets as they are, but never the provider key", async () => {
    ai.enqueue(ai.stream(["ok"]));
    const r = await run(["--allow-secrets", "check", AWS, KEY], { stdin: "" });
    expect(r.code).toBe(0);
    expect(ai.chats()[0].raw).toContain(AWS);
    noKey(ai.chats()[0].raw);
  });

  it("saves the last conversation redacted, also after --allow-secrets and when the answer repeats a secret", async () => {
    ai.enqueue(ai.stream(["rotate ", AWS, " now"]));
    const r = await run(["--allow-secrets", "is", AWS, "leaked?"], { stdin: "" });
    expect(r.code).toBe(0);
    expect(ai.chats()[0].raw).toContain(AWS);
    const saved = readFileSync(join(home, "chat", "last-conversation.json"), "utf8");
    expect(saved).not.toContain(AWS);
    expect(saved).toContain("rotate [REDACTED:aws-key-1] now");
  });

  it("runs chatRequest hooks (which may rewrite) and redacts what they add; chatResponse sees the answer", async () => {
    const seen: string[] = [];
    const probe = definePlugin({
      name: "probe",
      apiVersion: 1,
      hooks: {
        secretValues: () => ["vault-value-0xDEADBEEF"],
        chatRequest: (req) => ({ ...req, messages: [...req.messages, { role: "user", content: "context: token vault-value-0xDEADBEEF" }] }),
        chatResponse: (res) => void seen.push(res.content),
      },
    });
    ai.enqueue(ai.stream(["fine"]));
    const r = await run(["hello"], { plugins: [...BUILTIN_PLUGINS, probe] });
    expect(r.code).toBe(0);
    const messages = ai.chats()[0].body?.messages ?? [];
    expect(messages.at(-1)?.content).toMatch(/^context: token \[REDACTED:[a-z-]+-1\]$/);
    expect(ai.chats()[0].raw).not.toContain("0xDEADBEEF");
    expect(seen).toEqual(["fine"]);
  });

  it("-c continues the last conversation", async () => {
    ai.enqueue(ai.stream(["Use du."]), ai.stream(["Add -h."]));
    expect((await run(["how", "to", "see", "dir", "sizes"])).code).toBe(0);
    const r = await run(["ask", "-c", "human", "readable?"]);
    expect(r.code).toBe(0);
    const roles = ai.chats()[1].body?.messages?.map((m) => `${m.role}:${m.content}`);
    expect(roles?.slice(1)).toEqual(["user:how to see dir sizes", "assistant:Use du.", "user:human readable?"]);
    expect(statSync(join(home, "chat", "last-conversation.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, "chat", "last-conversation.json"), "utf8")).toContain("Add -h.");
  });

  it("reports a truncated answer and does not offer its commands", async () => {
    ai.enqueue(ai.stream(["```bash\nsystemctl restart ng", "inx\n```"], { finish: "length" }));
    const r = await run(["ask", "--exec", "--json", "restart?"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ truncated: true, commands: [] });
    expect(r.stderr).toContain("cut off at the length limit");
  });

  it("an answer that stops without a finish reason fails with 'incomplete answer' (exit 69)", async () => {
    ai.enqueue(ai.stream(["```bash\nrm -rf /tmp/x\n```"], { finish: null, done: false }));
    const r = await run(["ask", "--exec", "clean?"]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("Incomplete answer");
    expect(r.stderr).not.toContain("Suggested command");
    expect(existsSync(join(home, "shell", "suggestion"))).toBe(false);
  });

  it("saves the first command the policy does not reject for the shell key binding (0600)", async () => {
    ai.enqueue(ai.stream(["Not this:\n```bash\nrm -rf /\n```\nThis:\n```bash\ndf -h /var\n```\n```bash\ndu -sh /var/log\n```\n"]));
    const r = await run(["ask", "--json", "disk?"], { env: { OPSTERM_SHELL_SESSION: "4242" } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ commands: ["rm -rf /", "df -h /var", "du -sh /var/log"], suggestion: "df -h /var" });
    const file = join(home, "shell", "suggestion");
    expect(readFileSync(file, "utf8")).toBe("df -h /var\n");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Plain output with the integration loaded says how to insert it.
    ai.enqueue(ai.stream(["```bash\nuptime\n```\n"]));
    const plain = await run(["load?"], { env: { OPSTERM_SHELL_SESSION: "4242" } });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain("suggested command saved; press Alt-o at your prompt");
    expect(readFileSync(file, "utf8")).toBe("uptime\n");
  });

  it("saves nothing from a truncated answer, and nothing when every command is rejected", async () => {
    ai.enqueue(ai.stream(["```bash\ndf -h\n```\n```bash\nsystemctl restart ng", "inx\n```"], { finish: "length" }));
    const cut = await run(["ask", "--json", "restart?"]);
    expect(JSON.parse(cut.stdout)).toMatchObject({ truncated: true, commands: [], suggestion: null });
    ai.enqueue(ai.stream(["```bash\nrm -rf /\n```\n"]));
    const rejected = await run(["ask", "--json", "wipe?"]);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ commands: ["rm -rf /"], suggestion: null });
    expect(existsSync(join(home, "shell", "suggestion"))).toBe(false);
  });

  it("a 401 whose body echoes the key exits 78 without showing the key", async () => {
    ai.enqueue({ kind: "json", status: 401, body: { error: { message: `Incorrect API key provided: ${KEY}.` } } });
    const r = await run(["say", "hi"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("E_CHAT_AUTH");
    noKey(r.stdout, r.stderr);
  });

  it("insufficient_quota is not retried and says what to do", async () => {
    ai.enqueue({ kind: "json", status: 429, body: { error: { message: "You exceeded your current quota", code: "insufficient_quota" } } });
    const r = await run(["say", "hi"]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("out of quota");
    expect(ai.chats()).toHaveLength(1);
  });
});

describe("pipe mode", () => {
  it("cmd | opsterm with no question asks for a summary of the input", async () => {
    ai.enqueue(ai.stream(["Summary."]));
    const r = await run([], { stdin: "\x1b[31mERROR\x1b[0m disk full on /var\nWARN retrying\n" });
    expect(r.code).toBe(0);
    const content = ai.chats()[0].body?.messages?.at(-1)?.content ?? "";
    expect(content).toMatch(/^Summarise this input/);
    expect(content).toContain("<input>\nERROR disk full on /var\nWARN retrying\n");
    expect(content).not.toContain("\x1b");
    // Recorded as a pipe-mode entry, with the input in the question.
    const history = await runInProcess(["history", "--mode", "pipe", "--json"], { home, env: { NO_COLOR: "1" } });
    const entries = JSON.parse(history.stdout).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ mode: "pipe", kind: "message", output: "Summary.", model: "fake-model" });
    expect(entries[0].input).toContain("ERROR disk full on /var");
  });

  it("cmd | opsterm question puts the question first, then the input", async () => {
    ai.enqueue(ai.stream(["Because."]));
    const r = await run(["why", "does", "nginx", "fail"], { stdin: "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n" });
    expect(r.code).toBe(0);
    const content = ai.chats()[0].body?.messages?.at(-1)?.content ?? "";
    expect(content.startsWith("why does nginx fail\n\nInput")).toBe(true);
    expect(content).toContain("Address already in use");
  });

  it("empty stdin and no question is a usage error, with no request sent", async () => {
    const r = await run([], { stdin: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("E_CHAT_NO_QUESTION");
    expect(ai.chats()).toHaveLength(0);
  });

  it("says what it waits for when stdin stays open and silent, then uses what arrives (spawned CLI)", async () => {
    ai.enqueue(ai.stream(["Late input seen."]));
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "what", "is", "this"], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: home, OPSTERM_HOME: home, ...env() },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes("waiting for input on stdin") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain("pass --no-stdin");
    expect(ai.chats()).toHaveLength(0);
    child.stdin.end("late log line\n");
    expect(await closed).toBe(0);
    expect(stdout).toBe("Late input seen.\n");
    expect(ai.chats()[0].body?.messages?.at(-1)?.content).toContain("<input>\nlate log line\n");
  }, 30_000);

  it("input over the byte cap is sent head + tail with a marker and a stderr warning", async () => {
    writeTree(home, { "config.yaml": "chat:\n  maxInputBytes: 2048\n" });
    ai.enqueue(ai.stream(["ok"]));
    const r = await run(["what", "happened"], { stdin: "FIRST LINE\n" + "noise\n".repeat(5000) + "LAST LINE\n" });
    expect(r.code).toBe(0);
    const content = ai.chats()[0].body?.messages?.at(-1)?.content ?? "";
    expect(content).toContain("FIRST LINE");
    expect(content).toContain("LAST LINE");
    expect(content).toMatch(/\[… opsterm: [\d.]+ KiB of input omitted here …\]/);
    expect(content.length).toBeLessThan(3000);
    expect(r.stderr).toContain("warning: piped input is");
  });

  it("a 1 GB stream on stdin is not read into memory: peak RSS stays within 40 MiB of a tiny input's (spawned CLI)", async () => {
    writeTree(home, { "config.yaml": "chat:\n  maxInputBytes: 65536\n" });
    ai.enqueue(ai.stream(["Small."]), ai.stream(["It is a repeated log line."]));
    const small = await pipeInto(["what", "is", "this"], 64 * 1024);
    expect(small.code).toBe(0);
    const big = await pipeInto(["what", "is", "this"], 1024 ** 3);
    expect(big.stderr).toContain("warning: piped input is longer than");
    expect(big.code).toBe(0);
    expect(big.stdout).toBe("It is a repeated log line.\n");
    // It stopped reading (the producer saw the pipe close) long before 1 GiB…
    expect(big.written).toBeLessThan(200 * 1024 * 1024);
    expect(big.written).toBeGreaterThan(16 * 1024 * 1024);
    // …and what it did read (tens of MiB) never stayed resident.
    expect(small.peakKiB).toBeGreaterThan(0);
    expect(big.peakKiB - small.peakKiB).toBeLessThan(40 * 1024);
    const content = ai.chats()[1].body?.messages?.at(-1)?.content ?? "";
    expect(content.length).toBeLessThan(70 * 1024);
    expect(content).toContain("stopped reading after");
    noKey(big.stdout, big.stderr);
  }, 60_000);
});

/** Spawns the CLI, offers `total` bytes of log lines on stdin as fast as it reads, samples its peak RSS (VmHWM). */
async function pipeInto(args: string[], total: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: home, OPSTERM_HOME: home, ...env() },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  const line = Buffer.from("Jan 01 host app[1]: request served in 3 ms\n".repeat(1500));
  let written = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  child.stdin.on("error", stop);
  child.stdin.on("close", stop);
  child.stdin.on("drain", () => wake?.());
  void (async () => {
    while (!stopped && written < total) {
      const piece = total - written < line.length ? line.subarray(0, total - written) : line;
      written += piece.length;
      if (!child.stdin.write(piece)) await new Promise<void>((resolve) => (wake = resolve));
    }
    if (!stopped) child.stdin.end();
  })();
  let peakKiB = 0;
  const sampler = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      // exited between two samples
    }
  }, 10);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearInterval(sampler);
  stop();
  return { code, stdout, stderr, written, peakKiB };
}

describe("providers", () => {
  it("with nothing configured and no local server, one message says how to configure (exit 78)", async () => {
    for (const argv of [["how", "are", "you"], ["provider", "test"], ["provider", "models"]]) {
      const r = await runInProcess(argv, { home, env: { NO_COLOR: "1" }, stdin: "" });
      expect(r.code, argv.join(" ")).toBe(78);
      expect(r.stderr.match(/^error /gm), argv.join(" ")).toHaveLength(1);
      expect(r.stderr).toContain("No AI provider is configured and no local server (ollama, llama.cpp) answers (E_CHAT_NO_PROVIDER)");
      expect(r.stderr).toContain("opsterm config set providers.openai.apiKeyEnv");
    }
    // Listing still works, and says there is no default.
    const list = await runInProcess(["provider", "list"], { home, env: { NO_COLOR: "1" } });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("No default: set chat.provider");
  });

  it("provider list / models / test work against a configured provider; config get/set knows the keys", async () => {
    writeTree(home, { "config.yaml": `providers:\n  fake:\n    baseUrl: ${ai.baseUrl}\n    model: fake-small\n    apiKeyCmd: [printf, "%s", "${KEY}"]\nchat:\n  provider: fake\n` });
    const plain = { NO_COLOR: "1" };
    const list = await runInProcess(["provider", "list", "--json"], { home, env: plain });
    expect(list.code).toBe(0);
    const doc = JSON.parse(list.stdout);
    expect(doc.default).toBe("fake");
    expect(doc.providers.find((p: { name: string }) => p.name === "fake")).toMatchObject({ keySource: "command printf", model: "fake-small" });
    expect(doc.providers.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["openai", "deepseek", "openrouter", "groq", "ollama", "llamacpp"]));
    const models = await runInProcess(["provider", "models"], { home, env: plain });
    expect(models.stdout).toContain("fake-small (configured)");
    expect(ai.requests.find((r) => r.url.endsWith("/models"))?.headers.authorization).toBe(`Bearer ${KEY}`);
    ai.enqueue(ai.stream(["pong"]));
    const test = await runInProcess(["provider", "test"], { home, env: plain });
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^ok fake .* answered in \d+ ms: "pong"/);
    const set = await runInProcess(["config", "set", "ai.model", "gpt-4o-mini"], { home, env: plain });
    expect(set.code).toBe(0);
    const get = await runInProcess(["config", "get", "providers.fake.model"], { home, env: plain });
    expect(get.stdout.trim()).toBe("fake-small");
    noKey(list.stdout, models.stdout, test.stdout, test.stderr);
  });

  it("an unknown --provider is a config error with a suggestion", async () => {
    const r = await run(["ask", "--provider", "opneai", "say", "hi"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('did you mean "openai"');
  });
});
