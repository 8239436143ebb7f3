/**
 * history.db read on demand: sql.js keeps its database in emscripten's in-memory file system
 * (MEMFS), and `new SQL.Database(bytes)` wants the whole file up front (50 MB for 100k entries,
 * tens of milliseconds to read and copy). A search touches a few hundred pages of it.
 *
 * MEMFS keeps a file's bytes in `node.contents` and only ever uses four things of it (checked
 * against sql.js 1.16.0, sql-wasm.js and sql-wasm-debug.js):
 *   - read:   `buffer.set(contents.subarray(pos, pos + n), offset)`, within `node.usedBytes`;
 *   - write:  `if (contents.length < end) expand (copy out with subarray(0, usedBytes) into a new
 *             Uint8Array)`, then `contents.set(src, pos)`; `usedBytes` grows by itself;
 *   - resize (truncate) and mmap: `contents.subarray(...)` copied into a new array.
 * And `createDataFile` stores the data it is given with `data.slice(0, data.length)` when the
 * file is new (MEMFS.write on an empty file at position 0, canOwn unset).
 *
 * So a PagedFile passed as the data becomes the file's contents: `subarray` reads the range from
 * the file (positional reads on an open descriptor) and lays the pages written so far over it;
 * `set` writes into that copy-on-write overlay only; `length` is huge so MEMFS never reallocates.
 * Any other use MEMFS might make of it (resize, expand) copies it into a plain Uint8Array through
 * `subarray`, which is correct, only not lazy.
 *
 * The descriptor pins the file version that was opened: opsterm replaces history.db by rename,
 * never in place, so a concurrent compaction does not change what this reader sees.
 */
import { closeSync, fstatSync, readSync } from "node:fs";

/** Granularity of the overlay (SQLite writes whole pages of 512..65536 bytes at page-aligned offsets). */
const CHUNK = 4096;

export class PagedFile {
  /** Capacity as MEMFS sees it: never "too small", so it never copies the file into a new array. */
  readonly length = Number.MAX_SAFE_INTEGER;
  /** Chunk index → bytes written over the file (or past its end). */
  private readonly overlay = new Map<number, Uint8Array>();
  /** Set once MEMFS has adopted this object as the file's contents (see `asInitialData`). */
  adopted = false;
  private closed = false;
  /** Bytes read from the file so far (for tests and debugging). */
  bytesRead = 0;

  private readonly fd: number;
  /** Size of the file on disk when opened. */
  readonly size: number;

  constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  static open(fd: number): PagedFile {
    return new PagedFile(fd, Number(fstatSync(fd).size));
  }

  /**
   * What to pass to `new SQL.Database(...)`: MEMFS checks `subarray` exists (a typed array), reads
   * `length` and stores `slice(0, length)` as the contents, which returns this PagedFile.
   */
  asInitialData(): Uint8Array {
    const initial = {
      length: this.size,
      byteLength: this.size,
      subarray: (start?: number, end?: number) => this.subarray(start, end),
      slice: (start?: number, end?: number) => {
        if ((start ?? 0) !== 0 || (end ?? this.size) !== this.size) return this.subarray(start, end);
        this.adopted = true;
        return this;
      },
    };
    return initial as unknown as Uint8Array;
  }

  /** A fresh copy of bytes [start, end): the file, with the overlay applied; zeros past both. */
  subarray(start = 0, end = this.length): Uint8Array {
    if (this.closed) throw new Error("history.db: read after close");
    start = Math.max(0, Math.floor(start));
    end = Math.max(start, Math.floor(end));
    const out = new Uint8Array(end - start);
    // From the file, what lies within it.
    const fileEnd = Math.min(end, this.size);
    let done = 0;
    while (start + done < fileEnd) {
      const n = readSync(this.fd, out, done, fileEnd - start - done, start + done);
      if (n === 0) break; // Shorter than when opened (changed in place by someone else): zeros.
      done += n;
    }
    this.bytesRead += done;
    // Then what was written over it.
    if (this.overlay.size) {
      const first = Math.floor(start / CHUNK);
      const last = Math.floor((end - 1) / CHUNK);
      if (last - first + 1 <= this.overlay.size) {
        for (let c = first; c <= last; c++) this.applyChunk(c, out, start, end);
      } else {
        for (const c of this.overlay.keys()) if (c >= first && c <= last) this.applyChunk(c, out, start, end);
      }
    }
    return out;
  }

  slice(start?: number, end?: number): Uint8Array {
    return this.subarray(start, end);
  }

  /** Writes `src` at `pos`: into the overlay; the file on disk is never written. */
  set(src: ArrayLike<number>, pos = 0): void {
    if (this.closed) throw new Error("history.db: write after close");
    const bytes = src instanceof Uint8Array ? src : Uint8Array.from(src);
    let done = 0;
    while (done < bytes.length) {
      const at = pos + done;
      const c = Math.floor(at / CHUNK);
      let chunk = this.overlay.get(c);
      if (!chunk) {
        // Copy on write: the chunk's current bytes, so a partial write keeps the rest.
        chunk = this.subarray(c * CHUNK, (c + 1) * CHUNK);
        this.overlay.set(c, chunk);
      }
      const offset = at - c * CHUNK;
      const n = Math.min(CHUNK - offset, bytes.length - done);
      chunk.set(bytes.subarray(done, done + n), offset);
      done += n;
    }
  }

  private applyChunk(c: number, out: Uint8Array, start: number, end: number): void {
    const chunk = this.overlay.get(c);
    if (!chunk) return;
    const from = Math.max(start, c * CHUNK);
    const to = Math.min(end, (c + 1) * CHUNK);
    if (from < to) out.set(chunk.subarray(from - c * CHUNK, to - c * CHUNK), from - start);
  }

  /** Chunks written so far (for tests). */
  get overlayChunks(): number {
    return this.overlay.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.overlay.clear();
    closeSync(this.fd);
  }
}
