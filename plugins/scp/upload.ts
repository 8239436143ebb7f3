/**
 * Atomic upload of one file over SFTP: write a temp file in the target's directory, fsync it,
 * give it the replaced file's mode and owner, verify its checksum, then rename it over the target
 * with posix-rename@openssh.com. Any failure before the rename leaves the old file untouched and
 * removes the temp file when the connection still allows it.
 */
import { createHash, randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Connection } from "../../src/contracts/inventory.ts";
import { OpstermError, type ErrorCode } from "../../src/kernel/index.ts";
import { shellQuote } from "../../src/lib/shell-quote.ts";
import { isNoSuchFile, permissionBits, type Sftp, type SftpFile } from "./sftp.ts";

export interface UploadOptions {
  /** Mode for a new file (default 0644). A replaced file keeps its own mode unless `forceMode`. */
  mode?: number;
  /** Apply `mode` even when replacing a file (`put --mode`). */
  forceMode?: boolean;
  /** Keep up to this many bytes of the written content in memory (for the after-snapshot). */
  keepBytes?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /**
   * What the target must still hold just before the rename (a patch or an undo decided on it):
   * its sha256, or null for "must not exist". Otherwise nothing is replaced (E_PRECONDITION, 75).
   */
  expectSha256?: string | null;
  /** Owner of the new copy (an undo puts the before-state's back). Default: a replaced file keeps its own. */
  owner?: { uid: number; gid: number };
}

export interface UploadResult {
  /** The path written: the target, or the file a symlink target points to. */
  path: string;
  bytes: number;
  sha256: string;
  mode: number;
  /** Owner of the written file. */
  uid: number;
  gid: number;
  /** A file was there before and has been replaced. */
  replaced: boolean;
  /** How the remote copy was checked: `sha256sum` over exec, or a re-read through SFTP. */
  verifiedBy: "sha256sum" | "sftp";
  /** fsync@openssh.com was available and succeeded. */
  fsynced: boolean;
  /** The content, when it fit in `keepBytes`. */
  content?: Buffer;
}

/** What is at the target before the write (used by the transfer layer for the before-snapshot). */
export interface TargetInfo {
  /** Where the bytes will go: symlinks are followed, so a link stays a link. */
  path: string;
  exists: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
}

/** A transfer that failed with the old file intact (exit 1). */
export class UploadError extends OpstermError {
  constructor(code: ErrorCode, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, cause });
  }
}

/** Looks at the target: follows a symlink, refuses a directory or a special file. */
export async function inspectTarget(sftp: Sftp, target: string): Promise<TargetInfo> {
  const link = await sftp.lstat(target);
  let path = target;
  let stats = link;
  if (link?.isSymbolicLink()) {
    stats = await sftp.stat(target);
    if (stats) path = await sftp.realpath(target);
    else throw new UploadError("E_SCP_DANGLING_LINK", `${target} is a symlink to a file that does not exist`, "Write to the link's target path directly");
  }
  if (!stats) return { path, exists: false };
  if (stats.isDirectory()) throw new UploadError("E_SCP_IS_DIR", `${target} is a directory`, "Give a file path, or end the destination with / to copy into the directory");
  if (!stats.isFile()) throw new UploadError("E_SCP_NOT_FILE", `${target} is not a regular file`, "opsterm only replaces regular files");
  return { path, exists: true, mode: permissionBits(stats), uid: stats.uid, gid: stats.gid, size: stats.size };
}

export async function atomicUpload(
  conn: Pick<Connection, "exec">,
  sftp: Sftp,
  source: AsyncIterable<Uint8Array>,
  target: TargetInfo,
  options: UploadOptions = {},
): Promise<UploadResult> {
  if (!sftp.supports("posix-rename@openssh.com")) {
    throw new UploadError("E_SCP_NO_ATOMIC_RENAME", "The server's SFTP has no posix-rename@openssh.com, so the file cannot be replaced atomically", "Use an OpenSSH server (sftp-server or internal-sftp)");
  }
  const dir = posix.dirname(target.path);
  const temp = posix.join(dir, `.${posix.basename(target.path)}.opsterm-${randomBytes(6).toString("hex")}.tmp`);
  const mode = target.exists && !options.forceMode ? target.mode! : (options.mode ?? 0o644);
  const hash = createHash("sha256");
  const keepLimit = options.keepBytes ?? 0;
  let kept: Buffer[] | undefined = keepLimit > 0 ? [] : undefined;
  let keptBytes = 0;
  let written = 0;

  let file: SftpFile | undefined;
  let tempExists = false;
  let stage: "write" | "verify" | "rename" = "write";
  try {
    // 0600 while it fills: a half-written copy of a secret is never readable by others.
    file = await sftp.open(temp, "wx", 0o600);
    tempExists = true;
    written = await sftp.writeAll(
      file,
      source,
      (chunk) => {
        hash.update(chunk);
        if (kept) {
          keptBytes += chunk.length;
          if (keptBytes > keepLimit) kept = undefined;
          else kept.push(Buffer.from(chunk));
        }
        options.onProgress?.(chunk.length);
      },
      options.signal,
    );
    await sftp.fchmod(file, mode);
    const owner = await setOwner(sftp, file, target, options.owner ?? (target.exists ? { uid: target.uid!, gid: target.gid! } : undefined));
    const fsynced = sftp.supports("fsync@openssh.com");
    if (fsynced) await sftp.fsync(file);
    await sftp.close(file);
    file = undefined;

    const sha256 = hash.digest("hex");
    stage = "verify";
    const verifiedBy = await verify(conn, sftp, temp, sha256, options.signal);
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("aborted");
    if (options.expectSha256 !== undefined) await checkUnchanged(conn, sftp, target.path, options.expectSha256, options.signal);
    stage = "rename";
    await sftp.rename(temp, target.path);
    tempExists = false;
    return { path: target.path, bytes: written, sha256, mode, uid: owner.uid, gid: owner.gid, replaced: target.exists, verifiedBy, fsynced, content: kept ? Buffer.concat(kept) : undefined };
  } catch (error) {
    if (file) await sftp.close(file).catch(() => undefined);
    if (tempExists) await sftp.unlink(temp).catch(() => undefined);
    if (error instanceof UploadError || options.signal?.aborted) throw error;
    const why = error instanceof Error ? error.message : String(error);
    if (stage === "rename") {
      throw new UploadError("E_SCP_RENAME", `Replacing ${target.path} failed: ${why}; the target may or may not hold the new content`, "Check the file with opsterm get, then retry", error);
    }
    // SFTP "no such file" when creating the temporary file: its directory is missing.
    if (stage === "write" && !tempExists && isNoSuchFile(error)) {
      const dir = target.path.replace(/\/[^/]*$/, "") || "/";
      throw new UploadError("E_SCP_NO_DIR", `The directory ${dir} does not exist on the server, so ${target.path} was not written`, `Create it first (opsterm exec <server> -- mkdir -p ${dir}), or check the path`, error);
    }
    const kept = target.exists ? "the old file is intact" : "no file was created";
    throw new UploadError("E_SCP_WRITE", `Writing ${target.path} failed during ${stage}: ${why}; ${kept}`, "Check the connection and free space on the server, then retry", error);
  }
}

