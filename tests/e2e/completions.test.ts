/**
 * completions/ is generated from the built-in registry and checked in: it must equal what the
 * binary prints now, and it must work in the real bash, zsh and fish.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
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
    expect(shells.split("\n").filter(Boolean).sort()).toEqual(["bash", "fish", "install", "zsh"]);
  });

  it("bash: _opsterm fills COMPREPLY for commands, group actions, values and options", () => {
    const complete = (words: string[]) =>
      sh("bash", `source ${bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _opsterm; printf '%s\\n' "\${COMPREPLY[@]}"`);
    const top = complete(["opsterm", "pl"]);
    expect(top.code).toBe(0);
    expect(top.stdout.split("\n")).toContain("plugin");
    expect(complete(["opsterm", "plugin", ""]).stdout.split("\n")).toEqual(expect.arrayContaining(["add", "list", "remove"]));
    expect(complete(["opsterm", "completion", ""]).stdout.split("\n").filter(Boolean).sort()).toEqual(["bash", "fish", "install", "zsh"]);
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
    expect(complete(["opsterm", "completion", ""]).stdout.split("\n").filter(Boolean)).toEqual(["bash", "zsh", "fish", "install"]);
    expect(complete(["opsterm", "doctor", "--"]).stdout).toMatch(/^--json:/m);
  });
});

describe("server ids and @tags, asked of the binary at TAB time", () => {
  const inv = tempDir("opsterm-e2e-complete-");
  writeFileSync(join(inv, "servers.yaml"), "servers:\n  web1: {host: 10.0.0.1, tags: [prod, web]}\n  Web-2: {host: 10.0.0.2, tags: [web]}\n  db1: {host: 10.0.0.3, tags: [prod]}\n");
  const binDir = () => dirname(requireBuilt());
  const env = () => ({ TERM: "dumb", PATH: `${binDir()}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  const lines = (text: string) => text.split("\n").filter(Boolean).sort();

  it("`opsterm __complete servers [prefix]` prints ids then @tags, follows an edit of servers.yaml, and prints nothing for a broken one", () => {
    const all = run(requireBuilt(), ["__complete", "servers"], { home: inv }).stdout.split("\n").filter(Boolean);
    expect(all.slice(3)).toEqual(["@prod", "@web"]);
    expect(all.slice(0, 3).sort()).toEqual(["Web-2", "db1", "web1"].sort());
    // The second call answers from the cache; an edit of servers.yaml is seen at once.
    const edited = tempDir("opsterm-e2e-complete-");
    writeFileSync(join(edited, "servers.yaml"), "servers:\n  a1: {host: 10.0.0.1}\n");
    expect(run(requireBuilt(), ["__complete", "servers"], { home: edited }).stdout).toBe("a1\n");
    expect(run(requireBuilt(), ["__complete", "servers"], { home: edited }).stdout).toBe("a1\n");
    writeFileSync(join(edited, "servers.yaml"), "servers:\n  a1: {host: 10.0.0.1}\n  b2: {host: 10.0.0.2, tags: [x]}\n");
    expect(run(requireBuilt(), ["__complete", "servers"], { home: edited }).stdout).toBe("a1\nb2\n@x\n");
    expect(lines(run(requireBuilt(), ["__complete", "servers", "@p"], { home: inv }).stdout)).toEqual(["@prod"]);
    const broken = tempDir("opsterm-e2e-complete-");
    writeFileSync(join(broken, "servers.yaml"), "servers: [oops\n");
    const r = run(requireBuilt(), ["__complete", "servers"], { home: broken });
    expect(r).toMatchObject({ code: 0, stdout: "" });
    // Hidden: not in help, not offered as a command.
    expect(run(requireBuilt(), ["--help"], { home: inv }).stdout).not.toContain("__complete");
  });

  it("bash: exec, ssh and servers show complete ids and @tags; options still complete", () => {
    const complete = (words: string[]) =>
      run("bash", ["-c", `source ${completionFile("bash")}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _opsterm; printf '%s\\n' "\${COMPREPLY[@]}"`], { home: inv, env: env() });
    expect(lines(complete(["opsterm", "exec", ""]).stdout)).toEqual(["@prod", "@web", "Web-2", "db1", "web1"].sort());
    expect(lines(complete(["opsterm", "exec", "@"]).stdout)).toEqual(["@prod", "@web"]);
    expect(lines(complete(["opsterm", "ssh", "W"]).stdout)).toEqual(["Web-2"]);
    expect(lines(complete(["opsterm", "servers", "show", "d"]).stdout)).toEqual(["db1"]);
    expect(complete(["opsterm", "exec", "--y"]).stdout.split("\n")).toContain("--yes");
    // After the target comes the remote command: no server ids there.
    expect(complete(["opsterm", "exec", "web1", ""]).stdout).not.toContain("db1");
  });

  it("zsh: _opsterm hands the inventory's ids and @tags to _describe", () => {
    const complete = (words: string[]) =>
      run("zsh", ["-f", "-c", `source ${completionFile("zsh")}; _describe() { local arr=\${@[-1]}; print -l -- \${(P)arr} }; _files() { print FILES }; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _opsterm`], { home: inv, env: env() });
    expect(lines(complete(["opsterm", "exec", ""]).stdout)).toEqual(["@prod", "@web", "Web-2", "db1", "web1"].sort());
    expect(lines(complete(["opsterm", "servers", "test", ""]).stdout)).toContain("@prod");
  });

  it("fish: `complete -C 'opsterm exec '` lists the ids and @tags", () => {
    const r = run("fish", ["--no-config", "-c", `source ${completionFile("fish")}; complete -C 'opsterm exec '; echo ---; complete -C 'opsterm servers rm '`], { home: inv, env: env() });
    expect(r.code).toBe(0);
    const [exec, rm] = r.stdout.split("---\n");
    expect(lines(exec)).toEqual(["@prod", "@web", "Web-2", "db1", "web1"].sort());
    expect(lines(rm)).toContain("Web-2");
  });

  it("answers from the inventory about as fast as --help starts (≤ 50 ms on a quiet machine)", () => {
    const big = tempDir("opsterm-e2e-complete-");
    writeFileSync(join(big, "servers.yaml"), "servers:\n" + Array.from({ length: 300 }, (_, i) => `  host-${i}: {host: 10.0.${i >> 8}.${i & 255}, tags: [t${i % 10}]}\n`).join(""));
    const time = (args: string[]) => {
      const t = performance.now();
      const r = run(requireBuilt(), args, { home: big });
      expect(r.code).toBe(0);
      return performance.now() - t;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    const help: number[] = [];
    const complete: number[] = [];
    for (let i = 0; i < 9; i++) {
      help.push(time(["--help"]));
      complete.push(time(["__complete", "servers"]));
    }
    expect(lines(run(requireBuilt(), ["__complete", "servers"], { home: big }).stdout)).toHaveLength(310);
    // Relative to --help on the same (possibly loaded) machine: reading 300 servers adds little.
    expect(median(complete)).toBeLessThan(median(help) * 1.6 + 25);
  });
});

describe("opsterm completion install", () => {
  it.each(SHELLS)("%s: writes the script where the shell looks, and the shell finds it there", (shell) => {
    const home = tempDir("opsterm-e2e-install-");
    writeFileSync(join(home, "servers.yaml"), "servers:\n  web1: {host: 10.0.0.1}\n");
    const env = { TERM: "dumb", PATH: `${dirname(requireBuilt())}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    const r = run(requireBuilt(), ["completion", "install", shell, "--json"], { home, env });
    expect(r.code).toBe(0);
    const { path } = JSON.parse(r.stdout) as { path: string };
    expect(readFileSync(path, "utf8")).toBe(readFileSync(completionFile(shell), "utf8"));
    if (shell === "fish") {
      expect(path).toBe(join(home, ".config/fish/completions/opsterm.fish"));
      // fish autoloads from ~/.config/fish/completions: no `source` here.
      expect(run("fish", ["-c", "complete -C 'opsterm exec '"], { home, env }).stdout).toContain("web1");
    } else if (shell === "zsh") {
      expect(path).toBe(join(home, ".zfunc/_opsterm"));
      const z = run("zsh", ["-f", "-c", `fpath=(${dirname(path)} $fpath); autoload -U compinit; compinit -u -d ${join(home, "dump")}; print $_comps[opsterm]`], { home, env });
      expect(z.stdout.trim()).toBe("_opsterm");
    } else {
      expect(path).toBe(join(home, ".local/share/bash-completion/completions/opsterm"));
      expect(run("bash", ["-c", `source ${path}; complete -p opsterm`], { home, env }).stdout).toMatch(/-F _opsterm opsterm/);
    }
  });

  it("without a shell name it takes $SHELL; an unknown shell is a usage error", () => {
    const home = tempDir("opsterm-e2e-install-");
    const ok = run(requireBuilt(), ["completion", "install"], { home, env: { SHELL: "/usr/bin/fish" } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(join(home, ".config/fish/completions/opsterm.fish"));
    const bad = run(requireBuilt(), ["completion", "install"], { home, env: { SHELL: "/bin/tcsh" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('No completion for shell "tcsh" (from $SHELL)');
  });
});
