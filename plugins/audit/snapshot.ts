/**
 * The git snapshot store: a bare repo under the audit dir where each commit records the content
 * of one remote file (server + path) at one moment. Plumbing only (hash-object, update-index,
 * write-tree, commit-tree, update-ref): no work tree, so remote content never lands as loose files.
 * git runs with an argv array, a minimal environment, no system/global config and no hooks.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { IoError } from "../../src/kernel/errors.ts";
import { ensureDir } from "../../src/lib/atomic-write.ts";
import { withLock } from "../../src/lib/lock.ts";
import type { AuditFiles } from "./log.ts";
import type { SnapshotRef } from "./types.ts";

const BRANCH = "refs/heads/main";

export interface GitOptions {
  /** PATH used to find git. */
  pathEnv?: string;
  /** The audit head to record in the commit (a second anchor against tail truncation). */
  auditHead?: () => { seq: number; hash: string } | undefined;
}

/**
 * One path component per server id and per remote path, percent-encoded so the mapping is
 * injective: `/` is encoded (so `a/b` on `x` never meets `b` on `x/a`), `%` is encoded (so an
 * encoded-looking name cannot pose as another), and a leading `.` is encoded (no `.`, `..`, `.git`).
 */
export function encodeComponent(value: string): string {
  let out = "";
  for (const ch of value) {
    if (/[A-Za-z0-9_-]/.test(ch) || (ch === "." && out.length > 0)) out += ch;
    else for (const byte of Buffer.from(ch, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Where the state of `server:path` lives inside the snapshot repo. */
export function snapshotPath(server: string, path: string): string {
  return `${encodeComponent(server)}/${encodeComponent(path)}`;
}

function gitEnv(repo: string, options: GitOptions): Record<string, string> {
  // Built from scratch: no GIT_DIR, GIT_WORK_TREE or config from the user's environment leaks in.
  return {
    PATH: options.pathEnv ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: repo,
    GIT_DIR: repo,
    GIT_INDEX_FILE: join(repo, "index"),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "opsterm",
    GIT_AUTHOR_EMAIL: "opsterm@localhost",
    GIT_COMMITTER_NAME: "opsterm",
    GIT_COMMITTER_EMAIL: "opsterm@localhost",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
}

interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function git(repo: string, options: GitOptions, args: string[], input?: Uint8Array | string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "gc.auto=0", ...args], {
      env: gitEnv(repo, options),
      cwd: repo,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err.trim() }));
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

async function gitOk(repo: string, options: GitOptions, args: string[], input?: Uint8Array | string): Promise<string> {
  const r = await git(repo, options, args, input);
  if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr || `exit ${r.code}`}`);
  return r.stdout.toString("utf8").trim();
}

async function ensureRepo(repo: string, options: GitOptions): Promise<void> {
  if (existsSync(join(repo, "HEAD"))) return;
  ensureDir(repo, 0o700);
  // sharedRepository=0600: git creates its files 0600 and dirs 0700 whatever the umask.
  await gitOk(repo, options, ["init", "--quiet", "--bare", "--shared=0600", "--initial-branch=main", repo]);
}

async function head(repo: string, options: GitOptions): Promise<string | undefined> {
  const r = await git(repo, options, ["rev-parse", "--quiet", "--verify", `${BRANCH}^{commit}`]);
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

/**
 * Commits `content` (null = the file is absent) as the state of `server:path`. Throws IoError
 * E_SNAPSHOT when it could not be recorded: callers must not write the remote file then.
 */
export async function snapshot(files: AuditFiles, server: string, path: string, content: Uint8Array | null, message: string, options: GitOptions = {}): Promise<SnapshotRef> {
  if (!server || !path) throw new IoError("E_SNAPSHOT", "A snapshot needs a server id and a path", { hint: "This is a bug in the caller" });
  const repo = files.snapshots;
  const inRepo = snapshotPath(server, path);
  try {
    ensureDir(files.dir, 0o700);
    return await withLock(repo, async () => {
      await ensureRepo(repo, options);
      const parent = await head(repo, options);
      await gitOk(repo, options, parent ? ["read-tree", parent] : ["read-tree", "--empty"]);
      if (content === null) {
        // Mode 0 in --index-info removes the entry (--force-remove needs a work tree).
        await gitOk(repo, options, ["update-index", "--index-info"], `0 ${"0".repeat(40)}\t${inRepo}\n`);
      } else {
        const blob = await gitOk(repo, options, ["hash-object", "-w", "--stdin"], content);
        await gitOk(repo, options, ["update-index", "--add", "--cacheinfo", `100644,${blob},${inRepo}`]);
      }
      const tree = await gitOk(repo, options, ["write-tree"]);
      const anchor = options.auditHead?.();
      const body = [
        message.trim() || `${content === null ? "absent" : "state"} ${server}:${path}`,
        "",
        `Server: ${JSON.stringify(server)}`,
        `Path: ${JSON.stringify(path)}`,
        `State: ${content === null ? "absent" : "present"}`,
        ...(anchor ? [`Audit-Head: ${anchor.seq} ${anchor.hash}`] : []),
      ].join("\n");
      const commit = await gitOk(repo, options, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-F", "-"], body + "\n");
      // Compare-and-swap on the branch: a concurrent writer outside the lock cannot be lost silently.
      await gitOk(repo, options, ["update-ref", BRANCH, commit, parent ?? ""]);
      return { commit, path: inRepo };
    });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "git is not installed (or not on PATH)" : (error as Error).message;
    throw new IoError("E_SNAPSHOT", `Snapshot of ${server}:${path} could not be recorded: ${reason}`, {
      cause: error,
      hint: "Install git and check that the audit directory is writable; the file was not changed",
    });
  }
}

/** The diff of `path` between two snapshot commits (or the content at `after` when there is no `before`). */
export async function snapshotDiff(files: AuditFiles, ref: { path: string; before?: string; after?: string }, options: GitOptions = {}): Promise<string> {
  const repo = files.snapshots;
  if (!existsSync(join(repo, "HEAD"))) throw new IoError("E_SNAPSHOT_MISSING", `No snapshot repo at ${repo}`, { hint: "Snapshots are made by remote file writes" });
  const hex = /^[0-9a-f]{7,64}$/;
  if ((ref.before && !hex.test(ref.before)) || (ref.after && !hex.test(ref.after))) throw new IoError("E_SNAPSHOT_REF", "The record names an invalid snapshot commit");
  const base = ["--no-pager", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames=100%"];
  if (ref.before && ref.after) return gitOk(repo, options, [...base, ref.before, ref.after, "--", ref.path]);
  const one = ref.after ?? ref.before;
  if (!one) return "";
  return gitOk(repo, options, ["--no-pager", "show", "--no-color", "--no-ext-diff", "--no-textconv", "--format=", one, "--", ref.path]);
}

/** The `Audit-Head` trailers of all snapshot commits, newest first. */
export async function snapshotAnchors(files: AuditFiles, options: GitOptions = {}): Promise<{ commit: string; seq: number; hash: string }[]> {
  const repo = files.snapshots;
  if (!existsSync(join(repo, "HEAD"))) return [];
  if (!(await head(repo, options))) return [];
  const text = await gitOk(repo, options, ["log", "--format=%H%x00%B%x01", BRANCH]);
  const out: { commit: string; seq: number; hash: string }[] = [];
  for (const entry of text.split("\x01")) {
    const [commit, body] = entry.trim().split("\x00");
    const m = /^Audit-Head: (\d+) ([0-9a-f]{64})$/m.exec(body ?? "");
    if (commit && m) out.push({ commit, seq: Number(m[1]), hash: m[2] });
  }
  return out;
}

/**
 * The content of `path` in one snapshot commit: its bytes, or null when the file was absent in
 * that state. Throws IoError when the commit is not in the repo (the store lost it).
 */
export async function snapshotContent(files: AuditFiles, commit: string, path: string, options: GitOptions = {}): Promise<Buffer | null> {
  const repo = files.snapshots;
  if (!existsSync(join(repo, "HEAD"))) throw new IoError("E_SNAPSHOT_REF", `No snapshot repo at ${repo}`, { hint: "Snapshots are made by remote file writes" });
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new IoError("E_SNAPSHOT_REF", "The record names an invalid snapshot commit");
  const exists = await git(repo, options, ["cat-file", "-e", `${commit}^{commit}`]);
  if (exists.code !== 0) throw new IoError("E_SNAPSHOT_REF", `Snapshot commit ${commit.slice(0, 12)} is not in ${repo}`, { hint: 'Run "opsterm audit verify"; the snapshot store may have been replaced' });
  const oid = await git(repo, options, ["rev-parse", "--verify", "--quiet", `${commit}:${path}`]);
  if (oid.code !== 0) return null;
  const blob = await git(repo, options, ["cat-file", "blob", oid.stdout.toString("utf8").trim()]);
  if (blob.code !== 0) throw new IoError("E_SNAPSHOT_REF", `Snapshot ${commit.slice(0, 12)}:${path} could not be read: ${blob.stderr}`);
  return blob.stdout;
}
