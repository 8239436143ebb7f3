/**
 * The trust store, `plugins.json` in the config dir: each user plugin's absolute path, the
 * SHA-256 of its file when it was trusted, and the commands it had, so a changed file can be
 * refused by name (even for its own commands) without running a byte of it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { atomicWrite } from "../lib/atomic-write.ts";
import { withLock } from "../lib/lock.ts";
import { DataError, fromSystemError } from "./errors.ts";

export interface TrustEntry {
  name: string;
  path: string;
  sha256: string;
  commands: string[];
  addedAt: string;
}

export interface TrustStore {
  version: 1;
  plugins: TrustEntry[];
}

export const manifestPath = (configDir: string) => join(configDir, "plugins.json");

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function readTrustStore(configDir: string): TrustStore {
  const path = manifestPath(configDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, plugins: [] };
    throw fromSystemError(error, path);
  }
  try {
    const data = JSON.parse(text) as TrustStore;
    if (data.version !== 1 || !Array.isArray(data.plugins)) throw new Error("unexpected shape");
    return data;
  } catch (error) {
    throw new DataError("E_TRUST_STORE", `${path} is damaged: ${(error as Error).message}`, {
      hint: `Move it away and add your plugins again with "opsterm plugin add <path>"`,
    });
  }
}

/** Read-modify-write under a lock, so two `plugin add` at once both land. */
export async function updateTrustStore(configDir: string, change: (store: TrustStore) => void): Promise<TrustStore> {
  const path = manifestPath(configDir);
  return withLock(path, async () => {
    const store = readTrustStore(configDir);
    change(store);
    await atomicWrite(path, JSON.stringify(store, null, 2) + "\n");
    return store;
  });
}
