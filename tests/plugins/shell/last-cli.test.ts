/**
 * `opsterm last`, `opsterm explain-last` and `opsterm init` through the real CLI dispatch, with
 * state files as the hooks write them and a real chat-completions server on 127.0.0.1.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import { STATE_END, STATE_MAGIC } from "../../../plugins/shell/scripts.ts";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { runInProcess, tempDir } from "../../helpers/run-cli.ts";

const KEY = "sk-opsterm-shell-test-KEY-0a1b2c3d4e5f6a7b8c9d";
const AWS = "AKIAIOSFODNN7EXAMPLE";
let ai: FakeAi;
let home: string;

beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => {
  ai.reset();
  home = tempDir("opsterm-shell-");
});

/** Writes `<pid>.last` (and the `latest` pointer) the way the shell hooks do. */
function writeState(pid: number, f: { status?: number; pipe?: string; start?: string; end?: string; dur?: string; cwd?: string; command?: string; flags?: string; pointer?: boolean } = {}): void {
  const dir = join(home, "shell");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fields = [String(f.status ?? 0), f.pipe ?? String(f.status ?? 0), f.start ?? "1700000000.250000", f.end ?? "1700000001.500000", f.dur ?? "", "bash", String(pid), "", "", "1", f.flags ?? "", f.cwd ?? "/srv/app", f.command ?? "make"];
  writeFileSync(join(dir, `${pid}.last`), [STATE_MAGIC, ...fields, STATE_END].join("\0"), { mode: 0o600 });
  if (f.pointer !== false) writeFileSync(join(dir, "latest"), String(pid), { mode: 0o600 });
}

const env = (extra: Record<string, string> = {}) => ({ OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_API_KEY: KEY, OPSTERM_MODEL: "fake-model", NO_COLOR: "1", ...extra });
const run = (argv: string[], extra: Record<string, string> = {}, plugins = BUILTIN_PLUGINS) => runInProcess(argv, { home, env: env(extra), plugins });

