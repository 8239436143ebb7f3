/**
 * vault.enc on disk: read size-capped (never a FIFO or a device), replaced atomically (temp file,
 * fsync, rename; 0600 in a 0700 directory whatever the umask) under a lock, so a crash leaves the
 * old or the new vault and two processes never lose each other's entries.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, rmSync, constants } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DataError } from "../../src/kernel/index.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";
import { withLock } from "../../src/lib/lock.ts";

/** 1,000 entries take ~150 KB; this leaves room for certificates and keys. */
export const MAX_VAULT_BYTES = 16 * 1024 * 1024;

/** The file's text, or undefined when there is no vault. */
export function readVaultFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DataError("E_VAULT_DAMAGED", `${path} is not a regular file; nothing was decrypted`, { hint: "Move it away and restore vault.enc from a backup" });
    if (st.size > MAX_VAULT_BYTES) throw new DataError("E_VAULT_DAMAGED", `${path} is larger than 16 MiB, which no vault written by opsterm is; nothing was decrypted`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < st.size) {
      const got = readSync(fd, buf, n, st.size - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Runs `fn` holding the vault's lock; `fn` reads the current file and returns the new text (or undefined to leave it). */
export async function updateVaultFile(path: string, fn: (current: string | undefined) => Promise<string | undefined> | string | undefined): Promise<void> {
  await withLock(
    path,
    async () => {
      const next = await fn(readVaultFile(path));
      if (next === undefined) return;
      removeStaleTemps(path);
      await atomicWrite(path, next, { mode: 0o600, dirMode: 0o700 });
    },
    // Writes are rare and hold the lock for milliseconds: a cron job had better wait out a
    // crashed holder's lock (taken over after 10 s) than fail.
    { timeoutMs: 20_000 },
  );
}

/**
 * A writer killed between creating its temp file and the rename leaves `vault.enc.<digits>`
 * behind (sealed, 0600, but clutter). Under the lock no other writer is mid-write, so any such
 * file is a leftover.
 */
function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const pattern = new RegExp(`^${basename(path).replace(/\./g, "\\.")}\\.\\d+$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (pattern.test(name)) rmSync(join(dir, name), { force: true });
}
