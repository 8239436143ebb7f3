/**
 * Workspace trust (DESIGN.md §6). A project's `.opsterm/` folder is read only after
 * `opsterm workspace trust`, which records the folder's real path and the SHA-256 of every file
 * in it in `workspaces.json` (global config dir). A file added, removed or changed since makes it
 * untrusted again; a folder (or a file in it) that is not owned by the current user, is group- or
 * world-writable, or holds a symlink, device or FIFO is refused even when trusted. Nothing here
 * prompts: an untrusted workspace is skipped with a one-line notice, and only when a command
 * would have read one of its files.
 */
import { lstatSync, readdirSync, realpathSync, type Stats } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { UsageError } from "./errors.ts";
import { fileKind, READ_LIMITS, readBounded, readBoundedText } from "../lib/bounded-read.ts";
import { readJsonStore, updateJsonStore, versionedListSpec } from "../lib/json-store.ts";
import { sha256 } from "./manifest.ts";

export const WORKSPACE_FOLDER = ".opsterm";
export const workspaceStorePath = (configDir: string) => join(configDir, "workspaces.json");

/** A folder this large is not hand-written settings: refuse rather than hash it on every run. */
const MAX_ENTRIES = 256;
const MAX_DEPTH = 8;

export interface WorkspaceTrustEntry {
  /** Real path of the `.opsterm` folder. */
  path: string;
  /** SHA-256 of every file, by path relative to the folder. */
  files: Record<string, string>;
  trustedAt: string;
}

export interface WorkspaceStore {
  version: 1;
  workspaces: WorkspaceTrustEntry[];
}

export type WorkspaceStatus = "trusted" | "untrusted" | "changed" | "refused";

export interface WorkspaceChanges {
  added: string[];
  removed: string[];
  modified: string[];
}

export interface WorkspaceState {
  /** The `.opsterm` folder as found. */
  dir: string;
  /** Its real path (what the trust store records). */
  realDir: string;
  /** The folder that holds it: what `opsterm workspace trust` is given. */
  project: string;
  status: WorkspaceStatus;
  /** One line: why it is not read (absent when trusted). */
  reason?: string;
  /** What to do about it. */
  hint?: string;
  /** SHA-256 of each file as read now (absent when refused). */
  files?: Record<string, string>;
  changes?: WorkspaceChanges;
}

/** One line for stderr and the `notices` field of `--json` output. */
export interface Notice {
  code: string;
  message: string;
  hint?: string;
}

export interface WorkspaceAccess {
  /** The `.opsterm/` folder found above the cwd. Not trusted by itself: read it only through `stateFiles()`. */
  readonly dir: string;
  /** Verified on first call, once per invocation. */
  state(): WorkspaceState;
  /**
   * The workspace's copy of a state file (`servers.yaml`, `workflows/x.yaml`) with the SHA-256 it
   * had when verified (null: absent), or undefined when the workspace is not trusted; then, if
   * the file is there, the notice is given (once).
   */
  file(name: string): { path: string; pinned: string | null } | undefined;
  /** Where notices go; the kernel sends them to stderr and `--json` output. Earlier ones are replayed. */
  onNotice(listener: (notice: Notice) => void): void;
}

export interface WorkspaceOptions {
  configDir: string;
  /** The current user's uid; undefined where there is none (ownership is then not checked). */
  uid: number | undefined;
}

export function createWorkspaceAccess(dir: string, options: WorkspaceOptions): WorkspaceAccess {
  let state: WorkspaceState | undefined;
  let listener: ((notice: Notice) => void) | undefined;
  const pending: Notice[] = [];
  let announced = false;
  const access: WorkspaceAccess = {
    dir,
    state: () => (state ??= inspectWorkspace(dir, options)),
    file(name) {
      const s = access.state();
      const path = join(dir, name);
      if (s.status === "trusted") return { path, pinned: s.files?.[name] ?? null };
      if (!announced && exists(path)) {
        announced = true;
        const notice = workspaceNotice(s);
        if (listener) listener(notice);
        else pending.push(notice);
      }
      return undefined;
    },
    onNotice(fn) {
      listener = fn;
      for (const n of pending.splice(0)) fn(n);
    },
  };
  return access;
}

