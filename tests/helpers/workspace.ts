/**
 * Workspace trust for tests: record a `.opsterm/` folder in the trust store exactly as
 * `opsterm workspace trust` does (same inspection, same store), and build Paths that see it.
 */
import { createWorkspaceAccess, inspectWorkspace, updateWorkspaceStore } from "../../src/kernel/workspace.ts";
import type { Paths } from "../../src/kernel/paths.ts";

export async function trustWorkspace(configDir: string, dir: string): Promise<void> {
  const state = inspectWorkspace(dir, { configDir, uid: process.getuid?.() });
  if (state.status === "refused") throw new Error(`test workspace ${dir} ${state.reason}`);
  await updateWorkspaceStore(configDir, (store) => {
    store.workspaces = store.workspaces.filter((w) => w.path !== state.realDir);
    store.workspaces.push({ path: state.realDir, files: state.files ?? {}, trustedAt: new Date().toISOString() });
  });
}

/** Paths with `configDir` and, if given, the workspace folder `workspaceDir` (trusted or not, as the store says). */
export function pathsFor(configDir: string, workspaceDir?: string, home = "/home/me"): Paths {
  return {
    configDir,
    dataDir: configDir,
    home,
    workspace: workspaceDir ? createWorkspaceAccess(workspaceDir, { configDir, uid: process.getuid?.() }) : undefined,
  };
}
