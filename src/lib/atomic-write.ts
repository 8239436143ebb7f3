/**
 * Atomic file replacement: temp file in the same directory, fsync, rename, so a crash leaves
 * either the old or the new content, never half of one. Modes are set explicitly, so the
 * caller's umask cannot widen them.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

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