export function workspaceNotice(s: WorkspaceState): Notice {
  const code = s.status === "refused" ? "W_WORKSPACE_REFUSED" : s.status === "changed" ? "W_WORKSPACE_CHANGED" : "W_WORKSPACE_UNTRUSTED";
  return { code, message: `workspace ${s.dir} ${s.reason}, so it was not read`, hint: s.hint };
}

/** Checks ownership, modes and file types, hashes every file, and compares with the trust store. */
export function inspectWorkspace(dir: string, options: WorkspaceOptions): WorkspaceState {
  const realDir = realpathSync(dir);
  const project = join(dir, "..");
  const base = { dir, realDir, project };
  const scan = scanFolder(realDir, options.uid);
  if ("problem" in scan) {
    return { ...base, status: "refused", reason: `is refused: ${scan.problem}`, hint: scan.hint };
  }
  const trustHint = `Review ${dir}, then run: opsterm workspace trust ${project}`;
  const entry = readWorkspaceStore(options.configDir).workspaces.find((w) => w.path === realDir);
  if (!entry) return { ...base, status: "untrusted", reason: "is not trusted", hint: trustHint, files: scan.files };
  const changes = diffFiles(entry.files, scan.files);
  if (changes.added.length + changes.removed.length + changes.modified.length > 0) {
    return { ...base, status: "changed", reason: `changed since you trusted it (${describeChanges(changes)})`, hint: trustHint, files: scan.files, changes };
  }
  return { ...base, status: "trusted", files: scan.files };
}

type Scan = { files: Record<string, string> } | { problem: string; hint: string };

