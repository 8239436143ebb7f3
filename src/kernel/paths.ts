/**
 * Where opsterm keeps its files (DESIGN.md §6): $OPSTERM_HOME, else XDG config and data dirs,
 * plus an optional `.opsterm/` workspace found by walking up from the current directory.
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface Paths {
  configDir: string;
  dataDir: string;
  /** The `.opsterm` folder of the current project, if any. */
  workspaceDir?: string;
  home: string;
}

export function resolvePaths(env: Record<string, string | undefined>, cwd: string): Paths {
  const home = env.HOME || homedir();
  const opstermHome = env.OPSTERM_HOME ? resolve(cwd, env.OPSTERM_HOME) : undefined;
  const configDir = opstermHome ?? join(env.XDG_CONFIG_HOME || join(home, ".config"), "opsterm");
  const dataDir = opstermHome ?? join(env.XDG_DATA_HOME || join(home, ".local", "share"), "opsterm");
  return { configDir, dataDir, workspaceDir: findWorkspace(cwd, configDir), home };
}

function findWorkspace(cwd: string, configDir: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, ".opsterm");
    // The global config dir may itself be called .opsterm (OPSTERM_HOME=~/.opsterm): not a workspace.
    if (candidate !== configDir && isDir(candidate)) return candidate;
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
