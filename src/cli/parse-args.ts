/**
 * Parses one command's arguments with cac: named positionals from `usage`, typed options,
 * unknown options and missing arguments as usage errors.
 */
import { cac } from "cac";
import type { CommandArgs, RegisteredCommand } from "../kernel/commands.ts";
import { UsageError } from "../kernel/errors.ts";

export function parseCommandArgs(command: RegisteredCommand, argv: string[]): CommandArgs {
  const cli = cac("opsterm");
  const cmd = cli.command(cacUsage(command.usage), command.description);
  const valued: string[] = [];
  for (const opt of command.options ?? []) {
    // Values stay the strings the user typed: cac would turn "0644" into 644 and "007" into 7.
    const takesValue = /[<[]/.test(opt.flags);
    if (takesValue) valued.push(camelName(opt.flags));
    cmd.option(opt.flags, opt.description, { ...(opt.default === undefined ? {} : { default: opt.default }), ...(takesValue ? { type: [String] } : {}) });
  }
  // Global flags were removed before; these keep cac from calling a negated flag unknown.
  cmd.option("--color", "");
  let captured: CommandArgs | undefined;
  cmd.action((...values: unknown[]) => {
    const options = values.pop() as Record<string, unknown>;
    for (const key of valued) {
      const v = options[key];
      // [String] collects every occurrence; the last one wins, as for any other option.
      if (Array.isArray(v)) options[key] = v.length ? v[v.length - 1] : undefined;
    }
    const args: CommandArgs = { ...options, _: [], "--": (options["--"] as string[]) ?? [] };
    delete args.color;
    cmd.args.forEach((arg, i) => {
      args[arg.value] = values[i];
    });
    args._ = values.flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]));
    captured = args;
  });
  try {
    cli.parse(["node", "opsterm", ...argv], { run: true });
  } catch (error) {
    const raw = (error as Error).message;
    // cac says "missing required args for command `<path>`"; name what is missing instead.
    const message = /^missing required args/.test(raw) ? `missing argument: opsterm ${command.name} ${command.usage ?? ""}`.trimEnd() : raw.replace(/`/g, '"');
    throw new UsageError(`${command.name}: ${message}`, { hint: `See "opsterm ${command.name} --help"` });
  }
  if (!captured) throw new UsageError(`${command.name}: could not parse the arguments`, { hint: `See "opsterm ${command.name} --help"` });
  // An option that declares its choices takes only those (`history --mode bogus` is a usage error).
  for (const opt of command.options ?? []) {
    if (!opt.choices) continue;
    const value = captured[camelName(opt.flags)];
    if (value === undefined || value === true) continue;
    if (!opt.choices.includes(String(value))) {
      const long = /--[A-Za-z0-9-]+/.exec(opt.flags)?.[0] ?? opt.flags;
      throw new UsageError(`${command.name}: ${long} takes one of ${opt.choices.join(", ")}, not "${String(value)}"`, { hint: `See "opsterm ${command.name} --help"` });
    }
  }
  return captured;
}

/** `-p, --parallel <n>` → "parallel"; `--dry-run` → "dryRun" (cac's own camel-casing). */
function camelName(flags: string): string {
  const long = /--([A-Za-z0-9-]+)/.exec(flags)?.[1] ?? "";
  return long.replace(/^no-/, "").replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Accepts both `[rest...]` (as help shows it) and cac's own `[...rest]`. */
function cacUsage(usage = ""): string {
  return usage.replace(/([<[])([^\]>]+?)\.\.\.([\]>])/g, "$1...$2$3");
}
