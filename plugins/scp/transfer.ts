/**
 * The transfers themselves, inside one approved and audited action: one file or a tree, up or
 * down. Every remote write is snapshotted through the gate before (the write does not happen if
 * that fails) and after (a failure there is a partial failure, never success).
 */
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, stat } from "node:fs/promises";
import { basename, join, posix, relative } from "node:path";
import { createHash } from "node:crypto";
import { EXIT, OpstermError, UsageError, type ActionContext, type FileState, type SnapshotRef } from "../../src/kernel/index.ts";
import type { Connection, ResolvedServer } from "../../src/contracts/inventory.ts";
import { downloadToFile, readRemote, readRemoteBuffer } from "./download.ts";
import { createProgress, type Progress } from "./progress.ts";
import { isNoSuchFile, permissionBits, type Sftp } from "./sftp.ts";
import { atomicUpload, checkUnchanged, inspectTarget, sha256sum, UploadError, type TargetInfo, type UploadResult } from "./upload.ts";

/** Files up to this size are stored whole in snapshots; larger ones as a size + sha256 stub. */
export const SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024;
/** Default cap for a read into memory. */
export const GET_MAX_BYTES = 16 * 1024 * 1024;

/** One action's open SFTP session on its server. */
export interface Session {
  ctx: ActionContext;
  server: ResolvedServer;
  conn: Connection;
  sftp: Sftp;
  signal: AbortSignal;
  snapshot(which: "before" | "after", path: string, content: Uint8Array | null, state?: FileState): Promise<SnapshotRef>;
  /** Draw progress bars (a person at a terminal, a large transfer). */
  progress: boolean;
}

/** A snapshot before or after a write could not be committed (exit 74). */
export class SnapshotFailure extends OpstermError {
  constructor(code: "E_SNAPSHOT_BEFORE" | "E_SNAPSHOT_AFTER", message: string, cause?: unknown) {
    super(code, message, { cause, exitCode: EXIT.IO, hint: "Check the audit snapshot store (opsterm audit verify); remote writes need their snapshots" });
  }
}

export interface WrittenFile extends Omit<UploadResult, "content"> {
  local?: string;
  /** The remote path as asked for (the written `path` may be a symlink's target). */
  remote: string;
}

interface WriteJob {
  local?: string;
  remote: string;
  source: () => AsyncIterable<Uint8Array>;
  size?: number;
  mode?: number;
  forceMode?: boolean;
  /** The target's sha256 (or null: absent) that must still hold just before the rename. */
  expectSha256?: string | null;
  /** See WriteParams.secret: snapshots of a secret keep only its size. */
  secret?: boolean;
  /** Owner to give the file (an undo restores the before-state's). */
  owner?: { uid: number; gid: number };
}

/** The before-state of a target: its content for the snapshot (whole, or a stub when too large or secret) and its state. */
async function beforeState(session: Session, target: TargetInfo, secret: boolean | undefined): Promise<{ content: Uint8Array | null; state: FileState }> {
  const { sftp, conn, signal } = session;
  if (!target.exists) return { content: null, state: { exists: false } };
  const meta = { exists: true, mode: target.mode, uid: target.uid, gid: target.gid, size: target.size ?? 0 };
  if (secret) return { content: secretStub(target.size ?? 0), state: { ...meta, stored: false } };
  if ((target.size ?? 0) <= SNAPSHOT_MAX_BYTES) {
    const read = await readRemoteBuffer(sftp, target.path, SNAPSHOT_MAX_BYTES, { signal });
    if (read) return { content: read.content, state: { ...meta, size: read.content.length, sha256: read.result.sha256, stored: true } };
    return { content: null, state: { exists: false } };
  }
  const sha256 = (await sha256sum(conn, target.path)) ?? (await readRemote(sftp, target.path, () => undefined, { signal })).sha256;
  return { content: stub(target.size ?? 0, sha256), state: { ...meta, sha256, stored: false } };
}

