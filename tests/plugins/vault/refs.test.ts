/**
 * `${vault:NAME}` references: found and validated, then substituted quoted for where they stand,
 * checked by running the result in the real shells (dash as sh, and bash): the command prints
 * exactly the value, whatever quotes, `$(…)`, backquotes, backslashes or newlines it holds.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { findReferences, substitute } from "../../../plugins/vault/refs.ts";

const NASTY = [
  "plain-value",
  "it's",
  'say "hi"',
  "$(touch /tmp/opsterm-pwned) `id` $HOME ${PATH}",
  "back\\slash\\",
  "two\nlines",
  "'\"'\"'",
  "!event",
  "tab\there",
];

const run = (shell: string, command: string) => execFileSync(shell, ["-c", command], { encoding: "utf8" });

describe("substitute() quotes a value for its place in a shell line", () => {
  const templates = [
    { where: "bare", line: "printf %s ${vault:v}", shells: ["sh", "bash"], wrap: (v: string) => v },
    { where: "double quotes", line: 'printf %s "<${vault:v}>"', shells: ["sh", "bash"], wrap: (v: string) => `<${v}>` },
    { where: "single quotes", line: "printf %s '<${vault:v}>'", shells: ["sh", "bash"], wrap: (v: string) => `<${v}>` },
    { where: "$'…' (bash)", line: "printf %s $'<${vault:v}>'", shells: ["bash"], wrap: (v: string) => `<${v}>` },
    { where: "glued to an option", line: "printf %s -p${vault:v}", shells: ["sh", "bash"], wrap: (v: string) => `-p${v}` },
    { where: "after an escaped quote", line: 'printf %s \\"${vault:v}\\"', shells: ["sh", "bash"], wrap: (v: string) => `"${v}"` },
  ];
  for (const t of templates) {
    it.each(NASTY)(`${t.where}: %j comes out byte for byte`, (value) => {
      const line = substitute(t.line, findReferences(t.line), () => value, "shell");
      for (const shell of t.shells) expect(run(shell, line), shell).toBe(t.wrap(value));
    });
  }

  it("two references in one line, in different quoting, each quoted for its own place", () => {
    const line = `printf '%s|%s|%s' \${vault:a} "\${vault:b}" '\${vault:a}'`;
    const values: Record<string, string> = { a: "it's", b: 'a "b" $c' };
    expect(run("bash", substitute(line, findReferences(line), (n) => values[n], "shell"))).toBe(`it's|a "b" $c|it's`);
  });

  it('quote "none" inserts the value as it is (config values)', () => {
    const text = "Bearer ${vault:k}";
    expect(substitute(text, findReferences(text), () => "it's $x", "none")).toBe("Bearer it's $x");
  });

  it("refuses a value with a NUL byte in a command line (65)", () => {
    const line = "echo ${vault:v}";
    expect(() => substitute(line, findReferences(line), () => "a\0b", "shell")).toThrow(expect.objectContaining({ code: "E_VAULT_NUL", exitCode: 65 }));
  });
});

describe("findReferences()", () => {
  it("finds every reference with its span", () => {
    expect(findReferences("a ${vault:x.y} b ${vault:Z_9-1}")).toEqual([
      { name: "x.y", start: 2, end: 14 },
      { name: "Z_9-1", start: 17, end: 31 },
    ]);
    expect(findReferences("no refs, ${HOME} and $vault:x")).toEqual([]);
  });

  it.each(["${vault:}", "${vault:a b}", "${vault:a", "x ${vault:$(id)}", "${vault:a/b}"])("refuses the malformed %j as a usage error (2)", (text) => {
    expect(() => findReferences(text)).toThrow(expect.objectContaining({ code: "E_VAULT_REF", exitCode: 2 }));
  });
});