describe("opsterm last", () => {
  it("prints the record as JSON: command, exit status, pipeline, cwd, start and duration", async () => {
    writeState(4242, { status: 3, pipe: "0 3", command: "grep -r 'x\ty' .\n| wc -l" });
    const r = await run(["last", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      command: "grep -r 'x\ty' .\n| wc -l",
      exitCode: 3,
      pipeStatus: [0, 3],
      cwd: "/srv/app",
      startedAt: "2023-11-14T22:13:20.250Z",
      durationMs: 1250,
      shell: "bash",
      pid: 4242,
      hidden: false,
      captured: false,
      output: null,
    });
  });

  it("prefers this shell's own record (OPSTERM_SHELL_SESSION) over the latest pointer", async () => {
    writeState(100, { command: "mine" });
    writeState(200, { command: "other shell" });
    expect(JSON.parse((await run(["last", "--json"])).stdout).command).toBe("other shell");
    expect(JSON.parse((await run(["last", "--json"], { OPSTERM_SHELL_SESSION: "100" })).stdout).command).toBe("mine");
  });

  it("shows the capture wrapper's output, last --lines only, without escape sequences", async () => {
    writeState(7, { status: 1, flags: "captured", command: "oc make" });
    writeFileSync(join(home, "shell", "7.out"), "line1\n\x1b[31merror:\x1b[0m boom\r\nline3\n", { mode: 0o600 });
    const r = await run(["last", "--lines", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("command  oc make\nstatus   exit 1\ncwd      /srv/app");
    expect(r.stdout).toContain("output   (capture wrapper, last 2 lines)\nerror: boom\nline3\n");
    expect(r.stdout).not.toContain("\x1b");
  });

  it("exits 78 with how to install the integration when nothing was recorded", async () => {
    const r = await run(["last"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("E_SHELL_NOTHING_RECORDED");
    expect(r.stderr).toContain('eval "$(opsterm init bash)"');
    const inShell = await run(["last"], { OPSTERM_SHELL_SESSION: "999" });
    expect(inShell.code).toBe(78);
    expect(inShell.stderr).toContain("No command has finished in this shell");
  });

  it("rejects a bad --lines with exit 2", async () => {
    writeState(1);
    const r = await run(["last", "--lines", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("E_SHELL_LINES");
  });
});

describe("opsterm explain-last", () => {
  it("sends the command, status and output redacted, streams the answer and saves the suggested fix 0600", async () => {
    writeState(31, { status: 2, flags: "captured", command: `curl -H 'X-Key: ${AWS}' https://api.example.com` });
    writeFileSync(join(home, "shell", "31.out"), `curl: (6) Could not resolve host: api.example.com\nkey was ${AWS}\n`);
    ai.enqueue(ai.stream(["DNS failed. ", "Check resolv.conf:\n```sh\ncat /etc/resolv.conf\n```"]));
    const r = await run(["explain-last"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("DNS failed. Check resolv.conf:\n```sh\ncat /etc/resolv.conf\n```\n");
    const sent = ai.chats()[0];
    expect(sent.raw).not.toContain(AWS);
    expect(sent.raw).not.toContain(KEY);
    const user = sent.body?.messages?.at(-1)?.content ?? "";
    expect(user).toContain("curl -H 'X-Key: [REDACTED:aws-key-1]' https://api.example.com");
    expect(user).toContain("It exited with status 2");
    expect(user).toContain("Could not resolve host: api.example.com");
    expect(user).toContain("What happened and how do I fix it?");
    const suggestion = join(home, "shell", "suggestion");
    expect(readFileSync(suggestion, "utf8")).toBe("cat /etc/resolv.conf\n");
    expect(statSync(suggestion).mode & 0o777).toBe(0o600);
    expect(r.stderr).toContain("press Alt-o at your prompt");
    // Redacted once, by the chat service, which says how many values it replaced.
    expect(r.stderr).toContain("redacted 2 secret values before sending");
    expect(r.stderr).not.toContain(KEY);
  });

  it("--json gives the record, the answer and the suggestion; a hidden command's text is not sent", async () => {
    writeState(32, { status: 127, flags: "hidden", command: "" });
    ai.enqueue(ai.stream(["Command not found.\n```bash\n$ sudo apt install foo\n```"]));
    const r = await run(["explain-last", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ answer: "Command not found.\n```bash\n$ sudo apt install foo\n```", suggestion: "sudo apt install foo", truncated: false, last: { exitCode: 127, hidden: true } });
    expect(ai.chats()[0].body?.messages?.at(-1)?.content).toContain("The command line itself is private");
  });

  it("does not save a command the policy rejects for the key binding, and says so", async () => {
    writeState(35, { status: 1 });
    ai.enqueue(ai.stream(["Start over:\n```sh\nsudo rm -rf /\n```"]));
    const r = await run(["explain-last", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ suggestion: null });
    expect(() => readFileSync(join(home, "shell", "suggestion"))).toThrow();
    writeState(36, { status: 1 });
    ai.enqueue(ai.stream(["Start over:\n```sh\nsudo rm -rf /\n```"]));
    expect((await run(["explain-last"])).stderr).toContain("not saved for the key binding: the policy rejects it");
  });

  it("does not save a command from a truncated answer", async () => {
    writeState(33, { status: 1 });
    ai.enqueue(ai.stream(["Try:\n```sh\nrm -rf /tmp/cache\n```"], { finish: "length" }));
    const r = await run(["explain-last"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("cut off");
    expect(() => readFileSync(join(home, "shell", "suggestion"))).toThrow();
  });

  it("fails with exit 78 naming the chat plugin when it is not loaded", async () => {
    writeState(34, { status: 1 });
    const r = await run(["explain-last"], {}, BUILTIN_PLUGINS.filter((p) => p.name !== "chat"));
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("E_SHELL_NO_CHAT");
    expect(r.stderr).toContain("needs the chat plugin");
    expect(ai.chats()).toHaveLength(0);
  });

  it("exits 78 with the install hint and sends nothing when nothing was recorded", async () => {
    const r = await run(["explain-last"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("opsterm init");
    expect(ai.chats()).toHaveLength(0);
  });
});

describe("opsterm init", () => {
  it.each([
    { argv: ["init", "tcsh"], code: "E_SHELL_UNKNOWN" },
    { argv: ["init", "bash", "--key", "'; rm -rf ~; '"], code: "E_SHELL_KEY" },
    { argv: ["init", "zsh", "--capture-fn", "a;b"], code: "E_SHELL_FN" },
  ])("rejects $argv with exit 2 ($code)", async ({ argv, code }) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(code);
    expect(r.stdout).toBe("");
  });

  it("prints a script that binds $OPSTERM_INSERT_KEY and creates the state dir 0700", async () => {
    const r = await run(["init", "bash"], { OPSTERM_INSERT_KEY: "\\eg" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`bind -m emacs -x '"\\eg": __opsterm_insert'`);
    expect(r.stdout).toContain(`__opsterm_dir='${join(home, "shell")}'`);
    expect(statSync(join(home, "shell")).mode & 0o777).toBe(0o700);
    const none = await run(["init", "fish", "--key", "none", "--capture-fn", "none"]);
    expect(none.stdout).not.toContain("__opsterm_insert");
    expect(none.stdout).not.toMatch(/^\s*function oc\b/m);
  });
});
