/**
 * How an error reaches the user: one line with what went wrong, one with what to do.
 * Stacks only with --debug; with --json a JSON object on stderr.
 */
import { isOpstermError, EXIT, fromSystemError } from "../kernel/errors.ts";
import type { Style } from "../lib/style.ts";

export interface FormattedError {
  text: string;
  exitCode: number;
}

export function formatError(raw: unknown, options: { debug: boolean; json: boolean; style: Style }): FormattedError {
  const s = options.style;
  // A file-system error (EACCES, ENOTDIR, ENOSPC …) is about this machine, not a bug: exit 74 with a hint.
  const error = fromSystemError(raw);
  if (isOpstermError(error)) {
    if (options.json) {
      const body = { error: { code: error.code, message: error.message, hint: error.hint?.replace(/(?<![\w/])docs\/([a-z-]+)\.md/g, '"opsterm help $1"'), plugin: error.plugin, hook: error.hook, exitCode: error.exitCode } };
      return { text: JSON.stringify(body), exitCode: error.exitCode };
    }
    // The binary has no docs/ folder next to it: a pointer at a guide names the command that prints it.
    const hint = error.hint?.replace(/(?<![\w/])docs\/([a-z-]+)\.md/g, '"opsterm help $1"');
    const where = error.plugin && !error.message.includes(`"${error.plugin}"`) ? s.dim(` [${error.plugin}${error.hook ? `:${error.hook}` : ""}]`) : "";
    const lines = [`${s.red("error")} ${error.message}${where} ${s.dim(`(${error.code})`)}`];
    if (hint) lines.push(`${s.cyan("hint")}  ${hint}`);
    if (options.debug && error.stack) lines.push(s.dim(causeChain(error)));
    return { text: lines.join("\n"), exitCode: error.exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) return { text: JSON.stringify({ error: { code: "E_INTERNAL", message, exitCode: EXIT.FAILURE } }), exitCode: EXIT.FAILURE };
  const lines = [`${s.red("error")} ${message} ${s.dim("(E_INTERNAL)")}`];
  lines.push(options.debug && error instanceof Error ? s.dim(causeChain(error)) : `${s.cyan("hint")}  This is a bug in opsterm; run again with --debug and report the stack`);
  return { text: lines.join("\n"), exitCode: EXIT.FAILURE };
}

function causeChain(error: Error): string {
  const parts = [error.stack ?? error.message];
  let cause = error.cause;
  while (cause instanceof Error) {
    parts.push(`caused by: ${cause.stack ?? cause.message}`);
    cause = cause.cause;
  }
  return parts.join("\n");
}
