/**
 * The answer of `opsterm __complete servers`, kept in the data dir and reused while the files it
 * came from are unchanged: a TAB press then costs a stat per file and one small JSON read, no
 * YAML parsing and no plugin setup. Only ids and tags are kept (no hosts, users or keys).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../kernel/paths.ts";

const FILE = "completion-cache.json";
const MAX_BYTES = 1 << 20;

/** What the candidates depend on: both servers.yaml files, workspace trust, the workspace itself. */
function cacheKey(paths: Paths): string {
  const files = [join(paths.configDir, "servers.yaml"), join(paths.configDir, "workspaces.json")];
  if (paths.workspace) files.push(join(paths.workspace.dir, "servers.yaml"));
  const parts = files.map((path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    return s ? `${path}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : `${path}:-`;
  });
  return [paths.workspace?.dir ?? "", ...parts].join("|");
}

export function readCompletionCache(paths: Paths): string[] | undefined {
  try {
    const path = join(paths.dataDir, FILE);
    const s = statSync(path, { throwIfNoEntry: false });
    if (!s?.isFile() || s.size > MAX_BYTES) return undefined;
    const cached = JSON.parse(readFileSync(path, "utf8")) as { key?: unknown; words?: unknown };
    if (cached.key !== cacheKey(paths) || !Array.isArray(cached.words)) return undefined;
    return cached.words.filter((w): w is string => typeof w === "string");
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only makes the next TAB slower. */
export function writeCompletionCache(paths: Paths, words: string[]): void {
  try {
    const path = join(paths.dataDir, FILE);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ key: cacheKey(paths), words }), { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // ignored
  }
}
