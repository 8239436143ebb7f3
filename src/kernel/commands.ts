/**
 * Command specs and the registry. A command name is one word (`doctor`) or a group and an
 * action (`plugin add`); the CLI layer dispatches groups itself because cac matches one word.
 */
import type { CommandContext } from "./context.ts";
import { OpstermError } from "./errors.ts";

export interface OptionSpec {
  /** cac-style flags: `--json`, `-p, --parallel <n>`, `--via <hosts>`. */
  flags: string;
  description: string;
  default?: unknown;
  /** Values offered by completions. */
  choices?: string[];
}

/** Parsed arguments: named positionals from `usage`, options in camelCase, `_` and `--`. */
export interface CommandArgs {
  _: string[];
  "--": string[];
  [key: string]: unknown;
}

export interface CommandSpec {
  /** `doctor`, or `group action` such as `plugin add`. */
  name: string;
  description: string;
  /** Positionals in cac syntax: `<path>`, `[question...]`, `<server> <path>`. */
  usage?: string;
  options?: OptionSpec[];
  examples?: string[];
  aliases?: string[];
  /** Run when no command word matches (at most one: the chat question). */
  isDefault?: boolean;
  /**
   * For a group action: run it when the group word comes without a known action, so
   * `opsterm history nginx` means `opsterm history search nginx`. At most one per group.
   */
  groupDefault?: boolean;
  /** For a group action: one line describing the whole group in `opsterm --help` (any one action may carry it). */
  groupDescription?: string;
  hidden?: boolean;
  /** Values to complete the first positional with, e.g. `["bash","zsh","fish"]`. */
  complete?: string[];
  /** Returns an exit code, or nothing for 0. */
  action: (args: CommandArgs, ctx: CommandContext) => unknown;
}

export interface RegisteredCommand extends CommandSpec {
  plugin: string;
}

/**
 * @example
 * export const doctor = defineCommand({ name: "doctor", description: "Check the setup", action: () => 0 });
 */
export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

export interface CommandRegistry {
  add(plugin: string, spec: CommandSpec): void;
  all(): RegisteredCommand[];
  get(name: string): RegisteredCommand | undefined;
  /** Group names (`plugin`, `config`, …) with their actions. */
  groups(): Map<string, RegisteredCommand[]>;
  defaultCommand(): RegisteredCommand | undefined;
}

export function createCommandRegistry(): CommandRegistry {
  const byName = new Map<string, RegisteredCommand>();
  let fallback: RegisteredCommand | undefined;

  function add(plugin: string, spec: CommandSpec): void {
    const names = [spec.name, ...(spec.aliases ?? [])];
    for (const name of names) {
      const existing = byName.get(name);
      if (existing) {
        throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" defines command "${name}", which "${existing.plugin}" already has`, {
          plugin,
          hint: `Rename the command in plugin "${plugin}"`,
        });
      }
      const [group] = name.split(" ");
      const single = byName.get(group);
      if (name.includes(" ") && single && !single.name.includes(" ")) {
        throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" adds "${name}" under "${group}", which "${single.plugin}" defines as a plain command`, { plugin });
      }
    }
    if (spec.groupDefault) {
      const [group] = spec.name.split(" ");
      const other = [...byName.values()].find((c) => c.groupDefault && c.name.split(" ")[0] === group);
      if (!spec.name.includes(" ") || other) {
        throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" marks "${spec.name}" as the default of group "${group}", ${other ? `but "${other.name}" already is` : "which is not a group action"}`, { plugin });
      }
    }
    if (spec.isDefault && fallback) {
      throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" declares a default command, but "${fallback.plugin}" already does`, { plugin });
    }
    const registered = { ...spec, plugin };
    for (const name of names) byName.set(name, registered);
    if (spec.isDefault) fallback = registered;
    sorted = undefined;
    grouped = undefined;
  }

  // Sorted once per change, not on every call: help, completions and the kernel's conflict check
  // ask for the list many times during one startup.
  let sorted: RegisteredCommand[] | undefined;
  let grouped: Map<string, RegisteredCommand[]> | undefined;
  function all(): RegisteredCommand[] {
    // Code-unit order, not localeCompare: the first localeCompare loads ICU collation data, a
    // measurable share of `opsterm --help` (this runs for every registered command).
    sorted ??= [...new Set(byName.values())].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [...sorted];
  }

  function groups(): Map<string, RegisteredCommand[]> {
    if (!grouped) {
      grouped = new Map<string, RegisteredCommand[]>();
      for (const cmd of all()) {
        if (!cmd.name.includes(" ")) continue;
        const group = cmd.name.split(" ")[0];
        grouped.set(group, [...(grouped.get(group) ?? []), cmd]);
      }
    }
    return new Map(grouped);
  }

  function defaultCommand(): RegisteredCommand | undefined {
    return fallback;
  }

  return { add, all, get: (name) => byName.get(name), groups, defaultCommand };
}
