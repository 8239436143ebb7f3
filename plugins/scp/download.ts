/**
 * Reading remote files over SFTP: into a stream (stdout), into memory (snapshots, the `files`
 * service), or into a local file that appears atomically (temp + fsync + rename).
 */
import { createHash, randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { permissionBits, type Sftp } from "./sftp.ts";
import { UploadError } from "./upload.ts";

export interface ReadResult {
  bytes: number;
  sha256: string;
  mode: number;
}

export interface ReadOptions {
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** Streams a remote regular file to `sink`, in order; returns its size, hash and mode. */
export async function readRemote(sftp: Sftp, path: string, sink: (chunk: Buffer) => void | Promise<void>, options: ReadOptions = {}): Promise<ReadResult> {
  const file = await sftp.open(path, "r");
  try {
    const stats = await sftp.fstat(file);
    if (stats.isDirectory()) throw new UploadError("E_SCP_IS_DIR", `${path} is a directory`, "Use scp -r to copy a directory");
    const hash = createHash("sha256");
    const bytes = await sftp.readAll(
      file,
      async (chunk) => {
        hash.update(chunk);
        options.onProgress?.(chunk.length);
        await sink(chunk);
      },
      options.signal,
      stats.size,
    );
    return { bytes, sha256: hash.digest("hex"), mode: permissionBits(stats) };
  } finally {
    await sftp.close(file).catch(() => undefined);
  }
}

/** Reads a whole remote file into memory, or returns null when it does not exist. Refuses files over `limit`. */
export async function readRemoteBuffer(sftp: Sftp, path: string, limit: number, options: ReadOptions = {}): Promise<{ content: Buffer; result: ReadResult } | null> {
  const stats = await sftp.stat(path);
  if (!stats) return null;
  if (stats.size > limit) throw new UploadError("E_SCP_TOO_BIG", `${path} is ${stats.size} bytes, more than the ${limit} this read allows`, "Use opsterm get <server> <path> <local-file> for large files");
  const parts: Buffer[] = [];
  let total = 0;
  const result = await readRemote(
    sftp,
    path,
    (chunk) => {
      total += chunk.length;
      if (total > limit) throw new UploadError("E_SCP_TOO_BIG", `${path} grew past ${limit} bytes while being read`);
      parts.push(Buffer.from(chunk));
    },
    options,
  );
  return { content: Buffer.concat(parts), result };
}

/**
 * Downloads to a local file atomically: a temp file beside it, fsync, rename. The local file gets
 * the remote mode (without set-id bits) unless it already exists, in which case it keeps its own.
 */
export async function downloadToFile(sftp: Sftp, remote: string, local: string, existingMode: number | undefined, options: ReadOptions = {}): Promise<ReadResult> {
  const temp = join(dirname(local), `.${basename(local)}.opsterm-${randomBytes(6).toString("hex")}.tmp`);
  const file = await open(temp, "wx", 0o600);
  let closed = false;
  try {
    const result = await readRemote(
      sftp,
      remote,
      async (chunk) => {
        for (let at = 0; at < chunk.length; ) at += (await file.write(chunk, at)).bytesWritten;
      },
      options,
    );
    await file.chmod(existingMode ?? result.mode & 0o777);
    await file.sync();
    await file.close();
    closed = true;
    await rename(temp, local);
    return result;
  } catch (error) {
    if (!closed) await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
