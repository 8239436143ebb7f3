/**
 * The transfers themselves: one file or a tree, up or down, each remote write snapshotted into
 * the audit store before (the write does not run if that fails) and after (a failure there is a
 * partial failure, never success).
 */
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, stat } from "node:fs/promises";
import { basename, join, posix, relative } from "node:path";
import { OpstermError, UsageError, type CommandContext } from "../../src/kernel/index.ts";
import type { SnapshotRef } from "../audit/types.ts";
import { downloadToFile, readRemote, readRemoteBuffer } from "./download.ts";
import { createProgress, type Progress } from "./progress.ts";
import { runTransfer, SnapshotFailure, type RunOutcome, type RunSpec, type Session } from "./remote-run.ts";
import { isNoSuchFile } from "./sftp.ts";
import { atomicUpload, inspectTarget, sha256sum, type UploadResult } from "./upload.ts";
import { formatBytes } from "./spec.ts";
import type { FileReadResult, FileWriteResult, GetRequest, PutRequest, SnapshotPair } from "./types.ts";

/** Files up to this size are stored whole in snapshots; larger ones as a size + sha256 stub. */
export const SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024;
/** Default cap for `files.get` (content returned in memory). */
export const GET_MAX_BYTES = 16 * 1024 * 1024;

export interface WrittenFile extends Omit<UploadResult, "content"> {
  local?: string;
  snapshots: SnapshotPair;
}

interface WriteJob {
  local?: string;
  remote: string;
  source: () => AsyncIterable<Uint8Array>;
  size?: number;
  mode?: number;
  forceMode?: boolean;
}

/** Writes one file inside an open session, with before/after snapshots. Pushes what it wrote to `done`. */
async function writeOne(session: Session, job: WriteJob, progress: Progress, done: WrittenFile[]): Promise<void> {
  const { ctx, server, sftp, conn, signal } = session;
  const audit = ctx.use("audit");
  const target = await inspectTarget(sftp, job.remote);
  const snapshots: SnapshotPair = {};
  // Commit ids for `opsterm audit show`, which diffs `path` (inside the snapshot repo) between
  // `before` and `after`: every file under `snapshots`, the last one written as `snapshot`.
  type Entry = { path?: string; remote: string; before?: string; after?: string };
  const refs = (session.auditArgs.snapshots ??= []) as Entry[];
  const entry: Entry = { remote: target.path };
  refs.push(entry);
  const record = (which: "before" | "after", ref: SnapshotRef) => {
    snapshots[which] = ref;
    entry.path = ref.path;
    entry[which] = ref.commit;
    session.auditArgs.snapshot = { path: ref.path, before: entry.before, after: entry.after };
  };

  let before: Uint8Array | null = null;
  if (target.exists) {
    if ((target.size ?? 0) <= SNAPSHOT_MAX_BYTES) before = (await readRemoteBuffer(sftp, target.path, SNAPSHOT_MAX_BYTES, { signal }))?.content ?? null;
    else before = stub(target.size ?? 0, (await sha256sum(conn, target.path)) ?? (await hashRemote(session, target.path)));
  }
  try {
    record("before", await audit.snapshot(server.id, target.path, before, `before write by run ${ctx.runId}`));
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_BEFORE", `The snapshot of ${server.id}:${target.path} before the write failed, so nothing was written: ${(error as Error).message}`, error);
  }

  const result = await atomicUpload(conn, sftp, job.source(), target, {
    mode: job.mode,
    forceMode: job.forceMode,
    keepBytes: SNAPSHOT_MAX_BYTES,
    onProgress: (n) => progress.add(n),
    signal,
  });
  const { content, ...rest } = result;
  const written: WrittenFile = { ...rest, local: job.local, snapshots };
  done.push(written);
  try {
    record("after", await audit.snapshot(server.id, result.path, content ?? stub(result.bytes, result.sha256), `after write by run ${ctx.runId} (sha256 ${result.sha256})`));
  } catch (error) {
    throw new SnapshotFailure("E_SNAPSHOT_AFTER", `${server.id}:${result.path} was written, but its after-snapshot failed: ${(error as Error).message}`, error);
  }
}

function stub(bytes: number, sha256: string): Uint8Array {
  return Buffer.from(`[opsterm] content not stored in the snapshot: ${bytes} bytes, sha256 ${sha256}\n`);
}

async function hashRemote(session: Session, path: string): Promise<string> {
  return (await readRemote(session.sftp, path, () => undefined, { signal: session.signal })).sha256;
}

