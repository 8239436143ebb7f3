import { describe, expect, it } from "vitest";
import { definePlugin } from "../../src/kernel/index.ts";
import { corePlugin } from "../../src/cli/core-plugin.ts";
import { runInProcess, tempDir } from "../helpers/run-cli.ts";

const probe = definePlugin({
  name: "probe",
  apiVersion: 1,
  commands: [
    {
      name: "probe run",
      description: "Echo parsed arguments as JSON",
      usage: "<target> [rest...]",
      options: [
        { flags: "-p, --parallel <n>", description: "How many at once", default: 4 },
        { flags: "--yes", description: "Approve" },
      ],
      action: (args, ctx) => void ctx.io.out(JSON.stringify(args)),
    },
    { name: "probe paint", description: "Prints in colour", groupDescription: "Probe the dispatcher", action: (_a, ctx) => void ctx.io.out(ctx.io.style.red("red")) },
  ],
});

const run = (argv: string[], env?: Record<string, string>) => runInProcess(argv, { home: tempDir(), plugins: [corePlugin, probe], env });

describe("CLI dispatch", () => {
  it("resolves a group action and parses positionals, options and `--`", async () => {
    const r = await run(["probe", "run", "web*", "a", "--parallel", "8", "--yes", "--", "ls", "-la"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ target: "web*", rest: ["a"], parallel: "8", yes: true, "--": ["ls", "-la"] });
  });

  it("accepts global flags before the command", async () => {
    const r = await run(["--json", "--no-color", "probe", "run", "x"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).target).toBe("x");
  });

  it.each([
    { argv: ["docter"], message: 'Unknown command "docter", did you mean "doctor"?' },
    { argv: ["probe", "rnu"], message: 'Unknown action "rnu" for "probe", did you mean "probe run"?' },
    { argv: ["probe", "run"], message: "probe run: missing argument: opsterm probe run <target> [rest...]" },
    { argv: ["probe", "run", "x", "--paralel", "2"], message: 'Unknown option "--paralel"' },
    { argv: ["completion", "tcsh"], message: 'No completion for shell "tcsh"' },
  ])("exits 2 with a one-line error for $argv", async ({ argv, message }) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/hint /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("shows a group's actions for a bare group (exit 2) and with --help (exit 0)", async () => {
    const bare = await run(["probe"]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/Actions:\n\s+paint\s+Prints in colour\n\s+run <target> \[rest\.\.\.\]/);
    expect((await run(["probe", "--help"])).code).toBe(0);
  });

  it("describes a group in the main help by the line one of its actions declares", async () => {
    const r = await run(["--help"]);
    expect(r.stdout).toMatch(/probe <paint\|run>\s+Probe the dispatcher/);
    expect(r.stdout).toMatch(/plugin <add\|list\|remove>\s+Add, list and remove user plugins/);
  });

  it("shows per-command help with options, defaults and global options", async () => {
    const r = await run(["probe", "run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: opsterm probe run <target> [rest...] [options]");
    expect(r.stdout).toMatch(/-p, --parallel <n>\s+How many at once \(default: 4\)/);
    expect(r.stdout).toContain("--no-color");
  });

  it("`help [command]` is --help when it names a command, and a question for the default command otherwise", async () => {
    const asker = definePlugin({
      name: "asker",
      apiVersion: 1,
      commands: [{ name: "ask", isDefault: true, description: "Ask", usage: "[question...]", action: (a, ctx) => void ctx.io.out(`asked: ${(a.question as string[]).join(" ")}`) }],
    });
    const go = (argv: string[]) => runInProcess(argv, { home: tempDir(), plugins: [corePlugin, probe, asker] });
    const main = await go(["help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^Usage:/m);
    expect(main.stdout).toContain("Global options:");
    const cmd = await go(["help", "probe", "run"]);
    expect(cmd.code).toBe(0);
    expect(cmd.stdout).toContain("Usage: opsterm probe run <target> [rest...] [options]");
    expect((await go(["help", "probe"])).stdout).toMatch(/Actions:\n\s+paint/);
    expect(await go(["help", "me", "read", "this"])).toMatchObject({ code: 0, stdout: "asked: help me read this\n" });
  });

  it("prints the version with --version and -v, JSON with --json", async () => {
    expect((await run(["--version"])).stdout).toMatch(/^opsterm \S+\n$/);
    expect((await run(["-v"])).code).toBe(0);
    expect(JSON.parse((await run(["--version", "--json"])).stdout)).toHaveProperty("version");
  });

  it("colours only when asked: NO_COLOR and --no-color win over FORCE_COLOR", async () => {
    expect((await run(["probe", "paint"], { FORCE_COLOR: "1" })).stdout).toBe("\x1b[31mred\x1b[39m\n");
    expect((await run(["probe", "paint"], { FORCE_COLOR: "1", NO_COLOR: "1" })).stdout).toBe("red\n");
    expect((await run(["probe", "paint", "--no-color"], { FORCE_COLOR: "1" })).stdout).toBe("red\n");
    expect((await run(["probe", "paint"])).stdout).toBe("red\n");
  });

  it("reports errors as JSON on stderr with --json", async () => {
    const r = await run(["docter", "--json"]);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: "E_UNKNOWN_COMMAND", exitCode: 2 } });
  });

  it("--debug reports each plugin's setup time on stderr, and nothing without it", async () => {
    const r = await run(["--help", "--debug"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^debug: plugin probe: set up in \d+\.\d\d ms$/m);
    expect((await run(["--help"])).stderr).toBe("");
  });

  it("shows a stack for unexpected errors only with --debug", async () => {
    const crashy = definePlugin({ name: "crashy", apiVersion: 1, commands: [{ name: "crash", description: "", action: () => { throw new TypeError("oops"); } }] });
    const home = tempDir();
    const plain = await runInProcess(["crash"], { home, plugins: [corePlugin, crashy] });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("error oops (E_INTERNAL)");
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runInProcess(["crash", "--debug"], { home, plugins: [corePlugin, crashy] });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("a built-in plugin that failed in setup: its commands and group word exit 69 naming the failure, not a question", async () => {
    const broken = definePlugin({
      name: "vaultish",
      apiVersion: 1,
      commands: [
        { name: "vaultish get", description: "Get", usage: "<name>", action: () => 0 },
        { name: "vaultish set", description: "Set", action: () => 0 },
      ],
      setup: () => {
        throw new Error("cannot open the key file");
      },
    });
    const asker = definePlugin({ name: "asker", apiVersion: 1, commands: [{ name: "ask", isDefault: true, description: "Ask", usage: "[q...]", action: (_a, ctx) => void ctx.io.out("asked") }] });
    const go = (argv: string[]) => runInProcess(argv, { home: tempDir(), plugins: [corePlugin, broken, asker] });
    for (const argv of [["vaultish", "get", "db"], ["vaultish"]]) {
      const r = await go(argv);
      expect(r.code).toBe(69);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain('is unavailable: Plugin "vaultish" failed in setup: cannot open the key file');
    }
    expect((await go(["what", "is", "this"])).stdout).toBe("asked\n");
  });

  it("routes words and leading options to the default command, but treats a near-miss word as a typo", async () => {
    const asker = definePlugin({
      name: "asker",
      apiVersion: 1,
      commands: [{ name: "ask", isDefault: true, description: "Ask", usage: "[question...]", options: [{ flags: "-c, --continue", description: "Continue" }], action: (a, ctx) => void ctx.io.out(JSON.stringify({ q: a.question, c: a.continue ?? false })) }],
    });
    const go = (argv: string[]) => runInProcess(argv, { home: tempDir(), plugins: [corePlugin, asker] });
    expect(JSON.parse((await go(["why", "is", "nginx", "down"])).stdout)).toEqual({ q: ["why", "is", "nginx", "down"], c: false });
    expect(JSON.parse((await go(["-c", "and", "now?"])).stdout)).toEqual({ q: ["and", "now?"], c: true });
    expect(JSON.parse((await go([])).stdout)).toEqual({ q: [], c: false }); // piped stdin (not a TTY): pipe mode
    const typo = await go(["doctr"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "doctor"');
  });
});
