/**
 * Differential test: unbash (as the policy walks it, with the gap check) must report a parse
 * error exactly when `bash -n` does, on every corpus row plus tricky syntax. One bash process
 * judges every input (each in its own `bash -n` via a file per input, run in one batch).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../../plugins/policy/shell.ts";
import { screen } from "../../../plugins/policy/screen.ts";

const dir = join(import.meta.dirname, "corpus");
const inputs = ["syntax.txt", "reject.txt", "approval.txt", "allow.txt"]
  .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n"))
  .filter((l) => l.trim() && !l.startsWith("#"))
  .map((l) => {
    const v = JSON.parse(l) as string | [string, string];
    return Array.isArray(v) ? v[0] : v;
  })
  // bash -n judges syntax only: inputs the screen rejects first (control characters, lone
  // surrogates, invisible characters, empty) never reach the parser.
  .filter((c) => screen(c) === undefined);

/** `[[ ]]` is accepted by bash 5.2 (it tests the string "]]"); unbash calls it unclosed. */
const STRICTER = new Set(["[[ ]]"]);

const work = mkdtempSync(join(tmpdir(), "policy-bash-n-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** bash -n verdicts for all inputs from one bash process (a loop over files). */
function bashVerdicts(list: string[]): boolean[] {
  list.forEach((c, i) => writeFileSync(join(work, `${i}.sh`), c));
  const script = `for i in $(seq 0 ${list.length - 1}); do if bash -n "${work}/$i.sh" 2>/dev/null; then echo 0; else echo 1; fi; done`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bash failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((x) => x === "1");
}

describe("unbash parse errors agree with bash -n", () => {
  const bad = bashVerdicts(inputs);
  it("judges hundreds of inputs", () => {
    expect(inputs.length).toBeGreaterThan(400);
    expect(bad.filter(Boolean).length).toBeGreaterThan(40);
  });
  it.each(inputs.map((c, i) => ({ c, bash: bad[i] })))("analyze($c) has errors iff bash -n fails", ({ c, bash }) => {
    const errors = analyze(c).errors;
    // Known disagreements, all in the safe direction (we refuse what bash 5.2 accepts).
    const expected = STRICTER.has(c) ? true : bash;
    expect({ input: c, parseError: errors.length > 0 }).toEqual({ input: c, parseError: expected });
  });
  it.each([...STRICTER])("analyze(%j) is a parse error that bash -n accepts (stricter on purpose)", (c) => {
    expect(bad[inputs.indexOf(c)]).toBe(false);
    expect(analyze(c).errors.length).toBeGreaterThan(0);
  });
});
