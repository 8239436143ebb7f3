/**
 * foreignImports(): what a plugin module would load besides itself (the pin covers one file).
 */
import { describe, expect, it } from "vitest";
import { foreignImports } from "../../src/kernel/plugin-imports.ts";

const EXPORT = "\nexport default { name: 'p', apiVersion: 1 };\n";

describe("foreignImports()", () => {
  it.each([
    { name: "a relative static import", src: 'import x from "./helper.js";', found: ["./helper.js"] },
    { name: "an absolute file: URL", src: 'import "file:///home/u/helper.mjs";', found: ["file:///home/u/helper.mjs"] },
    { name: "a package", src: "import lodash from 'lodash';", found: ["lodash"] },
    { name: "a bare built-in without node:", src: 'import fs from "fs";', found: ["fs"] },
    { name: "a re-export", src: 'export * from "./more.js";', found: ["./more.js"] },
    { name: "a named re-export", src: 'export { a } from "./a.js";', found: ["./a.js"] },
    { name: "a literal dynamic import", src: 'await import("./lazy.js");', found: ["./lazy.js"] },
    { name: "a template literal without substitutions", src: "await import(`./tpl.js`);", found: ["./tpl.js"] },
    { name: "a template literal with a substitution", src: "await import(`./${name}.js`);", found: ["import(`./${name}.js`)"] },
    { name: "a variable", src: "const m = './x.js'; await import(m);", found: ["import(m)"] },
    { name: "createRequire from node:module", src: 'import { createRequire } from "node:module"; createRequire(import.meta.url)("./x.cjs");', found: ["node:module"] },
    { name: "import.meta.resolve", src: 'const u = import.meta.resolve("./x.js");', found: ["import.meta.resolve"] },
    { name: "a dynamic import inside a template expression", src: 'const t = `${await import("./in.js")}`;', found: ["./in.js"] },
  ])("finds $name", ({ src, found }) => {
    expect(foreignImports(src + EXPORT).map((f) => f.specifier)).toEqual(found);
  });

  it.each([
    { name: "node: built-ins", src: 'import { readFileSync } from "node:fs"; const p = await import("node:path");' },
    { name: "imports in comments and strings", src: '// import "./a.js"\n/* import("./b.js") */ const s = "import(\'./c.js\')"; const t = `import "./d.js"`;' },
    { name: "a regular expression that looks like an import", src: 'const re = /import\\("x"\\)/;' },
    { name: "import.meta.url", src: "console.log(import.meta.url);" },
  ])("accepts $name", ({ src }) => {
    expect(foreignImports(src + EXPORT)).toEqual([]);
  });

  it("gives the line of each import", () => {
    expect(foreignImports('import "node:fs";\n\nimport "./x.js";\n').map((f) => f.line)).toEqual([3]);
  });
});
