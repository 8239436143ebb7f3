/**
 * Piped stdin for `cmd | opsterm`: read with a byte cap (head) and a bounded tail ring, stop after
 * a hard read limit, so a 1 GB (or endless) stream never lands in memory; then neutralise
 * binary data and terminal escape sequences and fit the text to a token budget.
 */
import type { Readable } from "node:stream";

export interface PipeInput {
  text: string;
  /** Bytes received (up to the read limit). */
  bytesRead: number;
  /** True when bytes were dropped between head and tail (or after the read limit). */
  truncated: boolean;
  /** Bytes left out of the middle. */
  omittedBytes: number;
  /** True when the stream was still going when we stopped reading. */
  stoppedEarly: boolean;
  /** Looked like binary data. */
  binary: boolean;
  /** Escape sequences and control characters removed or replaced. */
  neutralised: number;
}

export interface ReadOptions {
  /** Bytes kept in total (head + tail). */
  maxBytes: number;
  /** Stop reading after this many bytes even if the stream goes on (default max(16 × maxBytes, 64 MiB)). */
  readLimit?: number;
  signal?: AbortSignal;
  /** Called with the first chunk's size (to stop a "waiting for stdin" note). */
  onFirstData?: (bytes: number) => void;
}

/** Reads a stream keeping at most `maxBytes` (half head, half tail). Memory stays O(maxBytes). */
export async function readCapped(stream: Readable, options: ReadOptions): Promise<{ head: Buffer; tail: Buffer; total: number; stoppedEarly: boolean }> {
  const headCap = Math.ceil(options.maxBytes / 2);
  const tailCap = options.maxBytes - headCap;
  const readLimit = options.readLimit ?? Math.max(options.maxBytes * 16, 64 * 1024 * 1024);
  const head: Buffer[] = [];
  let headSize = 0;
  const ring: Buffer[] = [];
  let ringSize = 0;
  let total = 0;
  let stoppedEarly = false;
  const iterator = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      const { value, done } = await iterator.next();
      if (done) break;
      let chunk: Buffer = typeof value === "string" ? Buffer.from(value) : Buffer.from(value as Uint8Array);
      if (total === 0 && chunk.length > 0) options.onFirstData?.(chunk.length);
      total += chunk.length;
      if (headSize < headCap) {
        const take = Math.min(headCap - headSize, chunk.length);
        head.push(chunk.subarray(0, take));
        headSize += take;
        chunk = chunk.subarray(take);
      }
      if (chunk.length && tailCap > 0) {
        ring.push(chunk.length > tailCap ? Buffer.from(chunk.subarray(chunk.length - tailCap)) : Buffer.from(chunk));
        ringSize += ring[ring.length - 1].length;
        while (ringSize - ring[0].length >= tailCap) ringSize -= ring.shift()!.length;
      }
      if (total >= readLimit) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    if (stoppedEarly) {
      // Stop the producer: it gets EPIPE instead of filling our memory.
      await iterator.return?.();
      stream.destroy();
    }
  }
  let tail = Buffer.concat(ring);
  if (tail.length > tailCap) tail = tail.subarray(tail.length - tailCap);
  return { head: Buffer.concat(head), tail, total, stoppedEarly };
}

// CSI, OSC (BEL or ST terminated), DCS/PM/APC strings, and two-character ESC sequences.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_][^\x1b]*(?:\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls except tab and newline, DEL, C1 controls, lone ESC.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Removes terminal escape sequences and replaces other control characters; `\r\n` becomes `\n`. */
export function neutralise(text: string): { text: string; count: number } {
  let count = 0;
  let out = text.replace(/\r\n/g, "\n").replace(ESCAPES, () => {
    count++;
    return "";
  });
  // A progress bar's carriage returns: keep only what the terminal would finally show.
  if (out.includes("\r")) {
    out = out
      .split("\n")
      .map((line) => {
        const trimmed = line.replace(/\r+$/, "");
        const cut = trimmed.lastIndexOf("\r");
        return cut === -1 ? trimmed : trimmed.slice(cut + 1);
      })
      .join("\n");
  }
  out = out.replace(CONTROLS, () => {
    count++;
    return "\uFFFD";
  });
  return { text: out, count };
}

