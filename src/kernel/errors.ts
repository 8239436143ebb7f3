/**
 * Typed errors with a stable code, a one-line message, a hint and an exit code (DESIGN.md §7).
 * Expected failures throw these; anything else that escapes is a bug and is shown with its stack
 * only under `--debug`.
 */

import { EXIT } from "./exit-codes.ts";
import { errorInfo, type ErrorCode } from "./error-codes.ts";

export { EXIT, type ExitCode } from "./exit-codes.ts";
export { ERROR_CODES, errorInfo, type ErrorCode, type ErrorInfo } from "./error-codes.ts";

export interface ErrorOptions {
  hint?: string;
  plugin?: string;
  hook?: string;
  cause?: unknown;
  exitCode?: number;
}

/**
 * Base class of every error opsterm expects to happen.
 * @example throw new OpstermError("E_SCP_NOT_FOUND", "web1:/etc/x does not exist", { hint: "Check the path" })
 */
export class OpstermError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;
  plugin?: string;
  hook?: string;

  /**
   * The exit code is the one given, else the subclass's (a UsageError is always 2), else the
   * catalogue's for `code`; the hint is the one given, else the catalogue's.
   */
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}, defaultExit?: number) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info = errorInfo(code);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? defaultExit ?? (typeof info?.exit === "number" ? info.exit : EXIT.FAILURE);
    this.hint = options.hint ?? info?.hint;
    this.plugin = options.plugin;
    this.hook = options.hook;
  }
}

/** Wrong arguments or flags (exit 2). */
export class UsageError extends OpstermError {
  constructor(message: string, options: ErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_USAGE", message, options, EXIT.USAGE);
  }
}

/** A config file that is missing a value, has an unknown key or a wrong type (exit 78). */
export class ConfigError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.CONFIG);
  }
}

/** Input data that cannot be parsed: YAML, JSON, a batch line (exit 65). */
export class DataError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.DATA);
  }
}

/** A host, provider or tool that cannot be reached (exit 69). */
export class UnavailableError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.UNAVAILABLE);
  }
}

/** Local I/O failed; the audit log uses it to fail closed (exit 74). */
export class IoError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.IO);
  }
}

/** Try again later: rate limited, lock held (exit 75). */
export class TemporaryError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.TEMPORARY);
  }
}

/** Refused by policy, by the user at an approval prompt, or an untrusted plugin (exit 77). */
export class DeniedError extends OpstermError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options, EXIT.DENIED);
  }
}

/** Ctrl-C or an aborted signal (exit 130). */
export class InterruptedError extends OpstermError {
  constructor(message = "Interrupted", options: ErrorOptions = {}) {
    super("E_INTERRUPTED", message, options, EXIT.INTERRUPTED);
  }
}

/** An unexpected throw inside a plugin's hook or setup, attributed to the plugin. */
export class PluginError extends OpstermError {
  constructor(plugin: string, where: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("E_PLUGIN", `Plugin "${plugin}" failed in ${where}: ${reason}`, {
      plugin,
      hook: where,
      cause,
      hint: `Run with --debug for the stack; "opsterm plugin remove ${plugin}" disables a user plugin`,
    });
  }
}

/** True for errors opsterm raised on purpose (no stack trace unless --debug). */
export function isOpstermError(error: unknown): error is OpstermError {
  return error instanceof OpstermError;
}

const SYSTEM_HINTS: Record<string, (path: string) => string> = {
  EACCES: (p) => `Check the permissions of ${p} (and of the directories above it)`,
  EPERM: (p) => `Check the permissions of ${p} (and of the directories above it)`,
  ENOTDIR: (p) => `A file is in the way where a directory should be on the path ${p}; check OPSTERM_HOME and XDG_* variables`,
  EEXIST: (p) => `${p} exists but is not what opsterm expects (a file where a directory should be?); check OPSTERM_HOME`,
  EISDIR: (p) => `${p} is a directory where opsterm expects a file; move it away`,
  ENOSPC: () => "The disk is full: free some space and run again",
  EDQUOT: () => "The disk quota is exhausted: free some space and run again",
  EROFS: (p) => `${p} is on a read-only file system; point OPSTERM_HOME at a writable directory`,
  EMFILE: () => "Too many open files: raise the limit (ulimit -n) or run fewer at once",
  ENFILE: () => "Too many open files on the system: try again later",
  ELOOP: (p) => `${p} is a symbolic link loop`,
  ENAMETOOLONG: (p) => `${p} is too long a path`,
};

/**
 * Turns a Node system error from the file system (EACCES, ENOTDIR, EISDIR, ENOSPC …) into an
 * IoError (exit 74) that names the path and what to do: these are facts about the machine, not
 * bugs in opsterm. Anything else is returned unchanged. `path` names the file when the error
 * itself does not (reads of a directory report EISDIR without one).
 */
export function fromSystemError(error: unknown, path?: string): unknown {
  if (isOpstermError(error) || !(error instanceof Error)) return error;
  const e = error as NodeJS.ErrnoException;
  const hint = typeof e.code === "string" ? SYSTEM_HINTS[e.code] : undefined;
  if (!hint || typeof e.syscall !== "string") return error;
  const where = e.path ?? (e as { dest?: string }).dest ?? path ?? "a file";
  // "EISDIR: illegal operation on a directory, read" → "illegal operation on a directory"
  const reason = e.message.replace(/^\w+: /, "").replace(/, \w+( '.*')?( -> '.*')?$/, "");
  return new IoError(`E_IO_${e.code}`, `Cannot ${e.syscall} ${where}: ${reason}`, { hint: hint(where), cause: error });
}
