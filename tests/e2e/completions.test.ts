/**
 * completions/ is generated from the built-in registry and checked in: it must equal what the
 * binary prints now, and it must work in the real bash, zsh and fish.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { completionFile, freshCompletions, SHELLS, type Shell } from "../../scripts/gen-completions.ts";
import { requireBuilt, run, tempDir } from "../helpers/binary.ts";

const home = tempDir("opsterm-e2e-completions-");
const sh = (shell: string, script: string) => run(shell, ["-c", script], { home, env: { TERM: "dumb" } });

describe("completions/", () => {
  let fresh: Record<Shell, string>;
  beforeAll(() => {
    fresh = freshCompletions([requireBuilt()]);
  });

  it.each(SHELLS)("completions/opsterm.%s matches what the built binary generates for the built-in plugins", (shell) => {
    const checkedIn = readFileSync(completionFile(shell), "utf8").split("\n");
    const generated = fresh[shell].split("\n");
    const at = generated.findIndex((line, i) => line !== checkedIn[i]);
    const where = at < 0 ? (checkedIn.length === generated.length ? "" : `line ${generated.length + 1}`) : `line ${at + 1}: expected ${JSON.stringify(generated[at])}, found ${JSON.stringify(checkedIn[at])}`;
    if (where) throw new Error(`completions/opsterm.${shell} is stale at ${where}\nRun "npm run gen:completions" and commit completions/`);
  });

  it.each([
    ["bash", ["-n"]],
    ["zsh", ["-n"]],
    ["fish", ["--no-config", "-n"]],
  ] as const)("%s parses the script (%s)", (shell, flags) => {
    const r = run(shell, [...flags, completionFile(shell)], { home });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("completions in the real shells", () => {
  const bash = completionFile("bash");
  const zsh = completionFile("zsh");
  const fish = completionFile("fish");

  it("fish: `complete -C 'opsterm pl'` lists plugin, and the group's actions after it", () => {
    const r = run("fish", ["--no-config", "-c", `source ${fish}; complete -C 'opsterm pl'; echo ---; complete -C 'opsterm plugin '; echo ---; complete -C 'opsterm completion '`], { home });
    expect(r.code).toBe(0);
    const [top, actions, shells] = r.stdout.split("---\n");
    expect(top).toMatch(/^plugin\t/m);
    expect(top).not.toMatch(/^doctor\t/m);
    for (const action of ["add", "list", "remove"]) expect(actions).toMatch(new RegExp(`^${action}\\t`, "m"));
    expect(shells.split("\n").filter(Boolean).sort()).toEqual(["bash", "fish", "zsh"]);
  });

  it("bash: _opsterm fills COMPREPLY for commands, group actions, values and options", () => {
    const complete = (words: string[]) =>
      sh("bash", `source ${bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _opsterm; printf '%s\\n' "\${COMPREPLY[@]}"`);
    const top = complete(["opsterm", "pl"]);
    expect(top.code).toBe(0);
    expect(top.stdout.split("\n")).toContain("plugin");
    expect(complete(["opsterm", "plugin", ""]).stdout.split("\n")).toEqual(expect.arrayContaining(["add", "list", "remove"]));
    expect(complete(["opsterm", "completion", ""]).stdout.split("\n").filter(Boolean).sort()).toEqual(["bash", "fish", "zsh"]);
    expect(complete(["opsterm", "doctor", "--"]).stdout.split("\n")).toEqual(expect.arrayContaining(["--json", "--no-color", "--help"]));
    // `complete -F _opsterm opsterm` is registered by sourcing
    expect(sh("bash", `source ${bash}; complete -p opsterm`).stdout).toMatch(/-F _opsterm opsterm/);
  });

  it("zsh: compinit + source defines _opsterm, and _opsterm offers the right candidates", () => {
    const dump = join(home, "zcompdump");
    const defined = run("zsh", ["-f", "-c", `autoload -U compinit; compinit -u -d ${dump}; source ${zsh}; whence -w _opsterm`], { home });
    expect(defined.stdout.trim()).toBe("_opsterm: function");
    expect(defined.code).toBe(0);
    // _describe/_files stubbed to print what _opsterm hands them, for the given words and cursor.
    const complete = (words: string[]) =>
      run("zsh", ["-f", "-c", `source ${zsh}; _describe() { local arr=\${@[-1]}; print -l -- \${(P)arr} }; _files() { print FILES }; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _opsterm`], { home });
    expect(complete(["opsterm", "pl"]).stdout).toMatch(/^plugin:/m);
    expect(complete(["opsterm", "plugin", ""]).stdout).toMatch(/^add:Trust a plugin file/m);
    expect(complete(["opsterm", "completion", ""]).stdout.split("\n").filter(Boolean)).toEqual(["bash", "zsh", "fish"]);
    expect(complete(["opsterm", "doctor", "--"]).stdout).toMatch(/^--json:/m);
  });
});
