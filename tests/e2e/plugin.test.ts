/**
 * A user plugin written OUTSIDE the repo, trusted with `plugin add`, run by the built binary from
 * another cwd; listed in --help and completions; refused without running once its file changes.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { opsterm, run, tempDir } from "../helpers/binary.ts";

const pluginSource = (body: string) => `// a self-contained ES module, as a third-party author writes it
import { writeFileSync } from "node:fs";
${body}
export default {
  name: "hello",
  apiVersion: 1,
  commands: [
    {
      name: "hello",
      description: "Say hello from a user plugin",
      usage: "[who]",
      options: [{ flags: "--loud", description: "Shout" }],
      action(args, ctx) {
        const text = "hello " + (args.who ?? "world") + " from " + ctx.runtime.cwd();
        ctx.io.out(args.loud ? text.toUpperCase() : text);
      },
    },
  ],
};
`;

describe("user plugin from outside the repo, on the built binary", () => {
  const home = tempDir("opsterm-e2e-home-");
  const pluginDir = tempDir("opsterm-e2e-plugin-");
  const elsewhere = tempDir("opsterm-e2e-cwd-");
  const pluginPath = join(pluginDir, "hello.mjs");
  const marker = join(pluginDir, "changed-plugin-ran");

  beforeAll(() => {
    writeFileSync(pluginPath, pluginSource(""));
    // Added by a relative path from the plugin's own directory.
    const added = opsterm(["plugin", "add", "./hello.mjs"], { home, cwd: pluginDir });
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`trusted plugin "hello" from ${pluginPath}`);
  });

  it("runs its command from another cwd", () => {
    const r = opsterm(["hello", "ops", "--loud"], { home, cwd: elsewhere });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe(`HELLO OPS FROM ${elsewhere.toUpperCase()}\n`);
  });

  it("appears in --help and plugin list --json", () => {
    const help = opsterm(["--help"], { home, cwd: elsewhere });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/hello.*Say hello from a user plugin/);
    const list = opsterm(["plugin", "list", "--json"], { home, cwd: elsewhere });
    expect(list.code).toBe(0);
    const rows = (JSON.parse(list.stdout) as { plugins: { name: string; status: string; path?: string }[] }).plugins;
    expect(rows).toContainEqual(expect.objectContaining({ name: "hello", status: "trusted", path: pluginPath }));
  });

  it("appears in the generated completions, and real fish completes it", () => {
    const fish = opsterm(["completion", "fish"], { home, cwd: elsewhere });
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("-a 'hello' -d 'Say hello from a user plugin'");
    const script = join(home, "opsterm.fish");
    writeFileSync(script, fish.stdout);
    const completed = run("fish", ["--no-config", "-c", `source ${script}; complete -C 'opsterm hel'; complete -C 'opsterm hello --'`], { home });
    expect(completed.code).toBe(0);
    expect(completed.stdout).toMatch(/^hello\tSay hello from a user plugin$/m);
    expect(completed.stdout).toMatch(/^--loud\tShout$/m);
    const bash = opsterm(["completion", "bash"], { home, cwd: elsewhere });
    expect(bash.stdout).toMatch(/\bhello\b/);
  });

  // Runs last in this file: it changes the plugin.
  it("refuses the plugin once its file changed, without running it; the rest still works", () => {
    writeFileSync(pluginPath, pluginSource(`writeFileSync(${JSON.stringify(marker)}, "ran at import");`));

    const refused = opsterm(["hello"], { home, cwd: elsewhere });
    expect(refused.code).toBe(77);
    expect(refused.stderr).toContain("changed since it was trusted");
    expect(refused.stderr).toContain(`opsterm plugin add ${pluginPath}`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(marker)).toBe(false);

    const help = opsterm(["--help"], { home, cwd: elsewhere });
    expect(help.code).toBe(0);
    expect(help.stdout).not.toMatch(/Say hello from a user plugin/);

    const doctor = opsterm(["doctor", "--json"], { home, cwd: elsewhere });
    expect(doctor.code).toBe(1); // a refused plugin is something broken
    const report = JSON.parse(doctor.stdout) as { plugins: { name: string; status: string }[]; checks: { name: string; status: string }[] };
    expect(report.plugins).toContainEqual(expect.objectContaining({ name: "hello", status: "changed" }));
    expect(report.checks).toContainEqual(expect.objectContaining({ name: "plugin hello", status: "fail" }));
    expect(opsterm(["doctor"], { home, cwd: elsewhere }).stdout).toContain("plugin add");
    expect(opsterm(["--version"], { home, cwd: elsewhere }).code).toBe(0);
    expect(existsSync(marker)).toBe(false);

    // Re-trusting is the documented way back.
    const again = opsterm(["plugin", "add", pluginPath], { home, cwd: elsewhere });
    expect(again.code).toBe(0);
    // The control for the marker: importing the changed file does write it.
    expect(existsSync(marker)).toBe(true);
    expect(opsterm(["hello"], { home, cwd: elsewhere })).toMatchObject({ code: 0, stdout: `hello world from ${elsewhere}\n` });
  });
});
