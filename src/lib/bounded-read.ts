/**
 * Reads a state file whole, with a size cap, and only if it is a regular file: a device, a FIFO,
 * a socket or a symlink to one is refused before a byte is read. A hostile or broken file
 * (`servers.yaml -> /dev/zero`, a named pipe nobody writes to) gives a one-line error, never a
 * hang or gigabytes of memory. Every reader of opsterm's own files goes through here.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { DataError, fromSystemError, IoError, type ErrorCode } from "../kernel/errors.ts";

const MiB = 1024 * 1024;

/** Size caps by kind of file (README "Configuration and state" lists them). */
export const READ_LIMITS = {
  /** config.yaml, servers.yaml, policy.yaml, workflows: hand-written YAML. */
  yaml: 4 * MiB,
  /** plugins.json, workspaces.json and other small JSON state. */
  json: 4 * MiB,
  /** known_hosts and ~/.ssh/config: machine-written, can list thousands of hosts. */
  ssh: 16 * MiB,
  /** history.journal and its pending files (compacted at 1 MiB). */
  journal: 16 * MiB,
  /** A user plugin's module. */
  plugin: 16 * MiB,
  /** A file inside a workspace `.opsterm/` (hashed when trusting it). */
  workspaceFile: 4 * MiB,
  /** audit.jsonl, read whole by verify/log/show (~1.3 million records; start a new chain before). */
  auditLog: 512 * MiB,
  /** A shell's `<pid>.last` state file and the `latest` pointer (one command line each). */
  shellState: 1 * MiB,
} as const;

/** The typed error to throw (DataError, ConfigError …): callers choose the exit code. */
export type ErrorClass = new (code: ErrorCode, message: string, opts?: { hint?: string }) => Error;

export interface BoundedReadOptions {
  maxBytes: number;
  errorClass?: ErrorClass;
  /** Shown in the size message, e.g. "config files". */
  what?: string;
}

/** The file's bytes, or undefined when it does not exist. */
export function readBounded(path: string, options: BoundedReadOptions): Buffer | undefined {
  const errorClass = options.errorClass ?? DataError;
  let fd: number;
  try {
    // stat first: opening a device or a FIFO can itself block or have effects.
    checkType(path, statSync(path), errorClass);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fromSystemError(error, path);
  }
  try {
    // Again on what was opened: the path may have been swapped in between.
    const stats = fstatSync(fd);
    checkType(path, stats, errorClass);
    if (stats.size > options.maxBytes) throw tooBig(path, options, errorClass);
    return readAll(fd, path, options, errorClass);
  } catch (error) {
    throw fromSystemError(error, path);
  } finally {
    closeSync(fd);
  }
}

/** readBounded() as UTF-8 text. */
export function readBoundedText(path: string, options: BoundedReadOptions): string | undefined {
  return readBounded(path, options)?.toString("utf8");
}

function readAll(fd: number, path: string, options: BoundedReadOptions, errorClass: ErrorClass): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // The file may grow after fstat: never read more than the cap allows.
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, options.maxBytes + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > options.maxBytes) throw tooBig(path, options, errorClass);
    chunks.push(chunk.subarray(0, n));
  }
  return Buffer.concat(chunks, total);
}

function checkType(path: string, stats: Stats, errorClass: ErrorClass): void {
  if (stats.isFile()) return;
  if (stats.isDirectory()) throw new IoError("E_IO_EISDIR", `Cannot read ${path}: it is a directory`, { hint: `${path} is a directory where opsterm expects a file; move it away` });
  throw new errorClass("E_FILE_TYPE", `${path} is ${fileKind(stats)}, not a regular file: opsterm does not read it`, {
    hint: `Replace ${path} with a regular file (a symbolic link must point at one)`,
  });
}

/** "a character device", "a FIFO" …: for messages. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

function tooBig(path: string, options: BoundedReadOptions, errorClass: ErrorClass): Error {
  const cap = options.maxBytes >= MiB ? `${options.maxBytes / MiB} MiB` : `${Math.round(options.maxBytes / 1024)} KiB`;
  return new errorClass("E_FILE_TOO_BIG", `${path} is larger than ${cap}, the cap for ${options.what ?? "this file"}: opsterm does not read it`, {
    hint: `Check that ${path} is the file you meant; a ${options.what ?? "file"} this large is not one opsterm wrote`,
  });
}
