/**
 * Cross-process mutual exclusion with a lock directory next to the guarded file (Node has no
 * flock). Stale locks from crashed processes are taken over after `staleMs`.
 */
import { TemporaryError } from "../kernel/errors.ts";
import { ensureDir } from "./atomic-write.ts";
import { dirname } from "node:path";

export interface LockOptions {
  /** Give up after this long (exit 75). Default 10 s. */
  timeoutMs?: number;
  /** A lock not refreshed for this long belongs to a dead process. Default 10 s. */
  staleMs?: number;
}

/** Runs `fn` while holding `<path>.lock`. */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  ensureDir(dirname(path));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = Date.now();
  let release: (() => Promise<void>) | undefined;
  let delay = 2;
  // Loaded on first use: proper-lockfile pulls in graceful-fs, which patches fs at import (startup cost).
  const { default: lockfile } = await import("proper-lockfile");
  while (!release) {
    try {
      release = await lockfile.lock(path, {
        realpath: false,
        stale: Math.max(options.staleMs ?? 10_000, 2000),
        lockfilePath: `${path}.lock`,
        // A lost lock mid-write must not crash the process; the write itself is atomic.
        onCompromised: () => {},
      });
    } catch (error) {
      if ((error as { code?: string }).code !== "ELOCKED") throw error;
      if (Date.now() - started > timeoutMs) {
        throw new TemporaryError("E_LOCK_TIMEOUT", `Another opsterm process holds ${path}.lock`, {
          hint: "Wait for it to finish; if none is running, the lock clears itself within 10 s",
        });
      }
      // Jittered backoff keeps 20+ contending processes from marching in step.
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 50);
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}
