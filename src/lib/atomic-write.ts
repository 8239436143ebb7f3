/**
 * Atomic file replacement: temp file in the same directory, fsync, rename, so a crash leaves
 * either the old or the new content, never half of one. Modes are set explicitly, so the
 * caller's umask cannot widen them.
 *
 * Hand-written rather than write-file-atomic: the audit anchor is replaced twice per action, and
 * that library registered and removed exit handlers for every signal, resolved the real path and
 * promisified fs on each call, about 0.7 ms of CPU per write (measured with `bench:mcp`). A crash
 * leaves at most a `NAME.PID.N.tmp` beside the file, never a torn file.
 */
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { DeniedError } from "../kernel/errors.ts";

export interface AtomicWriteOptions {
  /** File mode, default 0600 (state files may hold secrets). */
  mode?: number;
  /** Mode for a created parent directory, default 0700. */
  dirMode?: number;
  /**
   * fsync the directory after the rename (default true), so the new name survives a power loss.
   * Only a caller that recovers from finding the previous version after a crash may skip it.
   */
  syncDir?: boolean;
}

export async function atomicWrite(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  atomicWriteSync(path, data, options);
}

let tempCounter = 0;

export function atomicWriteSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const target = writeTarget(path);
  const dir = dirname(target);
  ensureDir(dir, options.dirMode ?? 0o700);
  const mode = options.mode ?? 0o600;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let tmp = "";
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    tmp = `${target}.${process.pid}.${++tempCounter}.tmp`;
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    } catch (error) {
      // A leftover of a crashed process with a recycled pid: take the next name.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 100) throw error;
    }
  }
  try {
    fchmodSync(fd, mode);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created: nothing to clean.
    }
    throw error;
  }
  if (options.syncDir !== false) fsyncDir(dir);
}

/**
 * Where `path` is written: a file kept as a symlink (a dotfiles checkout) is updated where it
 * points, not replaced; a dangling link is replaced itself rather than create a file it names.
 */
function writeTarget(path: string): string {
  if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return path;
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** write(2) until every byte is out (a regular file may take a large buffer in pieces). */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/** mkdir -p with an explicit mode on every directory it creates (umask-proof). */
export function ensureDir(path: string, mode = 0o700): void {
  const created = mkdirSync(path, { recursive: true, mode });
  if (created) chmodSync(path, mode);
  // mkdirSync returns only the first created dir; fix modes of the whole created chain.
  if (created && created !== path) {
    let dir = dirname(path);
    while (dir.length >= created.length) {
      chmodSync(dir, mode);
      if (dir === created) break;
      dir = dirname(dir);
    }
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A private state directory (OPSTERM_HOME, the data dir, audit/): created 0700 if missing; one that
 * already exists with group/other bits (made by hand, by an older version, under umask 000) is
 * tightened to 0700; one owned by another user is refused (E_STATE_DIR_OWNER, exit 77): its owner
 * could read or swap what opsterm writes there. Returns the old mode when it tightened one.
 */
export function securePrivateDir(path: string): { tightenedFrom?: number } {
  let st;
  try {
    st = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    ensureDir(path, 0o700);
    return {};
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.isDirectory() && st.uid !== uid) {
    throw new DeniedError("E_STATE_DIR_OWNER", `${path} belongs to uid ${st.uid}, not to you (uid ${uid}): opsterm does not keep its state there`, {
      hint: `Use a directory of your own (OPSTERM_HOME), or chown it to yourself if it is yours`,
    });
  }
  if (!st.isDirectory() || (st.mode & 0o077) === 0) return {};
  chmodSync(path, 0o700);
  return { tightenedFrom: st.mode & 0o777 };
}