async function* once(content: Uint8Array | string): AsyncIterable<Uint8Array> {
  yield typeof content === "string" ? Buffer.from(content) : content;
}

function sizeOf(content: PutRequest["content"]): number | undefined {
  if (typeof content === "string") return Buffer.byteLength(content);
  if (content instanceof Uint8Array) return content.byteLength;
  return undefined;
}

/** `files.put` and `opsterm put`. */
export async function putFile(ctx: CommandContext, request: PutRequest): Promise<FileWriteResult> {
  const size = request.size ?? sizeOf(request.content);
  const done: WrittenFile[] = [];
  const run = await runTransfer(ctx, runSpec(request, "write", `write file${size !== undefined ? ` (${formatBytes(size)})` : ""}`, { bytes: size, mode: octal(request.mode) }), async (session) => {
    const progress = createProgress(ctx.io.stderr, Boolean(request.progress && ctx.io.isTTY.stderr), `${session.server.id}:${posix.basename(request.path)}`, size);
    const { content } = request;
    const source = typeof content === "string" || content instanceof Uint8Array ? () => once(content) : () => content;
    try {
      await writeOne(session, { remote: request.path, source, size, mode: request.mode, forceMode: request.forceMode }, progress, done);
    } finally {
      progress.done();
    }
    const w = done[0];
    Object.assign(session.auditArgs, { bytes: w.bytes, sha256: w.sha256, mode: octal(w.mode) });
  });
  const w = done[0];
  return {
    action: run.action,
    server: run.server,
    path: w?.path ?? request.path,
    bytes: w?.bytes,
    sha256: w?.sha256,
    mode: w?.mode,
    replaced: w?.replaced,
    verifiedBy: w?.verifiedBy,
    snapshots: w?.snapshots ?? {},
    exitCode: run.exitCode,
    ...(run.failure ? { failure: run.failure } : {}),
  };
}

/** `files.get`: one remote file into memory. */
export async function getFile(ctx: CommandContext, request: GetRequest): Promise<FileReadResult> {
  const limit = request.maxBytes ?? GET_MAX_BYTES;
  type Read = { content: Buffer; result: { bytes: number; sha256: string; mode: number } };
  const box: { read?: Read } = {};
  const run = await runTransfer(ctx, runSpec(request, "read", "read file"), async (session) => {
    box.read = (await readRemoteBuffer(session.sftp, request.path, limit, { signal: session.signal })) ?? undefined;
    if (!box.read) throw notFound(session.server.id, request.path);
  });
  const r = box.read;
  return {
    action: run.action,
    server: run.server,
    path: request.path,
    content: r?.content,
    bytes: r?.result.bytes,
    sha256: r?.result.sha256,
    mode: r?.result.mode,
    exitCode: run.exitCode,
    ...(run.failure ? { failure: run.failure } : {}),
  };
}

function runSpec(request: PutRequest | GetRequest, kind: "write" | "read", command: string, auditArgs: Record<string, unknown> = {}): RunSpec {
  return {
    kind,
    server: request.server,
    via: request.via,
    command,
    path: request.path,
    origin: request.origin,
    preApproved: request.preApproved,
    approve: request.approve,
    signal: request.signal,
    auditArgs: Object.fromEntries(Object.entries(auditArgs).filter(([, v]) => v !== undefined)),
  };
}

export function octal(mode: number | undefined): string | undefined {
  return mode === undefined ? undefined : "0" + mode.toString(8).padStart(3, "0");
}

/** Streams one remote file to `sink` (`opsterm get … -`). */
export async function streamFile(
  ctx: CommandContext,
  request: GetRequest,
  sink: (chunk: Buffer) => void | Promise<void>,
): Promise<RunOutcome & { bytes?: number; sha256?: string; mode?: number }> {
  let info: { bytes: number; sha256: string; mode: number } | undefined;
  const run = await runTransfer(ctx, runSpec(request, "read", "read file"), async (session) => {
    info = await readRemote(session.sftp, request.path, sink, { signal: session.signal }).catch((error) => {
      throw isNoSuchFile(error) ? notFound(session.server.id, request.path) : error;
    });
    Object.assign(session.auditArgs, { bytes: info.bytes, sha256: info.sha256 });
  });
  return { ...run, ...info };
}

function notFound(server: string, path: string): OpstermError {
  return new OpstermError("E_SCP_NOT_FOUND", `${server}:${path} does not exist`, { hint: "Check the path; relative paths start in the login directory" });
}

