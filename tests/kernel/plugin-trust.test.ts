import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runInProcess, tempDir } from "../helpers/run-cli.ts";
import { corePlugin } from "../../src/cli/core-plugin.ts";

const fixture = (name: string) => join(import.meta.dirname, "..", "fixtures", "plugins", name, "index.mjs");

/** Copies a fixture plugin outside the repo, as a user's own file would be. */
function userPlugin(name: string): { path: string; home: string; run: (argv: string[], env?: Record<string, string>) => ReturnType<typeof runInProcess> } {
  const dir = tempDir("user-plugins-");
  const path = join(dir, `${name}.mjs`);
  cpSync(fixture(name), path);
  const home = tempDir();
  return { path, home, run: (argv, env) => runInProcess(argv, { home, cwd: tempDir("cwd-"), env }) };
}

describe("user plugins", () => {
  it("plugin add trusts a file by path and SHA-256; its command runs and shows in help and completions", async () => {
    const u = userPlugin("minimal");
    const added = await u.run(["plugin", "add", u.path, "--json"]);
    expect(added.code).toBe(0);
    const entry = JSON.parse(added.stdout);
    expect(entry).toMatchObject({ name: "hello", path: u.path, commands: ["hello"] });
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(u.home, "plugins.json")).mode & 0o777).toBe(0o600);

    expect(await u.run(["hello", "ops", "--shout"])).toMatchObject({ code: 0, stdout: "HELLO OPS FROM HELLO\n" });
    expect((await u.run(["--help"])).stdout).toMatch(/Plugin commands:\n\s+hello \[name\]\s+Say hello to someone/);
    expect((await u.run(["hello", "--help"])).stdout).toContain('Provided by plugin "hello"');
    expect((await u.run(["completion", "fish"])).stdout).toContain("-a 'hello' -d 'Say hello to someone'");
    expect((await u.run(["completion", "bash"])).stdout).toMatch(/hello\)/);
  });

  it("refuses a plugin whose file changed (exit 77, says how to re-trust) without running it; the rest still works", async () => {
    const u = userPlugin("writes-marker");
    const marker = join(u.home, "marker");
    expect((await u.run(["plugin", "add", u.path])).code).toBe(0);
    rmSync(marker, { force: true });
    appendFileSync(u.path, "\n// changed by someone\n");

    const refused = await u.run(["mark"], { OPSTERM_TEST_MARKER: marker });
    expect(refused.code).toBe(77);
    expect(refused.stderr).toContain(`changed since it was trusted`);
    expect(refused.stderr).toContain(`opsterm plugin add ${u.path}`);
    expect(existsSync(marker)).toBe(false);

    const doctor = await u.run(["doctor", "--json"], { OPSTERM_TEST_MARKER: marker });
    expect(JSON.parse(doctor.stdout).plugins).toContainEqual(expect.objectContaining({ name: "marker", status: "changed" }));
    expect((await u.run(["config", "path"])).code).toBe(0);
    expect(existsSync(marker)).toBe(false);

    const listed = await u.run(["plugin", "list", "--json"]);
    expect(JSON.parse(listed.stdout).plugins).toContainEqual(expect.objectContaining({ name: "marker", status: "changed" }));

    expect((await u.run(["plugin", "add", u.path])).code).toBe(0);
    expect(await u.run(["mark"])).toMatchObject({ code: 0, stdout: "marked\n" });
  });

  it("reports a plugin that throws in setup by name and keeps the CLI working", async () => {
    const u = userPlugin("throws-in-setup");
    expect((await u.run(["plugin", "add", u.path])).code).toBe(0);
    const r = await u.run(["config", "path"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Plugin "explodes" failed in setup: cannot reach the license server');
    const boom = await u.run(["boom"]);
    expect(boom.code).toBe(69);
    expect(boom.stderr).toContain('Command "boom" is unavailable: Plugin "explodes" failed in setup');
  });

  it("refuses to add a plugin with another API version, or a command that shadows a built-in", async () => {
    const future = userPlugin("wrong-api-version");
    const r = await future.run(["plugin", "add", future.path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"apiVersion" is 2, this opsterm speaks 1');
    expect(existsSync(join(future.home, "plugins.json"))).toBe(false);

    const sneaky = userPlugin("conflicting-command");
    const s = await sneaky.run(["plugin", "add", sneaky.path]);
    expect(s.code).toBe(65);
    expect(s.stderr).toContain('defines command "doctor", which "core" already has');
  });

  it("accepts a factory default export and surfaces its typed errors with hint and exit code", async () => {
    const u = userPlugin("factory");
    expect((await u.run(["plugin", "add", u.path])).code).toBe(0);
    const r = await u.run(["refuse"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("refused with exit 77");
    expect(r.stderr).toContain("hint  this is the hint");
  });

  it("a user plugin's group actions dispatch, show in help under its name, and complete in bash", async () => {
    const dir = tempDir("user-plugins-");
    const path = join(dir, "deployer.mjs");
    writeFileSync(
      path,
      `export default {
        name: "deployer", apiVersion: 1,
        commands: [
          { name: "deploy run", usage: "<app>", groupDescription: "Deploy apps", description: "Deploy one app", action(args, ctx) { ctx.io.out("deploying " + args.app) } },
          { name: "deploy status", description: "Show deploy status", options: [{ flags: "--watch", description: "Keep watching" }, { flags: "--json", description: "As JSON" }], action(args, ctx) { ctx.io.out("status") } },
        ],
      };\n`,
    );
    const home = tempDir();
    const run = (argv: string[]) => runInProcess(argv, { home, cwd: tempDir("cwd-") });
    expect((await run(["plugin", "add", path])).code).toBe(0);
    expect(await run(["deploy", "run", "shop"])).toMatchObject({ code: 0, stdout: "deploying shop\n" });
    expect((await run(["--help"])).stdout).toMatch(/Plugin commands:\n\s+deploy <run\|status>\s+Deploy apps \(plugin deployer\)/);
    const typo = await run(["deploy", "stauts"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "deploy status"');
    const bash = join(home, "opsterm.bash");
    writeFileSync(bash, (await run(["completion", "bash"])).stdout);
    const complete = (words: string[]) =>
      execFileSync("bash", ["-c", `source ${bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _opsterm; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(complete(["opsterm", "dep"])).toEqual(["deploy"]);
    expect(complete(["opsterm", "deploy", ""]).sort()).toEqual(["run", "status"]);
    expect(complete(["opsterm", "deploy", "status", "--w"])).toEqual(["--watch"]);
    expect(complete(["opsterm", "deploy", "status", "--j"])).toEqual(["--json"]); // a re-declared global flag, once

    // Changed file: the actions and the bare group word are refused (77), not run or asked about.
    appendFileSync(path, "// edited\n");
    for (const argv of [["deploy", "run", "shop"], ["deploy"]]) {
      const r = await run(argv);
      expect(r.code).toBe(77);
      expect(r.stderr).toContain(`opsterm plugin add ${path}`);
    }
  });

  it("plugin remove forgets the plugin and leaves its file alone; unknown names get a suggestion", async () => {
    const u = userPlugin("minimal");
    await u.run(["plugin", "add", u.path]);
    const typo = await u.run(["plugin", "remove", "helo"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "hello"');
    expect((await u.run(["plugin", "remove", "hello"])).code).toBe(0);
    expect(readFileSync(u.path, "utf8")).toContain("hello");
    // Without a default (chat) command, an unknown word is a usage error.
    expect((await runInProcess(["hello"], { home: u.home, plugins: [corePlugin] })).code).toBe(2);
  });
});