function scanFolder(root: string, uid: number | undefined): Scan {
  const files: Record<string, string> = {};
  let entries = 0;
  const visit = (path: string, depth: number): Scan | undefined => {
    const stats = lstatSync(path);
    const problem = ownershipProblem(path, stats, uid);
    if (problem) return problem;
    if (stats.isDirectory()) {
      if (depth > MAX_DEPTH) return { problem: `${path} is nested more than ${MAX_DEPTH} folders deep`, hint: "A workspace holds a few settings files; move the rest out of .opsterm/" };
      for (const name of readdirSync(path).sort()) {
        if (++entries > MAX_ENTRIES) return { problem: `${root} holds more than ${MAX_ENTRIES} entries`, hint: "A workspace holds a few settings files; move the rest out of .opsterm/" };
        const found = visit(join(path, name), depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (!stats.isFile()) {
      return { problem: `${path} is ${fileKind(stats)}; a workspace holds only regular files and folders`, hint: `Replace it with a copy of the file it stands for, or remove it` };
    }
    const bytes = readBounded(path, { maxBytes: READ_LIMITS.workspaceFile, what: "files in a workspace" })!;
    files[relative(root, path).split(sep).join("/")] = sha256(bytes);
    return undefined;
  };
  return visit(root, 0) ?? { files };
}

function ownershipProblem(path: string, stats: Stats, uid: number | undefined): { problem: string; hint: string } | undefined {
  if (uid !== undefined && stats.uid !== uid) {
    return {
      problem: `${path} is owned by ${userName(stats.uid)}, not by you (${userName(uid)})`,
      hint: "Someone else controls this folder: do not use it from here, or copy what you need into a folder of your own",
    };
  }
  const mode = stats.mode & 0o777;
  if (!stats.isSymbolicLink() && mode & 0o022) {
    return {
      problem: `${path} is ${mode & 0o002 ? "world" : "group"}-writable (mode ${mode.toString(8).padStart(4, "0")})`,
      hint: `Others can change it: chmod -R go-w ${path}, then review it and trust it again`,
    };
  }
  return undefined;
}

/** "uid 1000 (alice)" from /etc/passwd, or just the uid. */
function userName(uid: number): string {
  try {
    const passwd = readBoundedText("/etc/passwd", { maxBytes: READ_LIMITS.ssh }) ?? "";
    const line = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
    return line ? `uid ${uid} (${line.split(":")[0]})` : `uid ${uid}`;
  } catch {
    return `uid ${uid}`;
  }
}

export function diffFiles(trusted: Record<string, string>, now: Record<string, string>): WorkspaceChanges {
  return {
    added: Object.keys(now).filter((f) => !(f in trusted)),
    removed: Object.keys(trusted).filter((f) => !(f in now)),
    modified: Object.keys(now).filter((f) => f in trusted && trusted[f] !== now[f]),
  };
}

function describeChanges(c: WorkspaceChanges): string {
  const parts = [...c.added.map((f) => `${f} added`), ...c.removed.map((f) => `${f} removed`), ...c.modified.map((f) => `${f} changed`)];
  return parts.length > 3 ? `${parts.slice(0, 3).join(", ")} and ${parts.length - 3} more` : parts.join(", ");
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

const storeSpec = (configDir: string) =>
  versionedListSpec<WorkspaceStore>(workspaceStorePath(configDir), "workspaces", "E_WORKSPACE_STORE", `Move it away and trust your workspaces again with "opsterm workspace trust <dir>"`);

export function readWorkspaceStore(configDir: string): WorkspaceStore {
  return readJsonStore(storeSpec(configDir));
}

export async function updateWorkspaceStore(configDir: string, change: (store: WorkspaceStore) => void): Promise<WorkspaceStore> {
  return updateJsonStore(storeSpec(configDir), change);
}

/** One copy of a state file: the global one, or the trusted workspace's with its pinned hash. */
export interface StateFile {
  scope: "global" | "workspace";
  path: string;
  /** For a workspace file: pass to readYamlFile's `pinned`. */
  pinned?: string | null;
}

/**
 * Where to read a state file (`config.yaml`, `servers.yaml`, `policy.yaml`, `workflows/x.yaml`),
 * lowest scope first: the global config dir, then the workspace if it is trusted. Every reader of
 * workspace files goes through here.
 */
export function stateFiles(paths: { configDir: string; workspace?: WorkspaceAccess }, name: string): StateFile[] {
  const list: StateFile[] = [{ scope: "global", path: join(paths.configDir, name) }];
  const local = paths.workspace?.file(name);
  if (local) list.push({ scope: "workspace", path: local.path, pinned: local.pinned });
  return list;
}

/**
 * Folders named .opsterm that are never a workspace: the global config dir itself
 * (OPSTERM_HOME=~/.opsterm), and `$HOME/.opsterm`, the original OpsTerm's global folder (read by
 * `opsterm migrate`), which would otherwise apply to every directory under $HOME.
 */
export function isReservedFolder(candidate: string, configDir: string, home: string): boolean {
  const reserved = [resolve(configDir), resolve(home, WORKSPACE_FOLDER)];
  return reserved.includes(resolve(candidate)) || reserved.map(realOrSelf).includes(realOrSelf(candidate));
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export interface WorkspaceWrite {
  /** The `.opsterm` folder to write to. */
  dir: string;
  /**
   * Call after writing `path` (in `dir`) with the bytes written: a workspace that was trusted
   * before stays trusted (the file's new hash is recorded). Otherwise returns the notice to give:
   * what was written is not used until the workspace is trusted.
   */
  written(path: string, bytes: string | Uint8Array): Promise<Notice | undefined>;
}

/**
 * Where `--workspace` writes go (`config set`, `servers add`): the workspace found, else
 * `./.opsterm`; never `$HOME/.opsterm` or the global config dir.
 */
export function workspaceWrite(paths: { configDir: string; home: string; workspace?: WorkspaceAccess }, cwd: string): WorkspaceWrite {
  const dir = paths.workspace?.dir ?? join(resolve(cwd), WORKSPACE_FOLDER);
  if (isReservedFolder(dir, paths.configDir, paths.home)) {
    throw new UsageError(`${dir} is not a workspace: it is ${resolve(dir) === resolve(paths.configDir) ? "the global config dir" : "the original OpsTerm's global folder"}`, {
      code: "E_WORKSPACE_RESERVED",
      hint: "Run this from inside a project folder, or leave out --workspace to change the global file",
    });
  }
  // Whether it was trusted before this write, not after it.
  const before = paths.workspace?.state();
  return {
    dir,
    async written(path, bytes) {
      if (before?.status !== "trusted") {
        const why = before ? `${before.reason}, so` : "is not trusted, so";
        return { code: "W_WORKSPACE_UNTRUSTED", message: `workspace ${dir} ${why} what was written there is not used yet`, hint: before?.hint ?? `Review it, then run: opsterm workspace trust ${join(dir, "..")}` };
      }
      const realDir = paths.workspace!.state().realDir;
      const name = relative(dir, path).split(sep).join("/");
      await updateWorkspaceStore(paths.configDir, (store) => {
        const entry = store.workspaces.find((w) => w.path === realDir);
        if (entry) entry.files[name] = sha256(bytes);
      });
      return undefined;
    },
  };
}

