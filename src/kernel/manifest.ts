/**
 * The trust store, `plugins.json` in the config dir: each user plugin's absolute path, the
 * SHA-256 of its file when it was trusted, and the commands it had, so a changed file can be
 * refused by name (even for its own commands) without running a byte of it.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { readJsonStore, updateJsonStore, versionedListSpec } from "../lib/json-store.ts";

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

const storeSpec = (configDir: string) =>
  versionedListSpec<TrustStore>(manifestPath(configDir), "plugins", "E_TRUST_STORE", `Move it away and add your plugins again with "opsterm plugin add <path>"`);

export function readTrustStore(configDir: string): TrustStore {
  return readJsonStore(storeSpec(configDir));
}

/** Read-modify-write under a lock, so two `plugin add` at once both land. */
export async function updateTrustStore(configDir: string, change: (store: TrustStore) => void): Promise<TrustStore> {
  return updateJsonStore(storeSpec(configDir), change);
}