function looksBinary(buf: Buffer): boolean {
  const sample = buf.subarray(0, 8192);
  if (sample.length === 0) return false;
  let odd = 0;
  for (const b of sample) {
    if (b === 0) return true;
    if (b < 7 || (b > 13 && b < 27) || (b > 27 && b < 32)) odd++;
  }
  return odd / sample.length > 0.1;
}

/** How far from a cut to look for whitespace (the longest secret pattern body). */
const EDGE = 4096;

/**
 * Drops the partial word at a cut: the end of a head piece, the start of a tail piece. A secret
 * cut in two no longer matches the redactor's patterns, so its visible half would otherwise reach
 * the provider (e.g. 32 of a GitHub token's 40 characters).
 */
function wholeWords(piece: string, side: "head" | "tail"): string {
  if (side === "head") {
    const from = Math.max(0, piece.length - EDGE);
    const ws = piece.slice(from).search(/\s[^\s]*$/);
    return ws === -1 ? piece.slice(0, from) : piece.slice(0, from + ws + 1);
  }
  const window = piece.slice(0, EDGE);
  const ws = window.search(/\s/);
  return ws === -1 ? piece.slice(window.length) : piece.slice(ws);
}

/** Joins head and tail (with `omitted` bytes between them) into at most `maxChars`, with a visible marker. */
export function fitText(head: string, tail: string | undefined, omitted: number, maxChars: number): { text: string; omittedBytes: number; truncated: boolean } {
  if (tail === undefined) {
    if (head.length <= maxChars) return { text: head, omittedBytes: 0, truncated: false };
    tail = head;
    const half = Math.floor(maxChars / 2);
    const cutHead = wholeWords(head.slice(0, half), "head");
    const cutTail = wholeWords(tail.slice(tail.length - (maxChars - half)), "tail");
    omitted += Buffer.byteLength(head.slice(cutHead.length, head.length - cutTail.length));
    return { text: `${cutHead}\n${marker(omitted)}\n${cutTail}`, omittedBytes: omitted, truncated: true };
  }
  // Here head and tail were already cut from the stream: their inner edges may split a word.
  const half = Math.floor(maxChars / 2);
  const h = wholeWords(head.length > half ? head.slice(0, half) : head, "head");
  const room = maxChars - h.length;
  const t = wholeWords(tail.length > room ? tail.slice(tail.length - room) : tail, "tail");
  omitted += Buffer.byteLength(head.slice(h.length)) + Buffer.byteLength(tail.slice(0, tail.length - t.length));
  return { text: `${h}\n${marker(omitted)}\n${t}`, omittedBytes: omitted, truncated: true };
}

export function marker(omittedBytes: number): string {
  return `[… opsterm: ${formatBytes(omittedBytes)} of input omitted here …]`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Roughly 4 characters per token for English text and logs. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Reads piped input and returns text ready for the prompt: at most `maxBytes` read into memory,
 * at most `maxTokens` (estimated) returned.
 */
export async function readPipeInput(stream: Readable, options: ReadOptions & { maxTokens: number }): Promise<PipeInput> {
  const { head, tail, total, stoppedEarly } = await readCapped(stream, options);
  const binary = looksBinary(head);
  const decode = (b: Buffer) => new TextDecoder("utf-8", { fatal: false }).decode(b);
  const midOmitted = total - head.length - tail.length;
  const split = midOmitted > 0 || stoppedEarly;
  const h = neutralise(split ? decode(head) : decode(Buffer.concat([head, tail])));
  const t = split ? neutralise(decode(tail)) : undefined;
  const maxChars = Math.max(256, options.maxTokens * 4);
  const fitted = fitText(h.text, t?.text, Math.max(0, midOmitted), maxChars);
  let text = fitted.text;
  if (stoppedEarly) text += `\n[… opsterm: stopped reading after ${formatBytes(total)}; the input went on …]`;
  return {
    text,
    bytesRead: total,
    truncated: fitted.truncated || stoppedEarly,
    omittedBytes: fitted.omittedBytes,
    stoppedEarly,
    binary,
    neutralised: h.count + (t?.count ?? 0),
  };
}
