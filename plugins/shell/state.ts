/**
 * Reading what the shell hooks wrote: `<dataDir>/shell/<pid>.last` (NUL-separated fields, see
 * scripts.ts), the `latest` pointer, and the capture wrapper's `<pid>.out`.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { STATE_END, STATE_FIELDS, STATE_MAGIC } from "./scripts.ts";
import type { LastCommand } from "./types.ts";

export function shellDir(dataDir: string): string {
  return join(dataDir, "shell");
}

/** Parses a state file; undefined when it is not one or is incomplete (caught mid-write). */
export function parseState(text: string, file: string, mtimeMs: number): LastCommand | undefined {
  const parts = text.split("\0");
  if (parts.length !== STATE_FIELDS + 2 || parts[0] !== STATE_MAGIC || parts[parts.length - 1] !== STATE_END) return undefined;
  const [status, pipe, start, end, duration, shell, pid, sock, pane, promptLines, flags, cwd, command] = parts.slice(1, -1);
  const exitCode = Number.parseInt(status, 10);
  if (!Number.isInteger(exitCode)) return undefined;
  const startMs = epochMs(start);
  const endMs = epochMs(end);
  let durationMs = Number.parseInt(duration, 10);
  if (startMs !== undefined && endMs !== undefined) durationMs = Math.max(0, Math.round(endMs - startMs));
  if (!Number.isFinite(durationMs)) durationMs = 0;
  const flagSet = new Set(flags.split(/\s+/).filter(Boolean));
  return {
    command,
    hidden: flagSet.has("hidden"),
    exitCode,
    pipeStatus: pipe.split(/\s+/).filter(Boolean).map(Number).filter(Number.isInteger),
    cwd,
    startedAt: new Date(startMs ?? mtimeMs - durationMs).toISOString(),
    durationMs,
    shell,
    pid: Number.parseInt(pid, 10) || 0,
    tmux: sock && pane ? { socket: sock, pane } : undefined,
    captured: flagSet.has("captured"),
    promptLines: Math.min(Math.max(Number.parseInt(promptLines, 10) || 1, 1), 20),
    file,
  };
}

/** `1700000000.123456` (bash/zsh EPOCHREALTIME; a comma in some locales) → ms. */
function epochMs(value: string): number | undefined {
  if (!/^\d+(?:[.,]\d+)?$/.test(value)) return undefined;
  return Number.parseFloat(value.replace(",", ".")) * 1000;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The hooks rewrite files in place (truncate, then write: no process per prompt), so a reader can
 * catch one empty or half-written. Retry that for up to this many 20 ms steps: on a busy machine
 * the shell can be descheduled between the two.
 */
const RETRIES = 10;

/** Reads one state file, retrying briefly when it is caught mid-write. */
export function readStateFile(file: string): LastCommand | undefined {
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    let text: string;
    let mtimeMs: number;
    try {
      // Bounded, and a FIFO, device or a link to one is refused (not read): the dir is the user's own, but a
      // file there must not hang or exhaust the key binding.
      const read = readBoundedText(file, { maxBytes: READ_LIMITS.shellState, what: "shell state files" });
      if (read === undefined) return undefined;
      text = read;
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    const parsed = parseState(text, file, mtimeMs);
    if (parsed) return parsed;
    if (!text.startsWith(STATE_MAGIC.slice(0, Math.min(text.length, STATE_MAGIC.length)))) return undefined;
    sleepSync(20);
  }
  return undefined;
}

const PID = /^[0-9]{1,10}$/;

/**
 * The last command of `session` (the PID in OPSTERM_SHELL_SESSION, set by the integration in
 * the shell that runs opsterm), else of the shell that finished a command most recently.
 */
export function readLastCommand(dir: string, session?: string): LastCommand | undefined {
  if (session && PID.test(session)) {
    const own = readStateFile(join(dir, `${session}.last`));
    if (own) return own;
  }
  let pointer = "";
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    try {
      const text = readBoundedText(join(dir, "latest"), { maxBytes: READ_LIMITS.shellState, what: "shell state files" });
      if (text === undefined) return undefined;
      pointer = text.trim();
    } catch {
      return undefined;
    }
    // Empty: caught between the truncation and the write of the PID.
    if (pointer !== "") break;
    sleepSync(20);
  }
  return PID.test(pointer) ? readStateFile(join(dir, `${pointer}.last`)) : undefined;
}

/** The capture wrapper's output for the shell that ran `last`, at most `maxBytes` from the end. */
export function readCapture(dir: string, pid: number, maxBytes = 256 * 1024): string | undefined {
  const file = join(dir, `${pid}.out`);
  // Only a regular file: a FIFO would block the open, a device would never end.
  if (!statSafe(file)?.isFile()) return undefined;
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const size = st.size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    let text = buf.toString("utf8");
    // Cut a partial first line (and a split multi-byte character) when the head was dropped.
    if (length < size) text = text.slice(text.indexOf("\n") + 1);
    return text;
  } finally {
    closeSync(fd);
  }
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Deletes state of shells that have not written for `maxAgeDays` (files of exited shells). */
export function pruneStale(dir: string, nowMs: number, maxAgeDays = 14): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!/^[0-9]+\.(?:last|out|last\.h)$/.test(name)) continue;
    try {
      const path = join(dir, name);
      if (nowMs - statSync(path).mtimeMs > maxAgeDays * 86_400_000) {
        unlinkSync(path);
        removed++;
      }
    } catch {
      // Another shell's init may have removed it first.
    }
  }
  return removed;
}
