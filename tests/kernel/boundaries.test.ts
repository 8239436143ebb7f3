/**
 * The architecture's import rules, checked on the source: a plugin never imports another plugin's
 * modules (shared contracts live in src/contracts/), and the kernel imports no plugin.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".ts") ? [path] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);

describe("import boundaries", () => {
  it("no plugin imports another plugin's folder", () => {
    const offenders: string[] = [];
    for (const file of files(join(ROOT, "plugins"))) {
      const own = relative(join(ROOT, "plugins"), file).split("/")[0];
      if (own === "index.ts") continue; // the list of built-in plugins imports them all
      for (const spec of importsOf(file)) {
        const m = /^\.\.\/([a-z-]+)\//.exec(spec);
        if (m && m[1] !== own && !spec.startsWith("../../")) offenders.push(`${relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the kernel and the shared contracts import no plugin", () => {
    const offenders: string[] = [];
    for (const dir of ["src/kernel", "src/contracts", "src/lib"]) {
      for (const file of files(join(ROOT, dir))) {
        for (const spec of importsOf(file)) if (spec.includes("plugins/")) offenders.push(`${relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