// ---- scp: files and trees in either direction ----

export interface ScpOptions {
  server: string;
  via?: string[];
  recursive: boolean;
  preApproved?: boolean;
  progress: boolean;
}

export interface ScpFileResult {
  local: string;
  remote: string;
  bytes: number;
  sha256: string;
  mode: string;
  replaced?: boolean;
  verifiedBy?: string;
  snapshots?: SnapshotPair;
}

export interface ScpOutcome extends RunOutcome {
  direction: "upload" | "download";
  files: ScpFileResult[];
  bytes: number;
}

interface LocalEntry {
  path: string;
  /** Path relative to the copied root, `/`-separated. */
  rel: string;
  size: number;
  mode: number;
}

/** Lists the files to send: one file, or every regular file under a directory (symlinks followed). */
async function localTree(root: string, recursive: boolean): Promise<{ dir: boolean; files: LocalEntry[]; dirs: { rel: string; mode: number }[] }> {
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

/** `opsterm scp <local> server:path`. */
export async function scpUpload(ctx: CommandContext, local: string, remote: string, options: ScpOptions): Promise<ScpOutcome> {
  const tree = await localTree(local, options.recursive);
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const done: WrittenFile[] = [];
  const spec: RunSpec = {
    kind: "write",
    server: options.server,
    via: options.via,
    command: `scp upload ${tree.dir ? `${tree.files.length} files` : "file"} (${formatBytes(total)})`,
    path: remote,
    preApproved: options.preApproved,
    auditArgs: { direction: "upload", files: tree.files.length, bytes: total },
  };
  const run = await runTransfer(ctx, spec, async (session) => {
    const { sftp } = session;
    const at = await sftp.stat(remote);
    // Like scp: into an existing directory (or one named with a trailing /), else as the name given.
    const intoDir = Boolean(at?.isDirectory()) || remote.endsWith("/");
    const base = intoDir ? posix.join(remote, basename(local)) : remote;
    if (tree.dir) {
      for (const d of tree.dirs) {
        const path = d.rel ? posix.join(base, d.rel) : base;
        const exists = await sftp.stat(path);
        if (exists && !exists.isDirectory()) throw new OpstermError("E_SCP_NOT_DIR", `${session.server.id}:${path} exists and is not a directory`);
        if (!exists) await sftp.mkdir(path, d.mode);
      }
    }
    const progress = createProgress(ctx.io.stderr, options.progress && ctx.io.isTTY.stderr, `${session.server.id}:${posix.basename(base)}`, total);
    try {
      for (const f of tree.files) {
        const target = tree.dir ? posix.join(base, f.rel) : base;
        await writeOne(session, { local: f.path, remote: target, size: f.size, mode: f.mode & 0o777, source: () => createReadStream(f.path, { highWaterMark: 256 * 1024 }) }, progress, done);
      }
    } finally {
      progress.done();
    }
  });
  return {
    ...run,
    direction: "upload",
    bytes: done.reduce((n, f) => n + f.bytes, 0),
    files: done.map((f) => ({ local: f.local!, remote: f.path, bytes: f.bytes, sha256: f.sha256, mode: octal(f.mode)!, replaced: f.replaced, verifiedBy: f.verifiedBy, snapshots: f.snapshots })),
  };
}

/** `opsterm scp server:path <local>`. */
export async function scpDownload(ctx: CommandContext, remote: string, local: string, options: ScpOptions): Promise<ScpOutcome> {
  const files: ScpFileResult[] = [];
  const spec: RunSpec = { kind: "read", server: options.server, via: options.via, command: `scp download${options.recursive ? " -r" : ""}`, path: remote, preApproved: options.preApproved, auditArgs: { direction: "download" } };
  const run = await runTransfer(ctx, spec, async (session) => {
    const { sftp, signal } = session;
    const top = await sftp.stat(remote);
    if (!top) throw notFound(session.server.id, remote);
    if (top.isDirectory() && !options.recursive) throw new UsageError(`${session.server.id}:${remote} is a directory`, { code: "E_SCP_IS_DIR", hint: "Pass -r to copy a directory" });
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
    const progress = createProgress(ctx.io.stderr, options.progress && ctx.io.isTTY.stderr, `${session.server.id}:${posix.basename(remote)}`, total);
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
    Object.assign(session.auditArgs, { files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) });
  });
  return { ...run, direction: "download", files, bytes: files.reduce((n, f) => n + f.bytes, 0) };
}

