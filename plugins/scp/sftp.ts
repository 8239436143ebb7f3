/**
 * A promise-shaped view of one ssh2 SFTP session, with the OpenSSH extensions the transfer code
 * relies on (fsync@openssh.com, posix-rename@openssh.com) and pipelined reads and writes: SFTP
 * is request/response, so one request at a time is slow over any real link.
 */
import type { Client, SFTPWrapper, Stats } from "ssh2";

/** SSH_FX_NO_SUCH_FILE: the one status that means "absent" rather than "failed". */
const NO_SUCH_FILE = 2;
/** Requests kept in flight while streaming (OpenSSH's own sftp client uses 64). */
const WINDOW = 32;
const CHUNK = 32 * 1024;

export interface SftpFile {
  path: string;
  handle: Buffer;
}

export interface Sftp {
  /** True when the server offers the extension (`fsync@openssh.com`, `posix-rename@openssh.com`). */
  supports(extension: string): boolean;
  stat(path: string): Promise<Stats | null>;
  lstat(path: string): Promise<Stats | null>;
  realpath(path: string): Promise<string>;
  open(path: string, flags: string, mode?: number): Promise<SftpFile>;
  close(file: SftpFile): Promise<void>;
  fstat(file: SftpFile): Promise<Stats>;
  fsync(file: SftpFile): Promise<void>;
  fchmod(file: SftpFile, mode: number): Promise<void>;
  fchown(file: SftpFile, uid: number, gid: number): Promise<void>;
  /** Atomic replace of `to` (posix-rename@openssh.com). */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, mode?: number): Promise<void>;
  readdir(path: string): Promise<{ filename: string; attrs: Stats }[]>;
  /** Writes `source` from offset 0 with up to WINDOW writes in flight; returns the bytes written. */
  writeAll(file: SftpFile, source: AsyncIterable<Uint8Array>, onChunk?: (chunk: Buffer) => void, signal?: AbortSignal): Promise<number>;
  /** Reads the file from offset 0 to EOF with pipelined requests, calling `onChunk` in order. */
  readAll(file: SftpFile, onChunk: (chunk: Buffer) => void | Promise<void>, signal?: AbortSignal, sizeHint?: number): Promise<number>;
  /** False once the channel or its connection has closed. */
  alive(): boolean;
  /** Closes the SFTP channel; the (pooled) connection stays open for the next action. */
  end(): void;
}

/** An SFTP failure with the path it concerns and the SSH_FX status code. */
export class SftpError extends Error {
  readonly status: number | undefined;
  readonly path: string;
  constructor(op: string, path: string, cause: unknown) {
    const e = cause as { code?: unknown; message?: string };
    super(`${op} ${path}: ${e?.message ?? String(cause)}`, { cause });
    this.name = "SftpError";
    this.path = path;
    this.status = typeof e?.code === "number" ? e.code : undefined;
  }
}

export function isNoSuchFile(error: unknown): boolean {
  return (error as { code?: unknown; status?: unknown })?.code === NO_SUCH_FILE || (error as SftpError)?.status === NO_SUCH_FILE;
}

export function openSftp(client: Client): Promise<Sftp> {
  return new Promise((resolve, reject) => {
    client.sftp((error, raw) => (error ? reject(error) : resolve(wrap(raw, client))));
  });
}

function wrap(raw: SFTPWrapper, client: Client): Sftp {
  const extensions = (raw as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
  // ssh2 never answers requests that were in flight when the connection died; every wait below
  // races this promise, so a dropped link fails the transfer instead of hanging it.
  let lostError: SftpError | undefined;
  let detach = () => {};
  const lost = new Promise<never>((_, reject) => {
    const fail = () => {
      lostError ??= new SftpError("transfer", "", new Error("the connection was lost"));
      reject(lostError);
    };
    raw.once("close", fail);
    client.once("close", fail);
    client.once("end", fail);
    detach = () => {
      client.off("close", fail);
      client.off("end", fail);
    };
  });
  lost.catch(() => undefined);
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, lost]);
  // Every callback-style call funnels through here, so a call that throws synchronously (ssh2
  // does for unsupported extensions and closed channels) rejects instead of escaping.
  const call = <T>(op: string, path: string, fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T> =>
    guard(
      new Promise<T>((resolve, reject) => {
        try {
          fn((err, value) => (err ? reject(new SftpError(op, path, err)) : resolve(value as T)));
        } catch (error) {
          reject(new SftpError(op, path, error));
        }
      }),
    );
  const orNull = async (p: Promise<Stats>): Promise<Stats | null> => {
    try {
      return await p;
    } catch (error) {
      if (isNoSuchFile(error)) return null;
      throw error;
    }
  };

  let closed = false;
  raw.once("close", () => (closed = true));
  const sftp: Sftp = {
    supports: (name) => extensions[name] !== undefined,
    alive: () => !closed && lostError === undefined,
    end() {
      detach();
      raw.end();
    },
    stat: (path) => orNull(call("stat", path, (cb) => raw.stat(path, cb))),
    lstat: (path) => orNull(call("lstat", path, (cb) => raw.lstat(path, cb))),
    realpath: (path) => call("realpath", path, (cb) => raw.realpath(path, cb)),
    async open(path, flags, mode) {
      const handle = await call<Buffer>("open", path, (cb) => raw.open(path, flags as "r", mode === undefined ? {} : { mode }, cb));
      return { path, handle };
    },
    close: (file) => call("close", file.path, (cb) => raw.close(file.handle, cb)),
    fstat: (file) => call("fstat", file.path, (cb) => raw.fstat(file.handle, cb)),
    fsync: (file) => call("fsync", file.path, (cb) => raw.ext_openssh_fsync(file.handle, cb)),
    fchmod: (file, mode) => call("chmod", file.path, (cb) => raw.fchmod(file.handle, mode, cb)),
    fchown: (file, uid, gid) => call("chown", file.path, (cb) => raw.fchown(file.handle, uid, gid, cb)),
    rename: (from, to) => call("rename", to, (cb) => raw.ext_openssh_rename(from, to, cb)),
    unlink: (path) => call("unlink", path, (cb) => raw.unlink(path, cb)),
    mkdir: (path, mode) => call("mkdir", path, (cb) => raw.mkdir(path, mode === undefined ? {} : { mode }, cb)),
    readdir: (path) => call("readdir", path, (cb) => raw.readdir(path, cb)),
    writeAll: (file, source, onChunk, signal) => writeAll(raw, guard, file, source, onChunk, signal),
    readAll: (file, onChunk, signal, sizeHint) => readAll(raw, guard, file, onChunk, signal, sizeHint),
  };
  return sftp;
}

