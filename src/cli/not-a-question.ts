/**
 * Words that look like a command but are not one, and command lines that look like a question:
 * what the CLI says instead of silently sending them to the AI, or failing with a bare usage error.
 */
import type { RegisteredCommand, CommandRegistry } from "../kernel/commands.ts";
import { UsageError } from "../kernel/errors.ts";
import { distance } from "../lib/schema.ts";

/** English words that start questions and sit one letter away from a command name (`set`~`get`, `list`~`last`). */
const PLAIN_WORDS = new Set([
  ...["set", "let", "yet", "net", "bet", "but", "cut", "put", "list", "lost", "fast", "past", "test", "best", "rest", "exit", "edit", "ask", "hi", "hey", "hello", "pit", "pot", "pull", "push", "post"],
  // Words a question starts with (`what` is one letter from `chat`, `how`/`who` from `hop`…).
  ...["what", "whats", "what's", "why", "how", "hows", "who", "whom", "whose", "when", "where", "which", "whether", "is", "are", "am", "was", "were", "can", "could", "would", "should", "shall", "will", "does", "do", "did", "has", "have", "had", "may", "might", "must", "tell", "show", "give", "make", "find", "check", "fix", "please", "explain", "describe", "compare", "write", "why's", "i", "my", "the", "a", "an", "in", "on", "to", "of", "for", "with"],
]);

/** The command name `word` is a typo of: one edit for short words, two from five letters, or an unambiguous start (`hist`). */
export function nearCommand(word: string, names: string[]): string | undefined {
  const w = word.toLowerCase();
  if (PLAIN_WORDS.has(w) || names.includes(w)) return undefined;
  const budget = w.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const name of names) {
    // A prefix counts only when it is most of the name: `hist` is history, `hi` is a greeting.
    const score = w.length >= 3 && name.startsWith(w) && w.length * 2 >= name.length ? 0.5 : distance(w, name);
    if (score < bestScore) [best, bestScore] = [name, score];
  }
  return bestScore <= budget ? best : undefined;
}

const q = (words: string[]) => `"${words.join(" ").replace(/(["\\$`])/g, "\\$1")}"`;

/**
 * No command matched `argv`. A word that is nearly a command name is a typo: one word alone, or
 * any words when stdin is not a terminal (a script), get "did you mean" (exit 2). On a terminal a
 * longer line is still a question, with a one-line note of what it looked like.
 */
export function mistypedCommand(registry: CommandRegistry, argv: string[], interactive: boolean, note: (text: string) => void): UsageError | undefined {
  const first = argv[0];
  if (!first || first.startsWith("-")) return undefined;
  const names = [...new Set(registry.all().filter((c) => !c.hidden).map((c) => c.name.split(" ")[0]))];
  const guess = nearCommand(first, names);
  if (!guess) return undefined;
  const alone = argv.length === 1;
  if (alone || !interactive) {
    return new UsageError(`Unknown command "${first}", did you mean "${guess}"?`, {
      code: "E_UNKNOWN_COMMAND",
      hint: alone ? `Run "opsterm --help" for the list of commands` : `To ask the AI, run: opsterm ask ${q(argv)}`,
    });
  }
  note(`taking this as a question for the AI ("${first}" is not a command; did you mean "${guess}"?)`);
  return undefined;
}

/**
 * A usage error from parsing a command's arguments, made useful: an option meant for the remote
 * command before `--` (`exec web1 ls -la`), or a sentence that starts with a command word
 * (`opsterm get the size of /var`) is a question for `opsterm ask`.
 */
export function explainUsageError(error: UsageError, command: RegisteredCommand, argv: string[]): UsageError {
  const unknownOption = /Unknown option "([^"]+)"/.exec(error.message)?.[1];
  const rest = /(?:\.\.\.(\w+)|(\w+)\.\.\.)[\]>]/.exec(command.usage ?? "");
  if (unknownOption && rest && !argv.includes("--")) {
    const fixed = (command.usage ?? "").split(/\s+/).filter((w) => w && !w.includes("...")).length;
    const at = firstRestIndex(command, argv, fixed);
    // Only when a word of the remote command came first (`exec web1 ls -la`): `--paralel` right
    // after the target is a misspelt option of opsterm's own.
    if (at < 0 || argv[at].startsWith("-")) return error;
    const line = `opsterm ${[command.name, ...argv.slice(0, at), "--", ...argv.slice(at)].join(" ")}`;
    const typed = argv.find((a) => a === unknownOption || (a.startsWith(unknownOption) && !a.startsWith("--"))) ?? unknownOption;
    return new UsageError(`${command.name}: "${typed}" is not an option of opsterm ${command.name}; put the ${rest[1] ?? rest[2]} after "--"`, {
      code: "E_OPTION_BEFORE_DASHDASH",
      hint: `Run: ${line}`,
    });
  }
  const words = [command.name.split(" ")[0], ...argv];
  if (words.length >= 4 && argv.every((a) => !a.startsWith("-")) && /Unused args|missing argument/.test(error.message)) {
    return new UsageError(error.message, { code: error.code, hint: `"opsterm ${command.name}" is a command (${command.description.split(/[.:;(]/)[0].trim()}). To ask the AI, run: opsterm ask ${q(words)}` });
  }
  return error;
}

/** Index in argv of the first word of the rest positional, skipping options and their values. */
function firstRestIndex(command: RegisteredCommand, argv: string[], fixed: number): number {
  const valued = new Set((command.options ?? []).filter((o) => /[<[]/.test(o.flags)).flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith("-"))));
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token.startsWith("-")) {
      if (valued.has(token)) i++;
      if (positionals >= fixed) return i;
      continue;
    }
    if (positionals === fixed) return i;
    positionals++;
  }
  return -1;
}
