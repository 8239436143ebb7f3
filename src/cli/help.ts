/**
 * Help text, rendered from the command registry (the same source as completions).
 */
import type { CommandRegistry, RegisteredCommand } from "../kernel/commands.ts";
import type { Style } from "../lib/style.ts";
import { GLOBAL_OPTIONS } from "./argv.ts";

const BUILTIN_SOURCES = new Set(["core"]);

export function renderMainHelp(registry: CommandRegistry, version: string, s: Style, userPlugins: Set<string>): string {
  const rows: [string, string][] = [];
  const seenGroups = new Set<string>();
  const userRows: [string, string][] = [];
  const groups = registry.groups();
  for (const cmd of registry.all()) {
    if (cmd.hidden) continue;
    const [head] = cmd.name.split(" ");
    const fromUser = userPlugins.has(cmd.plugin);
    const target = fromUser ? userRows : rows;
    const by = fromUser ? s.dim(` (plugin ${cmd.plugin})`) : "";
    if (cmd.name.includes(" ")) {
      if (seenGroups.has(head)) continue;
      seenGroups.add(head);
      const group = groups.get(head)!;
      const actions = group.filter((c) => !c.hidden).map((c) => c.name.split(" ")[1]);
      target.push([`${head} <${actions.join("|")}>`, groupDescription(group) + by]);
    } else {
      target.push([withUsage(cmd), cmd.description + by]);
    }
  }
  const def = registry.defaultCommand();
  const lines = [
    `${s.bold("opsterm")} ${version} — AI, SSH and safe remote execution for people who run servers`,
    "",
    s.bold("Usage:"),
    `  opsterm <command> [options]${def ? `\n  opsterm [question...]        ${def.description}` : ""}`,
    "",
    s.bold("Commands:"),
    ...table(rows),
  ];
  if (userRows.length) lines.push("", s.bold("Plugin commands:"), ...table(userRows));
  lines.push("", s.bold("Global options:"), ...table(GLOBAL_OPTIONS.map((o) => [o.flags, o.description])));
  lines.push("", `Run ${s.cyan("opsterm <command> --help")} for a command's options and examples.`);
  return lines.join("\n");
}

export function renderGroupHelp(group: string, actions: RegisteredCommand[], s: Style): string {
  return [
    `${s.bold("Usage:")} opsterm ${group} <action> [options]`,
    "",
    groupDescription(actions),
    "",
    s.bold("Actions:"),
    ...table(actions.filter((c) => !c.hidden).map((c) => [withUsage(c).slice(group.length + 1), c.description])),
    "",
    `Run ${s.cyan(`opsterm ${group} <action> --help`)} for details.`,
  ].join("\n");
}

export function renderCommandHelp(cmd: RegisteredCommand, s: Style): string {
  const lines = [`${s.bold("Usage:")} opsterm ${withUsage(cmd)} [options]`, "", cmd.description];
  if (cmd.aliases?.length) lines.push("", `Aliases: ${cmd.aliases.join(", ")}`);
  // A command that re-declares a global flag (`--json`) would list it twice: Global options has it.
  const globals = new Set(GLOBAL_OPTIONS.flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith("--"))));
  const own = (cmd.options ?? []).filter((o) => !o.flags.split(/[ ,]+/).some((f) => globals.has(f)));
  const options = [...own.map((o) => [o.flags, o.description + (o.default !== undefined ? s.dim(` (default: ${JSON.stringify(o.default)})`) : "")] as [string, string])];
  if (options.length) lines.push("", s.bold("Options:"), ...table(options));
  lines.push("", s.bold("Global options:"), ...table(GLOBAL_OPTIONS.map((o) => [o.flags, o.description])));
  if (cmd.examples?.length) lines.push("", s.bold("Examples:"), ...cmd.examples.map((e) => `  ${e}`));
  if (!BUILTIN_SOURCES.has(cmd.plugin)) lines.push("", s.dim(`Provided by plugin "${cmd.plugin}".`));
  return lines.join("\n");
}

function withUsage(cmd: RegisteredCommand): string {
  return cmd.usage ? `${cmd.name} ${cmd.usage}` : cmd.name;
}

/** The group's own line when one of its actions declares it, else the list of actions. */
function groupDescription(actions: RegisteredCommand[]): string {
  return actions.find((a) => a.groupDescription)?.groupDescription ?? actions.map((a) => a.name.split(" ")[1]).join(", ");
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(Math.max(0, ...rows.map(([a]) => a.length)) + 2, 34);
  return rows.map(([a, b]) => (a.length + 2 > width ? `  ${a}\n  ${" ".repeat(width)}${b}` : `  ${a.padEnd(width)}${b}`));
}