/** Writes one file with before/after snapshots. Pushes what it wrote to `done` before the after-snapshot. */
async function writeOne(session: Session, job: WriteJob, progress: Progress, done: WrittenFile[]): Promise<void> {
  const { server, sftp, conn, signal } = session;
  const target = await inspectTarget(sftp, job.remote);
  const before = await beforeState(session, target, job.secret);
  try {
    await session.snapshot("before", target.path, before.content, before.state);
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_BEFORE", `The snapshot of ${server.id}:${target.path} before the write failed, so nothing was written: ${(error as Error).message}`, error);
  }
  const result = await atomicUpload(conn, sftp, job.source(), target, {
    mode: job.mode,
    forceMode: job.forceMode,
    expectSha256: job.expectSha256,
    owner: job.owner,
    keepBytes: job.secret ? 0 : SNAPSHOT_MAX_BYTES,
    onProgress: (n) => progress.add(n),
    signal,
  });
  const { content, ...rest } = result;
  done.push({ ...rest, local: job.local, remote: job.remote });
  const stored = !job.secret && content !== undefined;
  const after: FileState = { exists: true, mode: result.mode, uid: result.uid, gid: result.gid, size: result.bytes, ...(job.secret ? {} : { sha256: result.sha256 }), stored };
  try {
    await session.snapshot("after", result.path, job.secret ? secretStub(result.bytes) : (content ?? stub(result.bytes, result.sha256)), after);
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_AFTER", `${server.id}:${result.path} was written, but its after-snapshot failed: ${(error as Error).message}`, error);
  }
}

function secretStub(bytes: number): Uint8Array {
  return Buffer.from(`[opsterm] secret content (put --from-vault) not stored in the snapshot: ${bytes} bytes\n`);
}

function stub(bytes: number, sha256: string): Uint8Array {
  return Buffer.from(`[opsterm] content not stored in the snapshot: ${bytes} bytes, sha256 ${sha256}\n`);
}

async function* once(content: Uint8Array | string): AsyncIterable<Uint8Array> {
  yield typeof content === "string" ? Buffer.from(content) : content;
}

export type Content = Uint8Array | string | AsyncIterable<Uint8Array>;

/** One remote file from content in hand or a stream (`put`, a tool's write). */
export async function writeContent(
  session: Session,
  path: string,
  content: Content,
  options: { mode?: number; forceMode?: boolean; size?: number; expectSha256?: string | null; secret?: boolean; owner?: { uid: number; gid: number } },
  done: WrittenFile[],
): Promise<void> {
  const size = options.size ?? (typeof content === "string" ? Buffer.byteLength(content) : content instanceof Uint8Array ? content.byteLength : undefined);
  const progress = createProgress(session.ctx.io.stderr, session.progress && session.ctx.io.isTTY.stderr, `${session.server.id}:${posix.basename(path)}`, size);
  const source = typeof content === "string" || content instanceof Uint8Array ? () => once(content) : () => content;
  try {
    await writeOne(session, { remote: path, source, size, mode: options.mode, forceMode: options.forceMode, expectSha256: options.expectSha256, secret: options.secret, owner: options.owner }, progress, done);
  } finally {
    progress.done();
  }
}

export interface RemovedFile {
  /** The path removed. */
  path: string;
  remote: string;
  bytes: number;
  sha256: string;
  mode: number;
}

/**
 * Removes one regular file (an undo of a write that created it), snapshotted like a write: the
 * content before, then "absent". With `expectSha256`, only if the file still has that sha256
 * (checked just before the unlink; E_PRECONDITION otherwise). A symlink is never followed here.
 */
export async function removeFile(session: Session, path: string, expectSha256: string | null | undefined, done: RemovedFile[]): Promise<void> {
  const { sftp, conn, server, signal } = session;
  const link = await sftp.lstat(path);
  if (!link) {
    if (expectSha256 !== undefined && expectSha256 !== null) throw new UploadError("E_PRECONDITION", `${path} changed since it was read: it had sha256 ${expectSha256.slice(0, 16)}… and now is gone; nothing was removed`, "Look at the file again");
    throw notFound(server.id, path);
  }
  if (!link.isFile()) throw new UploadError("E_SCP_NOT_FILE", `${path} is not a regular file (a directory, a symlink or a special file); nothing was removed`, "opsterm only removes regular files");
  const target: TargetInfo = { path, exists: true, mode: permissionBits(link), uid: link.uid, gid: link.gid, size: link.size };
  const before = await beforeState(session, target, false);
  try {
    await session.snapshot("before", path, before.content, before.state);
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_BEFORE", `The snapshot of ${server.id}:${path} before the removal failed, so nothing was removed: ${(error as Error).message}`, error);
  }
  if (signal.aborted) throw signal.reason ?? new Error("aborted");
  if (expectSha256 !== undefined) await checkUnchanged(conn, sftp, path, expectSha256, signal);
  try {
    await sftp.unlink(path);
  } catch (error) {
    throw new UploadError("E_SCP_WRITE", `Removing ${path} failed: ${(error as Error).message}`, "Check the directory's permissions on the server", error);
  }
  const sha256 = before.state.sha256 ?? createHash("sha256").update(before.content ?? new Uint8Array()).digest("hex");
  done.push({ path, remote: path, bytes: before.state.size ?? 0, sha256, mode: before.state.mode ?? 0 });
  try {
    await session.snapshot("after", path, null, { exists: false });
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_AFTER", `${server.id}:${path} was removed, but its after-snapshot failed: ${(error as Error).message}`, error);
  }
}

