/**
 * `opsterm help errors [CODE]`: the error catalogue — every code with its exit code, what it
 * means and what to do. `--json` prints one object per code.
 */
import { ERROR_CODES, type ErrorInfo } from "../kernel/error-codes.ts";
import { UsageError } from "../kernel/errors.ts";
import type { Io } from "../kernel/context.ts";
import { closest } from "../lib/schema.ts";

export function helpErrors(io: Io, json: boolean, code?: string): number {
  const all = Object.entries(ERROR_CODES) as [string, ErrorInfo][];
  const wanted = code ? all.filter(([c]) => c === code.toUpperCase()) : all;
  if (code && wanted.length === 0) {
    const near = closest(code.toUpperCase(), all.map(([c]) => c));
    throw new UsageError(`No error code "${code}"${near ? `; did you mean ${near}?` : ""}`, { hint: '"opsterm help errors" lists them all' });
  }
  const exitOf = (info: ErrorInfo) => (Array.isArray(info.exit) ? info.exit.join("|") : String(info.exit));
  if (json) {
    for (const [c, info] of wanted) io.out(JSON.stringify({ code: c, exit: info.exit, summary: info.summary, hint: info.hint ?? null }));
    return 0;
  }
  const s = io.style;
  const width = Math.max(...wanted.map(([c]) => c.length));
  if (!code) io.out(s.bold("Error codes") + s.dim("  (exit code, what it means; E_IO_<errno> for file-system errors, exit 74)"));
  for (const [c, info] of wanted) {
    io.out(`${s.bold(c.padEnd(width))}  ${exitOf(info).padStart(5)}  ${info.summary}`);
    if (info.hint && code) io.out(`${" ".repeat(width + 9)}${s.dim(`hint: ${info.hint}`)}`);
  }
  return 0;
}