type Guard = <T>(p: Promise<T>) => Promise<T>;

async function writeAll(
  raw: SFTPWrapper,
  guard: Guard,
  file: SftpFile,
  source: AsyncIterable<Uint8Array>,
  onChunk?: (chunk: Buffer) => void,
  signal?: AbortSignal,
): Promise<number> {
  let offset = 0;
  let failure: unknown;
  const inflight = new Set<Promise<void>>();
  const send = (buf: Buffer, position: number) => {
    const p = new Promise<void>((resolve) => {
      try {
        raw.write(file.handle, buf, 0, buf.length, position, (err) => {
          if (err) failure ??= new SftpError("write", file.path, err);
          resolve();
        });
      } catch (error) {
        failure ??= new SftpError("write", file.path, error);
        resolve();
      }
    }).finally(() => inflight.delete(p));
    inflight.add(p);
  };
  for await (const piece of source) {
    if (signal?.aborted) throw signal.reason ?? new Error("aborted");
    if (failure) throw failure;
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    onChunk?.(chunk);
    // Slice big chunks so the window bounds memory, not the size of whatever the source yields.
    for (let at = 0; at < chunk.length; at += CHUNK) {
      const part = chunk.subarray(at, Math.min(at + CHUNK, chunk.length));
      send(part, offset);
      offset += part.length;
      while (inflight.size >= WINDOW) await guard(Promise.race(inflight));
      if (failure) throw failure;
    }
  }
  await guard(Promise.all(inflight));
  if (failure) throw failure;
  return offset;
}

async function readAll(raw: SFTPWrapper, guard: Guard, file: SftpFile, onChunk: (chunk: Buffer) => void | Promise<void>, signal?: AbortSignal, sizeHint?: number): Promise<number> {
  // Past the size fstat reported, one request at a time: it finds EOF (or growth) without a
  // window full of EOF answers.
  const limit = sizeHint ?? Infinity;
  let next = 0; // offset of the next request to issue
  let delivered = 0; // bytes handed to onChunk, in order
  let eof = false;
  const queue: { position: number; result: Promise<Buffer> }[] = [];
  const request = (position: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      try {
        raw.read(file.handle, Buffer.allocUnsafe(CHUNK), 0, CHUNK, position, (err, bytes, data) =>
          err ? reject(new SftpError("read", file.path, err)) : resolve(bytes ? data.subarray(0, bytes) : Buffer.alloc(0)),
        );
      } catch (error) {
        reject(new SftpError("read", file.path, error));
      }
    });
  const fill = () => {
    while (!eof && queue.length < WINDOW && (next < limit || queue.length === 0)) {
      const result = request(next);
      result.catch(() => undefined); // awaited in order below; never an unhandled rejection
      queue.push({ position: next, result });
      next += CHUNK;
    }
  };
  fill();
  while (queue.length) {
    if (signal?.aborted) throw signal.reason ?? new Error("aborted");
    const head = queue.shift()!;
    const data = await guard(head.result);
    if (data.length === 0) {
      eof = true;
      await guard(Promise.allSettled(queue.map((q) => q.result)));
      break;
    }
    await onChunk(data);
    delivered += data.length;
    if (data.length < CHUNK) {
      // A short read: the file may have ended, or the server split it. Drop what is in flight
      // and ask again from where the data stopped; the next read tells which.
      await guard(Promise.allSettled(queue.map((q) => q.result)));
      queue.length = 0;
      next = head.position + data.length;
    }
    fill();
  }
  return delivered;
}

/** `Stats.mode` holds the file type too; callers want the permission bits. */
export function permissionBits(stats: Stats): number {
  return stats.mode & 0o7777;
}