export function octal(mode: number | undefined): string | undefined {
  return mode === undefined ? undefined : "0" + mode.toString(8).padStart(3, "0");
}

export function notFound(server: string, path: string): OpstermError {
  return new OpstermError("E_SCP_NOT_FOUND", `${server}:${path} does not exist`, { hint: "Check the path; relative paths start in the login directory" });
}

/** Streams one remote file to `sink` (`opsterm get … -`). */
export async function streamRemote(session: Session, path: string, sink: (chunk: Buffer) => void | Promise<void>) {
  return readRemote(session.sftp, path, sink, { signal: session.signal }).catch((error) => {
    throw isNoSuchFile(error) ? notFound(session.server.id, path) : error;
  });
}

/** Part of one remote file into memory (a tool's read): `offset`/`length` in bytes. */
export async function readSlice(session: Session, path: string, options: { offset?: number; length?: number; maxBytes?: number }) {
  const limit = options.maxBytes ?? GET_MAX_BYTES;
  const stats = await session.sftp.stat(path);
  if (!stats) throw notFound(session.server.id, path);
  if (stats.isDirectory()) throw new UsageError(`${session.server.id}:${path} is a directory`, { code: "E_SCP_IS_DIR", hint: "List it instead" });
  const offset = Math.max(0, options.offset ?? 0);
  const want = Math.min(options.length ?? limit, limit);
  if (offset === 0 && stats.size <= want) {
    const read = await readRemoteBuffer(session.sftp, path, limit, { signal: session.signal });
    if (!read) throw notFound(session.server.id, path);
    return { content: read.content, size: stats.size, offset, sha256: read.result.sha256, mode: read.result.mode, truncated: false };
  }
  const parts: Buffer[] = [];
  let seen = 0;
  let kept = 0;
  const result = await readRemote(session.sftp, path, (chunk) => {
    const start = Math.max(0, offset - seen);
    seen += chunk.length;
    if (start >= chunk.length || kept >= want) return;
    const part = chunk.subarray(start, start + (want - kept));
    kept += part.length;
    parts.push(Buffer.from(part));
  }, { signal: session.signal });
  return { content: Buffer.concat(parts), size: result.bytes, offset, sha256: result.sha256, mode: result.mode, truncated: offset + kept < result.bytes };
}

// ---- scp: files and trees in either direction ----

export interface ScpFileResult {
  local: string;
  remote: string;
  bytes: number;
  sha256: string;
  mode: string;
  replaced?: boolean;
  verifiedBy?: string;
}

interface LocalEntry {
  path: string;
  /** Path relative to the copied root, `/`-separated. */
  rel: string;
  size: number;
  mode: number;
}

/** Lists the files to send: one file, or every regular file under a directory (symlinks followed). */
export async function localTree(root: string, recursive: boolean): Promise<{ dir: boolean; files: LocalEntry[]; dirs: { rel: string; mode: number }[] }> {
  const top = await stat(root).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`Cannot read ${root} (${error.code})`, { code: "E_SCP_LOCAL", hint: "Check the local path" });
  });
  if (top.isFile()) return { dir: false, files: [{ path: root, rel: basename(root), size: top.size, mode: top.mode & 0o7777 }], dirs: [] };
  if (!top.isDirectory()) throw new UsageError(`${root} is not a regular file or directory`, { code: "E_SCP_LOCAL" });
  if (!recursive) throw new UsageError(`${root} is a directory`, { code: "E_SCP_IS_DIR", hint: "Pass -r to copy a directory" });
  const files: LocalEntry[] = [];
  const dirs: { rel: string; mode: number }[] = [{ rel: "", mode: top.mode & 0o777 }];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const s = await stat(path).catch(() => undefined);
      const rel = relative(root, path).split("\\").join("/");
      if (!s) continue;
      if (s.isDirectory()) {
        if ((await lstat(path)).isSymbolicLink()) continue; // never loop through a link to a parent
        dirs.push({ rel, mode: s.mode & 0o777 });
        await walk(path);
      } else if (s.isFile()) files.push({ path, rel, size: s.size, mode: s.mode & 0o7777 });
    }
  };
  await walk(root);
  return { dir: true, files, dirs };
}

