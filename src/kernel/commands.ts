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

// ---- Types inferred from a command's `usage` and `options` (as citty's ParsedArgs<T>) ----

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Words<S extends string> = S extends `${infer A} ${infer B}` ? [A, ...Words<B>] : S extends "" ? [] : [S];
type Rest<N extends string> = N extends `...${infer R}` ? R : N extends `${infer R}...` ? R : never;

/** `<name>` → string, `[name]` → string | undefined, `<...names>` / `[names...]` → string[]. */
type PositionalArg<W extends string> = W extends `<${infer N}>`
  ? [Rest<N>] extends [never] ? { [K in Camel<N>]: string } : { [K in Camel<Rest<N>>]: string[] }
  : W extends `[${infer N}]`
    ? [Rest<N>] extends [never] ? { [K in Camel<N>]?: string } : { [K in Camel<Rest<N>>]?: string[] }
    : unknown;
type Positionals<U extends string, W = Words<U>> = W extends [infer H extends string, ...infer T] ? PositionalArg<H> & Positionals<U, T> : unknown;

/** `-p, --parallel <n>` → parallel; `--dry-run` → dryRun; `--no-stdin` → stdin. */
type LongName<F extends string> = F extends `${string}--${infer Rest}` ? (Rest extends `${infer N} ${string}` ? N : Rest) : never;
type OptionKey<F extends string> = LongName<F> extends `no-${infer N}` ? Camel<N> : Camel<LongName<F>>;
type Widen<D> = D extends number ? number : D extends string ? string : D extends boolean ? boolean : D;
type DefaultOf<O> = O extends { default: infer D } ? Widen<D> : undefined;
type OptionValue<O extends OptionSpec> = O["flags"] extends `${string}<${string}>` | `${string}[${string}]` ? string | DefaultOf<O> : boolean | DefaultOf<O>;
type Options<O extends readonly OptionSpec[]> = { [X in O[number] as string extends X["flags"] ? never : OptionKey<X["flags"]>]: OptionValue<X> };

/** The arguments a command's action receives, typed from its `usage` and `options`. */
export type ParsedArgs<U extends string = string, O extends readonly OptionSpec[] = []> = Positionals<U> & Options<O> & CommandArgs;

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

/** A command spec whose action gets arguments typed from its own `usage` and `options`. */
export type TypedCommandSpec<U extends string, O extends readonly OptionSpec[]> = Omit<CommandSpec, "usage" | "options" | "action"> & {
  usage?: U;
  options?: O;
  action: (args: ParsedArgs<U, O>, ctx: CommandContext) => unknown;
};

/**
 * Identity helper that types the action's arguments from the spec: option values are strings
 * (exactly as typed: `--mode 0644` stays "0644"), flags booleans, `[rest...]` a string array.
 * @example
 * defineCommand({ name: "servers show", usage: "<id>", options: [{ flags: "--json", description: "" }], action: (args) => args.id.toUpperCase() });
 */
export function defineCommand<const U extends string = "", const O extends readonly OptionSpec[] = []>(spec: TypedCommandSpec<U, O>): CommandSpec {
  return spec as unknown as CommandSpec;
}

export interface CommandRegistry {
  add(plugin: string, spec: CommandSpec): void;
  /** Throws what `add` would throw for these commands, and adds nothing. */
  check(plugin: string, specs: readonly CommandSpec[]): void;
  all(): RegisteredCommand[];
  get(name: string): RegisteredCommand | undefined;
  /** Group names (`plugin`, `config`, …) with their actions. */
  groups(): Map<string, RegisteredCommand[]>;
  defaultCommand(): RegisteredCommand | undefined;
}

export function createCommandRegistry(): CommandRegistry {
  const byName = new Map<string, RegisteredCommand>();
  let fallback: RegisteredCommand | undefined;

  const groupDefaults = new Map<string, RegisteredCommand>();

  /**
   * Validates `specs` against the registry and against each other, and commits them only when
   * `commit` is set. New names go to an overlay first, so a check costs O(specs), not a copy of
   * the whole registry (the kernel checks every plugin before its setup runs).
   */
  function addAll(plugin: string, specs: readonly CommandSpec[], commit: boolean): void {
    const overlay = new Map<string, RegisteredCommand>();
    const overlayDefaults = new Map<string, RegisteredCommand>();
    let newFallback = fallback;
    const lookup = (name: string) => overlay.get(name) ?? byName.get(name);
    for (const spec of specs) {
      const names = [spec.name, ...(spec.aliases ?? [])];
      for (const name of names) {
        const existing = lookup(name);
        if (existing) {
          throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" defines command "${name}", which "${existing.plugin}" already has`, {
            plugin,
            hint: `Rename the command in plugin "${plugin}"`,
          });
        }
        const [group] = name.split(" ");
        const single = lookup(group);
        if (name.includes(" ") && single && !single.name.includes(" ")) {
          throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" adds "${name}" under "${group}", which "${single.plugin}" defines as a plain command`, { plugin });
        }
      }
      const registered = { ...spec, plugin };
      if (spec.groupDefault) {
        const [group] = spec.name.split(" ");
        const other = overlayDefaults.get(group) ?? groupDefaults.get(group);
        if (!spec.name.includes(" ") || other) {
          throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" marks "${spec.name}" as the default of group "${group}", ${other ? `but "${other.name}" already is` : "which is not a group action"}`, { plugin });
        }
        overlayDefaults.set(group, registered);
      }
      if (spec.isDefault && newFallback) {
        throw new OpstermError("E_COMMAND_CONFLICT", `Plugin "${plugin}" declares a default command, but "${newFallback.plugin}" already does`, { plugin });
      }
      for (const name of names) overlay.set(name, registered);
      if (spec.isDefault) newFallback = registered;
    }
    if (!commit) return;
    for (const [name, registered] of overlay) byName.set(name, registered);
    for (const [group, registered] of overlayDefaults) groupDefaults.set(group, registered);
    fallback = newFallback;
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

  return {
    add: (plugin, spec) => addAll(plugin, [spec], true),
    check: (plugin, specs) => addAll(plugin, specs, false),
    all,
    get: (name) => byName.get(name),
    groups,
    defaultCommand,
  };
}
