/** The CLI change history needs: a group may name one default action (`opsterm history nginx`). */
import { expect, it } from "vitest";
import { resolveCommand } from "../../../src/cli/argv.ts";
import { createCommandRegistry } from "../../../src/kernel/commands.ts";

const action = () => 0;

function registry() {
  const r = createCommandRegistry();
  r.add("history", { name: "history search", description: "s", usage: "[...query]", groupDefault: true, action });
  r.add("history", { name: "history show", description: "s", usage: "<id>", action });
  r.add("core", { name: "plugin add", description: "p", action });
  return r;
}

it.each([
  { argv: ["history", "show", "3"], command: "history show", rest: ["3"], group: undefined },
  { argv: ["history", "nginx", "502", "--limit", "5"], command: "history search", rest: ["nginx", "502", "--limit", "5"], group: undefined },
  { argv: ["history", "--json"], command: "history search", rest: ["--json"], group: "history" },
  { argv: ["history"], command: "history search", rest: [], group: "history" },
])("resolveCommand() maps $argv to $command", ({ argv, command, rest, group }) => {
  const r = resolveCommand(registry(), argv);
  expect(r).toMatchObject({ kind: "command", command: { name: command }, rest });
  // `group` is set when no action word follows the group, so `opsterm history --help` shows the group.
  expect(r.kind === "command" ? r.group : "-").toBe(group);
});

it("resolveCommand() still calls an unknown action of a group without a default a usage error", () => {
  expect(() => resolveCommand(registry(), ["plugin", "ad"])).toThrow(/Unknown action "ad" for "plugin", did you mean "plugin add"/);
});

it("CommandRegistry.add() refuses a second default in one group, and a default that is not a group action", () => {
  const r = registry();
  expect(() => r.add("x", { name: "history find", description: "f", groupDefault: true, action })).toThrow(/"history search" already is/);
  expect(() => r.add("x", { name: "lonely", description: "l", groupDefault: true, action })).toThrow(/not a group action/);
});