/** `opsterm scp <local> server:path`: one file or a tree, each file written atomically and snapshotted. */
export async function uploadTree(session: Session, local: string, remote: string, recursive: boolean, done: WrittenFile[]): Promise<void> {
  const { sftp, server } = session;
  const tree = await localTree(local, recursive);
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const at = await sftp.stat(remote);
  // Like scp: into an existing directory (or one named with a trailing /), else as the name given.
  const intoDir = Boolean(at?.isDirectory()) || remote.endsWith("/");
  const base = intoDir ? posix.join(remote, basename(local)) : remote;
  if (tree.dir) {
    for (const d of tree.dirs) {
      const path = d.rel ? posix.join(base, d.rel) : base;
      const exists = await sftp.stat(path);
      if (exists && !exists.isDirectory()) throw new OpstermError("E_SCP_NOT_DIR", `${server.id}:${path} exists and is not a directory`);
      if (!exists) await sftp.mkdir(path, d.mode);
    }
  }
  const progress = createProgress(session.ctx.io.stderr, session.progress && session.ctx.io.isTTY.stderr, `${server.id}:${posix.basename(base)}`, total);
  try {
    for (const f of tree.files) {
      const target = tree.dir ? posix.join(base, f.rel) : base;
      await writeOne(session, { local: f.path, remote: target, size: f.size, mode: f.mode & 0o777, source: () => createReadStream(f.path, { highWaterMark: 256 * 1024 }) }, progress, done);
    }
  } finally {
    progress.done();
  }
}

/** `opsterm scp server:path <local>` and `get`: one file or a tree into local files that appear atomically. */
export async function downloadTree(session: Session, remote: string, local: string, recursive: boolean, files: ScpFileResult[]): Promise<void> {
  const { sftp, signal, server } = session;
  const top = await sftp.stat(remote);
  if (!top) throw notFound(server.id, remote);
  if (top.isDirectory() && !recursive) throw new UsageError(`${server.id}:${remote} is a directory`, { code: "E_SCP_IS_DIR", hint: "Pass -r to copy a directory" });
  const localStat = await stat(local).catch(() => undefined);
  const intoDir = Boolean(localStat?.isDirectory()) || local.endsWith("/");
  const base = intoDir ? join(local, posix.basename(remote.replace(/\/+$/, "")) || "download") : local;

  const jobs: { remote: string; local: string; size: number }[] = [];
  if (top.isDirectory()) {
    const walk = async (dir: string, to: string): Promise<void> => {
      const existing = await stat(to).catch(() => undefined);
      if (existing && !existing.isDirectory()) throw new OpstermError("E_SCP_NOT_DIR", `${to} exists and is not a directory`);
      if (!existing) await mkdir(to, { mode: 0o755 });
      for (const e of (await sftp.readdir(dir)).sort((a, b) => a.filename.localeCompare(b.filename))) {
        if (e.filename === "." || e.filename === "..") continue;
        if (e.filename.includes("/") || e.filename.includes("\\")) continue; // a hostile server's name must not escape `to`
        if (e.attrs.isDirectory()) await walk(posix.join(dir, e.filename), join(to, e.filename));
        else if (e.attrs.isFile()) jobs.push({ remote: posix.join(dir, e.filename), local: join(to, e.filename), size: e.attrs.size });
      }
    };
    await walk(remote, base);
  } else {
    jobs.push({ remote, local: base, size: top.size });
  }
  const total = jobs.reduce((n, j) => n + j.size, 0);
  const progress = createProgress(session.ctx.io.stderr, session.progress && session.ctx.io.isTTY.stderr, `${server.id}:${posix.basename(remote)}`, total);
  try {
    for (const job of jobs) {
      const existing = await stat(job.local).catch(() => undefined);
      if (existing?.isDirectory()) throw new OpstermError("E_SCP_IS_DIR", `${job.local} is a directory`);
      const r = await downloadToFile(sftp, job.remote, job.local, existing ? existing.mode & 0o7777 : undefined, { signal, onProgress: (n) => progress.add(n) });
      files.push({ local: job.local, remote: job.remote, bytes: r.bytes, sha256: r.sha256, mode: octal(r.mode)! });
    }
  } finally {
    progress.done();
  }
}
