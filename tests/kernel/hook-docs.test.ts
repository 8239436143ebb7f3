import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HOOK_STRATEGY } from "../../src/kernel/hooks.ts";

describe("README hooks table", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  const rows = new Map([...readme.matchAll(/^\| `(\w+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]));

  it.each(Object.entries(HOOK_STRATEGY))("documents hook %s with strategy %s", (hook, strategy) => {
    expect(rows.get(hook)).toBe(strategy);
  });

  it("documents no hook that does not exist", () => {
    expect([...rows.keys()].filter((h) => !(h in HOOK_STRATEGY))).toEqual([]);
  });
});
