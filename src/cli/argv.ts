/**
 * Splits argv into global flags, the command words and the rest, before cac sees it: cac only
 * matches one word, so groups (`plugin add`) are resolved here (cac issue #170).
 */
import type { CommandRegistry, RegisteredCommand } from "../kernel/commands.ts";
import { UsageError } from "../kernel/errors.ts";
import { closest } from "../lib/schema.ts";

export interface GlobalFlags {
  json: boolean;
  debug: boolean;
  color: boolean | undefined;
  help: boolean;
  version: boolean;
}

export const GLOBAL_OPTIONS = [
  { flags: "--json", description: "Machine-readable output: JSON lines, one object per line (errors: one object on stderr)" },
  { flags: "--debug", description: "Show debug output and stack traces" },
  { flags: "--no-color", description: "Plain output (also: NO_COLOR=1)" },
  { flags: "-h, --help", description: "Show help (also after a command)" },
  { flags: "-v, --version", description: "Print the version" },
] as const;

/** Reads global flags anywhere before `--`; they are removed from the returned argv. */
export function extractGlobalFlags(argv: string[]): { flags: GlobalFlags; rest: string[] } {
  const flags: GlobalFlags = { json: false, debug: false, color: undefined, help: false, version: false };
  const rest: string[] = [];
  let passthrough = false;
  for (const token of argv) {
    if (passthrough || token === "--") {
      passthrough = true;
      rest.push(token);
      continue;
    }
    if (token === "--json") flags.json = true;
    else if (token === "--debug") flags.debug = true;
    else if (token === "--no-color") flags.color = false;
    else if (token === "--color") flags.color = true;
    else if (token === "-h" || token === "--help") flags.help = true;
    else if (token === "-v" || token === "--version" || token === "-V") flags.version = true;
    else rest.push(token);
  }
  return { flags, rest };
}

export type Resolution =
  | { kind: "command"; command: RegisteredCommand; rest: string[]; /** Set when a bare group word ran its default action. */ group?: string }
  | { kind: "group"; group: string; actions: RegisteredCommand[] }
  | { kind: "none" };

/** Finds the command named by the leading words of argv (options are skipped). */
export function resolveCommand(registry: CommandRegistry, argv: string[]): Resolution {
  const words = leadingWords(argv);
  if (words.length === 0) return { kind: "none" };
  const [first, second] = words;
  const groups = registry.groups();
  const group = groups.get(first);
  if (group) {
    const action = second !== undefined ? registry.get(`${first} ${second}`) : undefined;
    if (action) return { kind: "command", command: action, rest: without(argv, [first, second!]) };
    const fallback = group.find((c) => c.groupDefault);
    if (fallback) return { kind: "command", command: fallback, rest: without(argv, [first]), group: second === undefined ? first : undefined };
    if (second !== undefined) {
      const names = group.map((c) => c.name.split(" ")[1]);
      const guess = closest(second, names);
      throw new UsageError(`Unknown action "${second}" for "${first}"${guess ? `, did you mean "${first} ${guess}"?` : ""}`, {
        code: "E_UNKNOWN_COMMAND",
        hint: `Actions: ${names.join(", ")}. See "opsterm ${first} --help"`,
      });
    }
    return { kind: "group", group: first, actions: group };
  }
  const single = registry.get(first);
  if (single) return { kind: "command", command: single, rest: without(argv, [first]) };
  return { kind: "none" };
}

/** The unknown-command error, with the nearest command name as a suggestion. */
export function unknownCommand(registry: CommandRegistry, word: string): UsageError {
  const names = [...new Set(registry.all().map((c) => c.name.split(" ")[0]))];
  const guess = closest(word, names);
  return new UsageError(`Unknown command "${word}"${guess ? `, did you mean "${guess}"?` : ""}`, {
    code: "E_UNKNOWN_COMMAND",
    hint: `Run "opsterm --help" for the list of commands`,
  });
}

/** Positional words before the first option or `--`. */
export function leadingWords(argv: string[]): string[] {
  const words: string[] = [];
  for (const token of argv) {
    if (token === "--" || token.startsWith("-")) break;
    words.push(token);
    if (words.length === 2) break;
  }
  return words;
}

function without(argv: string[], words: string[]): string[] {
  const rest = [...argv];
  for (const w of words) rest.splice(rest.indexOf(w), 1);
  return rest;
}
