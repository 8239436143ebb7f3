/**
 * Issue 8 §6 on the built binary: the pin covers one file, so `plugin add` refuses a module that
 * imports another file unless --allow-imports; with it, a change to the imported file is NOT
 * noticed (what the README says the pin covers).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { opsterm, tempDir } from "../helpers/binary.ts";

const main = (importLine: string) => `${importLine}
export default {
  name: "split",
  apiVersion: 1,
  commands: [{ name: "split", description: "Uses a helper file", action(_a, ctx) { ctx.io.out(greet()); } }],
};
`;

describe("plugin add and imports, on the built binary", () => {
  it("refuses a plugin that imports a local file by absolute path, naming it and the line; trusts nothing", () => {
    const dir = tempDir("opsterm-e2e-split-");
    const home = tempDir("opsterm-e2e-home-");
    writeFileSync(join(dir, "helper.mjs"), 'export const greet = () => "v1";\n');
    writeFileSync(join(dir, "split.mjs"), main(`import { greet } from "${join(dir, "helper.mjs")}";`));
    const r = opsterm(["plugin", "add", join(dir, "split.mjs")], { home });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`${join(dir, "split.mjs")}:1 loads ${join(dir, "helper.mjs")}: only node: built-ins are allowed; the trust pin covers only this one file`);
    expect(r.stderr).toContain("--allow-imports");
    expect(opsterm(["plugin", "list", "--json"], { home }).stdout).not.toContain("split");
  });

  it("with --allow-imports trusts it, and a changed helper then runs unnoticed (the documented limit)", () => {
    const dir = tempDir("opsterm-e2e-split-");
    const home = tempDir("opsterm-e2e-home-");
    writeFileSync(join(dir, "helper.mjs"), 'export const greet = () => "v1";\n');
    writeFileSync(join(dir, "split.mjs"), main(`import { greet } from "file://${join(dir, "helper.mjs")}";`));
    expect(opsterm(["plugin", "add", join(dir, "split.mjs"), "--allow-imports"], { home }).code).toBe(0);
    expect(opsterm(["split"], { home }).stdout).toBe("v1\n");
    writeFileSync(join(dir, "helper.mjs"), 'export const greet = () => "v2";\n');
    expect(opsterm(["split"], { home })).toMatchObject({ code: 0, stdout: "v2\n" });
  });

  it("accepts a self-contained plugin that mentions imports only in comments and strings", () => {
    const dir = tempDir("opsterm-e2e-split-");
    const home = tempDir("opsterm-e2e-home-");
    writeFileSync(join(dir, "one.mjs"), main('import { readFileSync } from "node:fs";\n// import "./helper.mjs"\nconst greet = () => "import(\\"./x.js\\") " + typeof readFileSync;'));
    expect(opsterm(["plugin", "add", join(dir, "one.mjs")], { home }).code).toBe(0);
    expect(opsterm(["split"], { home }).stdout).toBe('import("./x.js") function\n');
  });
});
