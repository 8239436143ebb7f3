/**
 * Where opsterm keeps its files (DESIGN.md §6): $OPSTERM_HOME, else XDG config and data dirs,
 * plus an optional `.opsterm/` workspace found by walking up from the current directory (read
 * only once trusted: see workspace.ts).
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createWorkspaceAccess, isReservedFolder, WORKSPACE_FOLDER, type WorkspaceAccess } from "./workspace.ts";

export interface Paths {
  configDir: string;
  dataDir: string;
  /**
   * The `.opsterm` folder of the current project, if any. Untrusted until verified: its files
   * are read only through `stateFiles()`, which skips them unless it is trusted.
   */
  workspace?: WorkspaceAccess;
  home: string;
}

export interface PathOptions {
  /** The current user's uid (workspace ownership checks). */
  uid?: number;
}

export function resolvePaths(env: Record<string, string | undefined>, cwd: string, options: PathOptions = {}): Paths {
  const home = env.HOME || homedir();
  const opstermHome = env.OPSTERM_HOME ? resolve(cwd, env.OPSTERM_HOME) : undefined;
  const configDir = opstermHome ?? join(env.XDG_CONFIG_HOME || join(home, ".config"), "opsterm");
  const dataDir = opstermHome ?? join(env.XDG_DATA_HOME || join(home, ".local", "share"), "opsterm");
  const dir = findWorkspace(cwd, configDir, home);
  return { configDir, dataDir, workspace: dir ? createWorkspaceAccess(dir, { configDir, uid: options.uid }) : undefined, home };
}

/** The nearest `.opsterm` folder at or above `cwd` that may be a workspace. */
export function findWorkspace(cwd: string, configDir: string, home: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, WORKSPACE_FOLDER);
    if (isDir(candidate) && !isReservedFolder(candidate, configDir, home)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** `~` and `~/…` against the user's home (what a shell would do for a path in a config file or argument). */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}
