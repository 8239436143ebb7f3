/**
 * The everyday rough edges of issue 15, each tried on the built binary the way a user trips on it.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nearCommand } from "../../src/cli/not-a-question.ts";
import { ERROR_CODES } from "../../src/kernel/error-codes.ts";
import { EXIT } from "../../src/kernel/exit-codes.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";
import { STATE_END, STATE_MAGIC } from "../../plugins/shell/scripts.ts";
import { opsterm, opstermAsync, repoRoot, requireBuilt, run, tempDir } from "../helpers/binary.ts";
import { runOnTty } from "../helpers/pty.ts";

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());

describe("words that are not what they look like", () => {
  const home = tempDir("opsterm-edges-");

  it("`exec web1 ls -la` without `--` says to put the command after `--`, with the fixed line", () => {
    const r = opsterm(["exec", "web1", "ls", "-la"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exec: "-la" is not an option of opsterm exec; put the command after "--"');
    expect(r.stderr).toContain("hint  Run: opsterm exec web1 -- ls -la");
    expect(r.stderr).toContain("E_OPTION_BEFORE_DASHDASH");
  });

  it("a misspelt option of exec itself stays an unknown-option error", () => {
    const r = opsterm(["exec", "web1", "--paralel", "3"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown option "--paralel"');
  });

  it("`opsterm hi` is a greeting for the AI, not \"did you mean history?\"", async () => {
    ai.enqueue(ai.stream(["Hello there"]));
    const r = await opstermAsync(["hi"], { home, env: { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" } });
    expect(r.stderr).not.toContain("did you mean");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Hello there");
  });

  it("`opsterm get the size of /var` points at `opsterm ask`", () => {
    const r = opsterm(["get", "the", "size", "of", "/var"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('To ask the AI, run: opsterm ask "get the size of /var"');
  });

  it("a typo of a command gets \"did you mean\" and is never sent to the AI when stdin is not a terminal", async () => {
    const before = ai.requests.length;
    const one = opsterm(["hist"], { home, env: { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" } });
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('Unknown command "hist", did you mean "history"?');
    const line = await opstermAsync(["sevrers", "list"], { home, env: { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" } });
    expect(line.code).toBe(2);
    expect(line.stderr).toContain('Unknown command "sevrers", did you mean "servers"?');
    expect(line.stderr).toContain('opsterm ask "sevrers list"');
    expect(ai.requests.length).toBe(before);
  });

  it("nearCommand: one edit for short words, two from five letters, prefixes only when most of the name", () => {
    const names = ["history", "servers", "doctor", "exec", "get", "ssh", "last"];
    expect(nearCommand("hi", names)).toBeUndefined();
    expect(nearCommand("hist", names)).toBe("history");
    expect(nearCommand("sevrers", names)).toBe("servers");
    expect(nearCommand("docter", names)).toBe("doctor");
    expect(nearCommand("exce", names)).toBe("exec"); // a transposition is one edit
    expect(nearCommand("exam", names)).toBeUndefined(); // two edits in a four-letter word
    expect(nearCommand("list", names)).toBeUndefined(); // an English word one letter from "last"
    expect(nearCommand("why", names)).toBeUndefined();
  });
});

describe("settings and options", () => {
  it("`config set --unset KEY` on an absent section is a no-op that says so, not \"a bug in opsterm\"", () => {
    const home = tempDir("opsterm-edges-");
    const r = opsterm(["config", "set", "--unset", "providers.foo.baseUrl"], { home });
    expect(r.stderr).not.toMatch(/bug in opsterm|E_INTERNAL/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("providers.foo.baseUrl was not set");
    expect(opsterm(["config", "set", "ai.model", "m1"], { home }).code).toBe(0);
    const json = opsterm(["config", "set", "--unset", "ai.temperature", "--json"], { home });
    expect(JSON.parse(json.stdout)).toMatchObject({ key: "ai.temperature", changed: false });
    const really = opsterm(["config", "set", "--unset", "ai.model", "--json"], { home });
    expect(JSON.parse(really.stdout)).toMatchObject({ key: "ai.model", changed: true });
  });

  it("`history --mode bogus` is a usage error (exit 2) naming the modes", () => {
    const home = tempDir("opsterm-edges-");
    const r = opsterm(["history", "--mode", "bogus"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mode takes one of ask, .*exec.*, not "bogus"/);
    expect(opsterm(["history", "--mode", "exec"], { home }).code).toBe(0);
  });

  it("a provider URL that is not an http(s) URL is a config error (78) at once, with no retries", () => {
    const home = tempDir("opsterm-edges-");
    const started = Date.now();
    const env = opsterm(["ask", "hello"], { home, env: { OPSTERM_BASE_URL: "notaurl", OPSTERM_MODEL: "m" } });
    expect(env.code).toBe(78);
    expect(env.stderr).toContain('The provider URL "notaurl" (OPSTERM_BASE_URL) is not an http:// or https:// URL');
    expect(env.stderr).not.toContain("retry");
    expect(Date.now() - started).toBeLessThan(5000); // the retries alone took 3.5 s
    expect(opsterm(["config", "set", "providers.work.baseUrl", "ftp://example.org"], { home }).code).toBe(0);
    const cfg = opsterm(["ask", "hello"], { home });
    expect(cfg.code).toBe(78);
    expect(cfg.stderr).toContain("(providers.work.baseUrl)");
  });
});

describe("doctor", () => {
  it("checks that the provider answers (short timeout) and that every key file the inventory names exists", async () => {
    const home = tempDir("opsterm-edges-");
    writeFileSync(join(home, "id_present"), "key\n", { mode: 0o600 });
    writeFileSync(join(home, "servers.yaml"), `servers:\n  bastion: {host: 10.0.0.1, key: ${join(home, "id_present")}}\n  Web1: {host: 10.0.0.2, key: ${join(home, "id_gone")}, proxy: bastion}\n`);
    const up = await opstermAsync(["doctor", "--json"], { home, env: { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" } });
    const report = JSON.parse(up.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    const check = (r: typeof report, name: string) => r.checks.find((c) => c.name === name)!;
    expect(check(report, "ai answers")).toMatchObject({ status: "ok" });
    expect(ai.requests.at(-1)!.url).toBe("/v1/models");
    expect(check(report, "servers")).toMatchObject({ status: "fail" });
    expect(check(report, "servers").detail).toContain(`${join(home, "id_gone")} (Web1)`);
    expect(check(report, "servers").detail).not.toContain("id_present");
    expect(up.code).toBe(1);

    // A server that accepts the connection and never answers: a warning after the short timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as AddressInfo).port;
    writeFileSync(join(home, "id_gone"), "key\n", { mode: 0o600 });
    const started = Date.now();
    const down = await opstermAsync(["doctor", "--json"], { home, env: { OPSTERM_BASE_URL: `http://127.0.0.1:${port}/v1`, OPSTERM_MODEL: "m", OPSTERM_DOCTOR_TIMEOUT_MS: "700" } });
    silent.closeAllConnections();
    silent.close();
    const after = JSON.parse(down.stdout) as typeof report;
    expect(check(after, "ai answers")).toMatchObject({ status: "warn", detail: expect.stringContaining("no answer within 700 ms") });
    expect(check(after, "servers")).toMatchObject({ status: "ok" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe("the guides inside the binary", () => {
  it("`opsterm help topics` lists docs/*.md; `opsterm help TOPIC` prints the guide from the binary, not from disk", () => {
    const home = tempDir("opsterm-edges-");
    const topics = opsterm(["help", "topics", "--json"], { home });
    const names = (JSON.parse(topics.stdout) as { topics: { name: string }[] }).topics.map((t) => t.name);
    expect(names).toEqual(readdirSync(join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3)).sort());
    // The binary runs from a folder with no docs/ next to it.
    const ssh = opsterm(["help", "ssh"], { home, cwd: home, env: { NO_COLOR: "1" } });
    expect(ssh.code).toBe(0);
    expect(ssh.stdout.startsWith("# Servers, SSH, remote exec and fan-out\n")).toBe(true);
    expect(ssh.stdout).toContain('scp.md ("opsterm help scp")');
    expect(ssh.stdout).toContain("the command's options: opsterm ssh --help");
    const arch = opsterm(["help", "architecture"], { home, env: { NO_COLOR: "1" } });
    expect(arch.stdout.startsWith("# Architecture\n")).toBe(true);
    expect(arch.stdout).not.toContain("opsterm architecture --help");
    // Still command help for a command without a guide, and a question for anything else.
    expect(opsterm(["help", "exec"], { home }).stdout).toMatch(/^Usage: opsterm exec <target>/);
    // A misspelt topic gets "did you mean" and exit 2, never a trip to the AI.
    const typo = opsterm(["help", "polcy"], { home, env: { NO_COLOR: "1" } });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('No guide "polcy", did you mean "opsterm help policy"?');
    expect(typo.stderr).not.toContain("E_CHAT_NO_PROVIDER");
  });

  it("a hint that points at docs/X.md names `opsterm help X` instead", () => {
    const home = tempDir("opsterm-edges-");
    writeFileSync(join(home, "servers.yaml"), "- not a mapping\n");
    const r = opsterm(["servers", "list"], { home });
    expect(r.stderr).toContain('"opsterm help ssh"');
    expect(r.stderr).not.toContain("docs/ssh.md");
  });

  it("the build writes the man page dist/opsterm.1 with every command, the exit codes and the guides", () => {
    const page = readFileSync(join(repoRoot, "dist/opsterm.1"), "utf8");
    expect(page).toMatch(/^\.TH OPSTERM 1 /);
    const rendered = run("man", ["-l", "-"], { home: tempDir("opsterm-edges-"), input: page, env: { MANWIDTH: "120", MANPAGER: "cat", PAGER: "cat" } });
    expect(rendered.code).toBe(0);
    for (const cmd of ["opsterm exec <target>", "opsterm servers list", "opsterm policy check", "opsterm completion <shell>"]) expect(rendered.stdout).toContain(cmd);
    expect(rendered.stdout).toMatch(/EXIT STATUS[\s\S]*\b78\b/);
    expect(rendered.stdout).toMatch(/GUIDES[\s\S]*\bssh\b/);
    expect(rendered.stdout).not.toContain("__complete");
  });
});

describe("explain-last on a terminal", () => {
  it("renders the answer as markdown, as ask does (and leaves it raw when piped)", async () => {
    const home = tempDir("opsterm-edges-");
    const dir = join(home, "shell");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fields = ["2", "2", "1700000000.250000", "1700000001.500000", "", "bash", "41", "", "", "1", "", "/srv/app", "make"];
    writeFileSync(join(dir, "41.last"), [STATE_MAGIC, ...fields, STATE_END].join("\0"), { mode: 0o600 });
    writeFileSync(join(dir, "latest"), "41", { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, OPSTERM_HOME: home, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" };
    ai.enqueue(ai.stream(["# Why it failed\n", "- make found **no rule**\n", "- run `make -n`\n"]));
    const tty = await runOnTty(["explain-last"], env, [], { binary: requireBuilt() });
    expect(tty.code).toBe(0);
    expect(tty.output).toContain("Why it failed\r\n• make found no rule\r\n• run make -n\r\n");
    expect(tty.output).not.toContain("# Why");
    ai.enqueue(ai.stream(["# Why it failed\n", "- make found **no rule**\n"]));
    const piped = await opstermAsync(["explain-last"], { home, env });
    expect(piped.stdout).toBe("# Why it failed\n- make found **no rule**\n");
  });
});

describe("exit codes", () => {
  it("README's exit-code table is what the code uses: every EXIT value is documented and every documented code exists", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Exit codes"), readme.indexOf("## Development"));
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    // 141 (SIGPIPE, src/cli/run.ts) and 255 (status unknown, exitCodeFor) are not in EXIT.
    const used = [...new Set([...Object.values(EXIT), 141, 255])].sort((a, b) => a - b);
    expect(documented).toEqual(used);
    // Every code in the catalogue exits with a documented code.
    for (const [code, info] of Object.entries(ERROR_CODES)) for (const exit of [info.exit].flat()) expect(documented, code).toContain(exit);
  });

  it("bad YAML is 78 in every YAML file, as README says (config.yaml, servers.yaml), and the catalogue agrees", () => {
    for (const [file, argv] of [["config.yaml", ["config", "list"]], ["servers.yaml", ["servers", "list"]]] as const) {
      const home = tempDir("opsterm-edges-");
      writeFileSync(join(home, file), "a: [oops\n");
      const r = opsterm([...argv, "--json"], { home });
      expect({ file, code: r.code }).toEqual({ file, code: 78 });
      expect(JSON.parse(r.stderr.trim().split("\n").at(-1)!)).toMatchObject({ error: { code: "E_YAML_SYNTAX", exitCode: 78 } });
    }
    expect([ERROR_CODES.E_YAML_SYNTAX.exit].flat()[0]).toBe(78);
    const table = readFileSync(join(repoRoot, "README.md"), "utf8");
    expect(table).toMatch(/^\| 78 \| .*bad YAML in a settings file is always 78/m);
    expect(table).not.toMatch(/^\| 65 \| .*YAML/m);
  });
});
