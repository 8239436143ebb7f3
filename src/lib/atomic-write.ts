/**
 * Atomic file replacement: temp file in the same directory, fsync, rename, so a crash leaves
 * either the old or the new content, never half of one. Modes are set explicitly, so the
 * caller's umask cannot widen them.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DeniedError } from "../kernel/errors.ts";

export interface AtomicWriteOptions {
  /** File mode, default 0600 (state files may hold secrets). */
  mode?: number;
  /** Mode for a created parent directory, default 0700. */
  dirMode?: number;
}

export async function atomicWrite(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  ensureDir(dirname(path), options.dirMode ?? 0o700);
  // Loaded on first use, to keep it (and its signal-exit handlers) out of startup.
  const { default: writeFileAtomic } = await import("write-file-atomic");
  await writeFileAtomic(path, typeof data === "string" ? data : Buffer.from(data), { mode: options.mode ?? 0o600, fsync: true });
  fsyncDir(dirname(path));
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
