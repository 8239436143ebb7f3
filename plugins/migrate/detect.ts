/**
 * Where the original OpsTerm kept its files, whether they were migrated, and the once-a-day
 * reminder. The original used $OPSTERM_DIR, else ~/.opsterm, and before that ~/.ai-workflows (it
 * moved the files from there to ~/.opsterm on first run, unless ~/.opsterm already existed).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** The files of the original that migrate reads. */
export const ORIGINAL_FILES = ["config.yaml", "servers.yaml", "workflows.yaml", "history.db"] as const;

export interface OriginalFolder {
  dir: string;
  /** Why this folder: which variable or default. */
  via: "OPSTERM_DIR" | "~/.opsterm" | "~/.ai-workflows" | "--from";
  files: string[];
}

function filesIn(dir: string): string[] {
  return ORIGINAL_FILES.filter((f) => {
    try {
      return statSync(join(dir, f)).isFile();
    } catch {
      return false;
    }
  });
}

/** A folder holding at least one of the original's files, else undefined. */
export function originalAt(dir: string, via: OriginalFolder["via"]): OriginalFolder | undefined {
  const files = filesIn(dir);
  return files.length ? { dir, via, files } : undefined;
}

/**
 * The original's folder on this machine, in the order the original itself chose it. opsterm's
 * own config folder is never one (OPSTERM_HOME may point at ~/.opsterm).
 */
export function findOriginal(env: Record<string, string | undefined>, home: string, configDir: string): OriginalFolder | undefined {
  const own = resolve(configDir);
  const candidates: [string | undefined, OriginalFolder["via"]][] = [
    [env.OPSTERM_DIR ? resolve(home, env.OPSTERM_DIR) : undefined, "OPSTERM_DIR"],
    [join(home, ".opsterm"), "~/.opsterm"],
    [join(home, ".ai-workflows"), "~/.ai-workflows"],
  ];
  for (const [dir, via] of candidates) {
    if (!dir || resolve(dir) === own) continue;
    const found = originalAt(dir, via);
    if (found) return found;
  }
  return undefined;
}

/** Size and modification time of each file: a change after migrating means "migrate again". */
export function fingerprint(dir: string): string {
  return ORIGINAL_FILES.map((f) => {
    try {
      const st = statSync(join(dir, f));
      return `${f}:${st.size}:${Math.trunc(st.mtimeMs)}`;
    } catch {
      return `${f}:-`;
    }
  }).join(" ");
}

export interface MigrationRecord {
  at: string;
  fingerprint: string;
}

/** `$dataDir/migrated.json`: the folders migrated, by absolute path. */
export function markerPath(dataDir: string): string {
  return join(dataDir, "migrated.json");
}

export function readMarker(dataDir: string): Record<string, MigrationRecord> {
  try {
    const text = readFileSync(markerPath(dataDir), "utf8");
    if (text.length > 64 * 1024) return {};
    const data = JSON.parse(text) as { sources?: Record<string, MigrationRecord> };
    return typeof data.sources === "object" && data.sources !== null ? data.sources : {};
  } catch {
    return {};
  }
}

export async function writeMarker(dataDir: string, dir: string): Promise<void> {
  const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
  const sources = readMarker(dataDir);
  sources[resolve(dir)] = { at: new Date().toISOString(), fingerprint: fingerprint(dir) };
  await atomicWrite(markerPath(dataDir), JSON.stringify({ sources }, null, 2) + "\n");
}

/** "never" (not migrated), "changed" (files changed since), or "done". */
export function migrationState(dataDir: string, dir: string): "never" | "changed" | "done" {
  const record = readMarker(dataDir)[resolve(dir)];
  if (!record) return "never";
  return record.fingerprint === fingerprint(dir) ? "done" : "changed";
}

/** The reminder is shown at most once a day; this file holds when it was last shown. */
export const NOTICE_INTERVAL_MS = 24 * 60 * 60 * 1000;

export function noticePath(dataDir: string): string {
  return join(dataDir, "migrate-notice");
}

export function noticeDue(dataDir: string, now: number): boolean {
  const path = noticePath(dataDir);
  if (!existsSync(path)) return true;
  try {
    const last = Number(readFileSync(path, "utf8").trim());
    return !Number.isFinite(last) || now - last >= NOTICE_INTERVAL_MS || last > now;
  } catch {
    return true;
  }
}
