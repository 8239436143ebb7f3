/**
 * What is on this process's stdin, asked without blocking: a fan-out must refuse piped input it
 * would otherwise drop, yet never hang on a pipe its parent left open and idle (CI runners,
 * `ssh host opsterm …`).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { UsageError } from "../kernel/errors.ts";

/**
 * True when data is waiting on stdin right now: a non-empty file redirected in, or a pipe with
 * bytes in it. A pipe whose writer is still quiet reads as no input; /dev/null and terminals too.
 */
export function hasPipedInput(fd = 0): boolean {
  let stat;
  try {
    stat = fstatSync(fd);
  } catch {
    return false;
  }
  if (stat.isFile()) return stat.size > 0;
  if (!stat.isFIFO()) return false;
  // A second, non-blocking descriptor on the same pipe: peeking consumes, but input that is
  // there is refused anyway.
  let probe: number | undefined;
  try {
    probe = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    return readSync(probe, Buffer.alloc(1), 0, 1, null) > 0;
  } catch {
    return false;
  } finally {
    if (probe !== undefined) closeSync(probe);
  }
}

/** Reads a stream to its end, refusing more than `limit` bytes (the input is held in memory). */
export async function readAll(stream: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) {
      throw new UsageError(`More than ${Math.round(limit / 1024 / 1024)} MiB on stdin`, { code: "E_STDIN_TOO_LARGE", hint: "A fan-out holds its input in memory to send it to every host; copy the file with scp and read it there" });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
