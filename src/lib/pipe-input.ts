/**
 * Feeds a command's stdin: bytes in hand are written at once, a stream is pumped with
 * backpressure (a `pg_dump` larger than memory flows through), then EOF. A sink that closes
 * early (the command exited without reading) ends the pump quietly.
 */
import type { Writable } from "node:stream";

export type Input = string | Uint8Array | AsyncIterable<Uint8Array>;

export function pipeInput(sink: Writable, input: Input | undefined): void {
  sink.on("error", () => {}); // EPIPE: the command did not read all of it, as with a shell pipe
  if (input === undefined || typeof input === "string" || input instanceof Uint8Array) {
    sink.end(input === undefined ? undefined : Buffer.from(input));
    return;
  }
  let closed = false;
  sink.once("close", () => (closed = true));
  void (async () => {
    try {
      for await (const chunk of input) {
        if (closed) return;
        if (!sink.write(chunk)) await drained(sink);
      }
    } catch {
      // The input failed mid-way: the command sees EOF.
    }
    if (!closed) sink.end();
  })();
}

function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off("drain", done);
      sink.off("close", done);
      resolve();
    };
    sink.on("drain", done);
    sink.on("close", done);
  });
}