/** The target still holds what the caller decided on (re-checked as late as possible: just before the rename). */
export async function checkUnchanged(conn: Pick<Connection, "exec">, sftp: Sftp, path: string, expected: string | null, signal?: AbortSignal): Promise<void> {
  const stats = await sftp.stat(path);
  let actual: string | null = null;
  if (stats) {
    actual = (await sha256sum(conn, path)) ?? null;
    if (actual === null) {
      const file = await sftp.open(path, "r");
      const hash = createHash("sha256");
      try {
        await sftp.readAll(file, (chunk) => void hash.update(chunk), signal);
      } finally {
        await sftp.close(file).catch(() => undefined);
      }
      actual = hash.digest("hex");
    }
  }
  if (actual === expected) return;
  const was = expected === null ? "did not exist" : `had sha256 ${expected.slice(0, 16)}…`;
  const now = actual === null ? "is gone" : `has sha256 ${actual.slice(0, 16)}…`;
  throw new UploadError("E_PRECONDITION", `${path} changed since it was read: it ${was} and now ${now}; nothing was replaced`, "Read it again and redo the change on the current content");
}

/** Gives the temp file `owner` (the replaced file's, or the one an undo restores); returns the owner it has. */
async function setOwner(sftp: Sftp, file: SftpFile, target: TargetInfo, owner: { uid: number; gid: number } | undefined): Promise<{ uid: number; gid: number }> {
  const now = await sftp.fstat(file);
  if (!owner || (now.uid === owner.uid && now.gid === owner.gid)) return { uid: now.uid, gid: now.gid };
  try {
    await sftp.fchown(file, owner.uid, owner.gid);
  } catch (error) {
    const whose = target.exists && target.uid === owner.uid && target.gid === owner.gid ? "belongs to" : "must belong to";
    throw new UploadError(
      "E_SCP_OWNER",
      `${target.path} ${whose} uid ${owner.uid} gid ${owner.gid}, and the new copy could not be given that owner`,
      "Connect as the file's owner (or root), so the file gets its owner",
      error,
    );
  }
  return owner;
}

/**
 * Checks the temp file's content before it replaces anything: `sha256sum` over exec when the
 * account has a shell, else a full re-read through SFTP (sftp-only accounts).
 */
async function verify(conn: Pick<Connection, "exec">, sftp: Sftp, path: string, expected: string, signal?: AbortSignal): Promise<"sha256sum" | "sftp"> {
  const remote = await sha256sum(conn, path);
  if (remote !== undefined) {
    if (remote !== expected) throw mismatch(path, expected, remote);
    return "sha256sum";
  }
  const file = await sftp.open(path, "r");
  const hash = createHash("sha256");
  try {
    await sftp.readAll(file, (chunk) => void hash.update(chunk), signal);
  } finally {
    await sftp.close(file).catch(() => undefined);
  }
  const actual = hash.digest("hex");
  if (actual !== expected) throw mismatch(path, expected, actual);
  return "sftp";
}

function mismatch(path: string, expected: string, actual: string): UploadError {
  return new UploadError("E_SCP_CHECKSUM", `The uploaded copy ${path} has sha256 ${actual.slice(0, 16)}…, expected ${expected.slice(0, 16)}…; the target was not replaced`, "Retry the transfer; if it repeats, check the remote disk");
}

/** Runs `sha256sum` on the remote file; undefined when the command is not available (or did not answer). */
export async function sha256sum(conn: Pick<Connection, "exec">, path: string): Promise<string | undefined> {
  const r = await conn.exec(`sha256sum -- ${shellQuote(path)}`, { maxCapture: 4096 });
  // sha256sum prefixes the line with "\" when the name holds a backslash or newline.
  const match = /^\\?([0-9a-f]{64})\s/.exec(r.stdout);
  return r.exitCode === 0 && match ? match[1] : undefined;
}
