/**
 * `opsterm workspace trust|status|list|untrust`: the user interface of workspace trust
 * (src/kernel/workspace.ts). A project's `.opsterm/` is read only after `workspace trust`.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { defineCommand, type CommandSpec } from "../../kernel/commands.ts";
import type { CommandContext } from "../../kernel/context.ts";
import { DeniedError, UsageError } from "../../kernel/errors.ts";
import { inspectWorkspace, isReservedFolder, readWorkspaceStore, updateWorkspaceStore, WORKSPACE_FOLDER, type WorkspaceState } from "../../kernel/workspace.ts";

/** The project folder (or its .opsterm/ itself); default: the workspace of the current directory. */
const DIR_USAGE = "[dir]";

/** The `.opsterm` folder an argument names; `mustExist` for trust and status. */
function workspaceArg(ctx: CommandContext, dir: unknown, mustExist: boolean): string {
  let folder: string;
  if (dir === undefined) {
    const found = ctx.paths.workspace?.dir;
    if (!found) {
      throw new UsageError(`No ${WORKSPACE_FOLDER}/ folder in ${ctx.runtime.cwd()} or above it`, {
        code: "E_WORKSPACE_NONE",
        hint: "Run it inside a project that has a .opsterm/ folder, or give the project folder: opsterm workspace trust ~/src/app",
      });
    }
    folder = found;
  } else {
    const given = resolve(ctx.runtime.cwd(), String(dir));
    folder = basename(given) === WORKSPACE_FOLDER ? given : join(given, WORKSPACE_FOLDER);
  }
  if (isReservedFolder(folder, ctx.paths.configDir, ctx.paths.home)) {
    throw new UsageError(`${folder} is never a workspace: it is the global config dir or $HOME/.opsterm (the original OpsTerm's global folder)`, {
      code: "E_WORKSPACE_RESERVED",
      hint: "Trust a project folder instead",
    });
  }
  if (mustExist && !isDirectory(folder)) {
    throw new UsageError(`${folder} is not a folder`, { code: "E_WORKSPACE_NONE", hint: "Give a project folder that holds a .opsterm/ folder" });
  }
  return folder;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const inspect = (ctx: CommandContext, dir: string) => inspectWorkspace(dir, { configDir: ctx.paths.configDir, uid: ctx.runtime.uid });

function stateJson(s: WorkspaceState) {
  return { dir: s.dir, realDir: s.realDir, project: s.project, status: s.status, reason: s.reason ?? null, hint: s.hint ?? null, changes: s.changes ?? null, files: s.files ?? null };
}

const trust = defineCommand({
  name: "workspace trust",
  groupDescription: "Trust a project's .opsterm/ folder, or see which ones are",
  description: "Trust a project's .opsterm/ folder: record its real path and the SHA-256 of every file in it",
  usage: DIR_USAGE,
  examples: ["opsterm workspace trust            # the .opsterm/ of the current directory or above", "opsterm workspace trust ~/src/app  # after reviewing ~/src/app/.opsterm/"],
  async action(args, ctx) {
    const dir = workspaceArg(ctx, args.dir, true);
    const state = inspect(ctx, dir);
    if (state.status === "refused") throw new DeniedError("E_WORKSPACE_REFUSED", `Cannot trust ${dir}: it ${state.reason?.replace(/^is refused: /, "is unsafe: ")}`, { hint: state.hint });
    const files = state.files ?? {};
    const trustedAt = new Date().toISOString();
    await updateWorkspaceStore(ctx.paths.configDir, (store) => {
      store.workspaces = store.workspaces.filter((w) => w.path !== state.realDir);
      store.workspaces.push({ path: state.realDir, files, trustedAt });
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ dir, realDir: state.realDir, files, trustedAt, was: state.status }));
    const names = Object.keys(files);
    ctx.io.out(`${ctx.io.style.green("trusted")} workspace ${state.realDir} (${names.length} file${names.length === 1 ? "" : "s"})`);
    for (const name of names) ctx.io.out(`  ${files[name].slice(0, 12)}  ${name}`);
    ctx.io.out(ctx.io.style.dim("A file added, removed or changed there makes it untrusted again."));
  },
});

const status = defineCommand({
  name: "workspace status",
  description: "Say whether the workspace is read, and if not why (exit 0 only when it is trusted)",
  usage: DIR_USAGE,
  examples: ["opsterm workspace status", "opsterm workspace status ~/src/app --json"],
  async action(args, ctx) {
    if (args.dir === undefined && !ctx.paths.workspace) {
      if (ctx.json) ctx.io.out(JSON.stringify({ dir: null, status: "none" }));
      else ctx.io.out(`No ${WORKSPACE_FOLDER}/ folder in ${ctx.runtime.cwd()} or above it: only the global config is used`);
      return 1;
    }
    const state = inspect(ctx, workspaceArg(ctx, args.dir, true));
    if (ctx.json) ctx.io.out(JSON.stringify(stateJson(state)));
    else {
      const s = ctx.io.style;
      ctx.io.out(state.status === "trusted" ? `${s.green("trusted")}  ${state.dir}: it is read` : `${s.red(state.status)}  ${state.dir} ${state.reason}: it is not read`);
      if (state.hint && state.status !== "trusted") ctx.io.out(`  ${s.dim(state.hint)}`);
    }
    return state.status === "trusted" ? 0 : 1;
  },
});

const list = defineCommand({
  name: "workspace list",
  description: "List trusted workspaces and whether each is still as it was trusted",
  async action(_args, ctx) {
    const rows = readWorkspaceStore(ctx.paths.configDir).workspaces.map((w) => {
      if (!isDirectory(w.path)) return { path: w.path, status: "missing", trustedAt: w.trustedAt, files: Object.keys(w.files).length, reason: "the folder is gone" };
      const state = inspect(ctx, w.path);
      return { path: w.path, status: state.status, trustedAt: w.trustedAt, files: Object.keys(w.files).length, reason: state.reason ?? null };
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ workspaces: rows }));
    if (rows.length === 0) return void ctx.io.out("No trusted workspaces. Trust one with: opsterm workspace trust <project dir>");
    const s = ctx.io.style;
    for (const r of rows) ctx.io.out(`${r.status === "trusted" ? s.green(r.status.padEnd(9)) : s.red(r.status.padEnd(9))} ${r.path}  ${s.dim(`${r.files} file(s), trusted ${r.trustedAt}${r.reason ? `; ${r.reason}` : ""}`)}`);
  },
});

const untrust = defineCommand({
  name: "workspace untrust",
  description: "Stop trusting a workspace (its files are left alone)",
  usage: DIR_USAGE,
  examples: ["opsterm workspace untrust", "opsterm workspace untrust ~/src/old-app"],
  async action(args, ctx) {
    const dir = workspaceArg(ctx, args.dir, false);
    const real = existsSync(dir) ? realpathSync(dir) : dir;
    const store = readWorkspaceStore(ctx.paths.configDir);
    if (!store.workspaces.some((w) => w.path === real || w.path === dir)) {
      throw new UsageError(`${dir} is not a trusted workspace`, { code: "E_WORKSPACE_UNKNOWN", hint: '"opsterm workspace list" shows the trusted ones' });
    }
    await updateWorkspaceStore(ctx.paths.configDir, (s) => {
      s.workspaces = s.workspaces.filter((w) => w.path !== real && w.path !== dir);
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ removed: real }));
    else ctx.io.out(`no longer trusted: ${real} (its files are untouched)`);
  },
});

export const workspaceCommands: CommandSpec[] = [trust, status, list, untrust];
